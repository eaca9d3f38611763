/**
 * What `npm run restore` checks before it changes anything.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { keyFingerprint, restoreRefusal } from "../fleet/containers/backup";
import { PROJECT_ROOT } from "./harness/runFleet";

const KEY = "the-tenant-key";
const manifest = (fields: object) => JSON.stringify({ format: 1, tenant: "acme", kind: "scheduled", n8nVersion: "2.41.1", keyFingerprint: keyFingerprint(KEY), ...fields });
const ACME = { tenantId: "acme", encryptionKey: KEY, deployedN8nVersion: "2.41.1" };

test("a set of the tenant, taken with the key in hand, may be restored", () => {
    assert.equal(restoreRefusal(manifest({}), ACME), undefined);
});

test("a set taken with another key is refused, naming both fingerprints", () => {
    const refusal = restoreRefusal(manifest({}), { ...ACME, encryptionKey: "another-tenants-key" });
    assert.match(refusal ?? "", /the encryption key in hand \(sha256:[0-9a-f]{64}\) is not the one this set was taken with \(sha256:[0-9a-f]{64}\): restored with it, no credential could be decrypted/);
});

test("a set of another tenant, or a file that is not a manifest, is refused", () => {
    assert.match(restoreRefusal(manifest({ tenant: "acme-eu" }), ACME) ?? "", /a set of tenant "acme-eu", not of "acme"/);
    assert.match(restoreRefusal("not json", ACME) ?? "", /not JSON/);
});

test("the fingerprint is a SHA-256 of the key, never the key", () => {
    assert.match(keyFingerprint(KEY), /^sha256:[0-9a-f]{64}$/);
    assert.ok(!keyFingerprint(KEY).includes(KEY));
    assert.notEqual(keyFingerprint(KEY), keyFingerprint(`${KEY}x`));
});

test("a set from a newer n8n than the deployed one is refused, with the version to deploy first; older and equal ones may be restored", () => {
    assert.match(
        restoreRefusal(manifest({ n8nVersion: "2.42.0" }), ACME) ?? "",
        /the data of n8n 2\.42\.0, newer than the deployed 2\.41\.1: n8n migrates a database up, never down\. Fix: deploy n8n 2\.42\.0 or later/,
    );
    assert.match(restoreRefusal(manifest({ n8nVersion: "2.41.10" }), { ...ACME, deployedN8nVersion: "2.41.9" }) ?? "", /newer than the deployed 2\.41\.9/, "compared as numbers, not text");
    assert.equal(restoreRefusal(manifest({ n8nVersion: "2.41.1" }), ACME), undefined);
    assert.equal(restoreRefusal(manifest({ n8nVersion: "2.9.0" }), ACME), undefined);
});

test("a set that records no version is refused unless the operator vouches for it; an older set's 'before X' counts as older than X", () => {
    assert.match(restoreRefusal(manifest({ n8nVersion: null }), ACME) ?? "", /records no n8n version .* run the restore again with --any-version/);
    assert.equal(restoreRefusal(manifest({ n8nVersion: null }), { ...ACME, anyVersion: true }), undefined);
    assert.equal(restoreRefusal(manifest({ n8nVersion: "before 2.41.1" }), ACME), undefined);
    assert.match(restoreRefusal(manifest({ n8nVersion: "before 2.42.0" }), ACME) ?? "", /records "before 2\.42\.0"/);
});

test("npm run restore without --from says which set is missing and where the sets are listed, and changes nothing", () => {
    const result = spawnSync(process.execPath, ["--require", "ts-node/register", join(PROJECT_ROOT, "scripts", "restore.ts"), "acme"], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        encoding: "utf8",
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /no backup set given for acme\. Fix: pass --from <set>; its sets are listed by `docker exec acme-backup ls \/backups`/);
});
