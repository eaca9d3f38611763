/**
 * fleet/tenants/rds-ca/global-bundle.pem: AWS's RDS global certificate bundle, vendored because the
 * containers verify RDS's TLS certificates against it. These tests check that the file is what it
 * claims to be (see fleet/tenants/rds-ca/README.md for its source and how to refresh it).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const BUNDLE_PATH = join(__dirname, "..", "fleet", "tenants", "rds-ca", "global-bundle.pem");
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;
/** Node writes distinguished names one attribute a line, escaping the comma in "Web Services, Inc.". */
const AMAZON_RDS_NAME = /^O=Amazon Web Services\\?, Inc\.$(?=[\s\S]*^OU=Amazon RDS$)(?=[\s\S]*^CN=Amazon RDS )/m;

const text = readFileSync(BUNDLE_PATH, "utf8");
const blocks = text.match(PEM_BLOCK) ?? [];
const certificates = blocks.map((pem) => new X509Certificate(pem));

function commonName(name: string): string {
    return /^CN=(.*)$/m.exec(name)?.[1] ?? "";
}

function isSelfSigned(cert: X509Certificate): boolean {
    return cert.subject === cert.issuer && cert.checkIssued(cert);
}

function issuersOf(cert: X509Certificate): X509Certificate[] {
    return certificates.filter((candidate) => candidate.subject === cert.issuer && cert.checkIssued(candidate));
}

test("the bundle holds nothing but PEM certificate blocks, each of which parses", () => {
    assert.ok(blocks.length > 0, "no certificate in the bundle");
    assert.equal(text.split("-----BEGIN").length - 1, blocks.length, "a BEGIN line that is not a whole certificate block");
    assert.equal(text.replace(PEM_BLOCK, "").trim(), "", "text outside the certificate blocks");
    assert.equal(certificates.length, blocks.length);
});

test("every certificate is a certificate authority of Amazon RDS", () => {
    for (const cert of certificates) {
        const name = commonName(cert.subject);
        assert.equal(cert.ca, true, `${name} is not a CA (basicConstraints CA:FALSE)`);
        assert.match(cert.subject, AMAZON_RDS_NAME, `subject of ${name}`);
        assert.match(cert.issuer, AMAZON_RDS_NAME, `issuer of ${name}`);
    }
});

test("every certificate appears once", () => {
    const fingerprints = certificates.map((cert) => cert.fingerprint256);
    assert.equal(new Set(fingerprints).size, fingerprints.length);
});

test("every self-signed root verifies against its own public key", () => {
    const roots = certificates.filter((cert) => cert.subject === cert.issuer);
    assert.ok(roots.length > 0, "no root in the bundle");
    for (const root of roots) {
        assert.ok(root.verify(root.publicKey), `${commonName(root.subject)} is not signed by its own key`);
    }
});

test("every certificate that is not self-signed has its issuer in the bundle and verifies against it", () => {
    for (const cert of certificates.filter((c) => !isSelfSigned(c))) {
        const issuers = issuersOf(cert);
        const name = commonName(cert.subject);
        assert.ok(issuers.length > 0, `the issuer of ${name} (${commonName(cert.issuer)}) is not in the bundle`);
        assert.ok(
            issuers.some((issuer) => cert.verify(issuer.publicKey)),
            `${name} does not verify against ${commonName(cert.issuer)}`,
        );
    }
});

test("it covers us-east-1, eu-west-1 and ap-southeast-1 with an RSA2048 G1 root", () => {
    for (const region of ["us-east-1", "eu-west-1", "ap-southeast-1"]) {
        const cn = `Amazon RDS ${region} Root CA RSA2048 G1`;
        const root = certificates.find((cert) => commonName(cert.subject) === cn);
        assert.ok(root, `no ${cn}`);
        assert.ok(isSelfSigned(root) && root.verify(root.publicKey), `${cn} is not a self-signed root`);
    }
});

test("the G1 roots for those regions are valid well beyond today", () => {
    const inFiveYears = Date.now() + 5 * 365 * 24 * 3600 * 1000;
    for (const region of ["us-east-1", "eu-west-1", "ap-southeast-1"]) {
        for (const kind of ["RSA2048", "RSA4096", "ECC384"]) {
            const cn = `Amazon RDS ${region} Root CA ${kind} G1`;
            const root = certificates.find((cert) => commonName(cert.subject) === cn);
            assert.ok(root, `no ${cn}`);
            assert.ok(Date.parse(root.validFrom) <= Date.now(), `${cn} is not yet valid`);
            assert.ok(Date.parse(root.validTo) > inFiveYears, `${cn} expires ${root.validTo}`);
        }
    }
});
