/**
 * The HTTPS edge: its stack settings, the host-name rules, the owner set at provisioning, and what
 * the program declares for a target with an edge (under the mock monitor).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import bcrypt from "bcryptjs";
import { formatProblem, formatProblems } from "../fleet/forms/problems";
import { parseStackSettings } from "../fleet/targets/stackSettings";
import { loadFleetForStack, stackSettingsFromYaml } from "../fleet/stacks/stackFleet";
import { crossStackProblems } from "../fleet/stacks/multiStack";
import { EDGE_NAMES, edgeRoutes, routesCaddyfile } from "../fleet/containers/edge";
import { n8nEnvironment } from "../fleet/containers/n8n";
import { compareFleets } from "../fleet/review/changePlan";
import { targetsOf, validate } from "./harness/plans";
import { Registration } from "./harness/recordingMocks";
import { TYPES, envOf, filesOf, runFleetInChild } from "./harness/runFleet";

const EDGE_TARGET = {
    dockerHost: "ssh://deploy@eu-1.example.com",
    publicHost: "eu-1.example.com",
    capacity: { cpus: 16, memoryGb: 32 },
    edge: { baseDomain: "n8n.example.com", certificates: { issuer: "acme", email: "ops@example.com" } },
};
const PLAIN_TARGET = { dockerHost: "ssh://deploy@us-1.example.com", publicHost: "us-1.example.com", capacity: { cpus: 16, memoryGb: 32 } };
const TARGETS = { eu: EDGE_TARGET, us: PLAIN_TARGET };
const OWNER = { email: "owner@acme.example", firstName: "Ada", lastName: "Lovelace" };
/** Stand-ins in PEM form (not a real certificate or key): what the checks look at is the form. */
const PEM = {
    certificate: "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n",
    key: "-----BEGIN PRIVATE KEY-----\nMIGHfake\n-----END PRIVATE KEY-----\n",
};

function problemsOf(tenants: unknown): string[] {
    const result = validate(JSON.stringify(tenants, null, 2), { targets: targetsOf(TARGETS), defaultTarget: "eu" });
    assert.ok(!result.ok, "the file was accepted");
    return result.problems.map(formatProblem);
}

function assertReports(problems: string[], ...expected: RegExp[]) {
    for (const pattern of expected) assert.ok(problems.some((p) => pattern.test(p)), `no problem matches ${pattern}:\n${problems.join("\n")}`);
}

describe("stack settings of an edge", () => {
    test("ACME by default with Let's Encrypt's directory, ports 80 and 443", () => {
        const parsed = parseStackSettings({ targets: { eu: EDGE_TARGET } }, "Pulumi.prod.yaml");
        assert.ok(parsed.ok, parsed.ok ? "" : formatProblems(parsed.problems));
        const edge = parsed.settings.targets.get("eu")?.edge;
        assert.deepEqual(edge, { baseDomain: "n8n.example.com", httpPort: 80, httpsPort: 443, certificates: { issuer: "acme", email: "ops@example.com", caDirectory: "https://acme-v02.api.letsencrypt.org/directory" } });
    });

    test("a bad e-mail, one port for both, an unknown issuer and a misspelt key each name the field and the fix", () => {
        const bad = (edge: object) => {
            const parsed = parseStackSettings({ targets: { eu: { ...EDGE_TARGET, edge } } }, "Pulumi.prod.yaml");
            assert.equal(parsed.ok, false);
            return parsed.ok ? "" : formatProblems(parsed.problems);
        };
        assert.match(bad({ certificates: { issuer: "acme", email: "ops" } }), /Pulumi\.prod\.yaml: n8n-fleet:targets\.eu\.edge\.certificates\.email: .*Fix: write the ACME account's e-mail address/);
        assert.match(bad({ httpPort: 8443, httpsPort: 8443, certificates: { issuer: "internal" } }), /n8n-fleet:targets\.eu\.edge\.httpsPort: is the same port as httpPort\. Fix: use two ports/);
        assert.match(bad({ certificates: { issuer: "letsencrypt" } }), /n8n-fleet:targets\.eu\.edge\.certificates\.issuer: .*Fix: write issuer: acme \(with email/);
        assert.match(bad({ baseDomian: "n8n.example.com", certificates: { issuer: "internal" } }), /baseDomian.*baseDomain/);
        assert.match(bad({ baseDomain: "N8N.example.com/", certificates: { issuer: "internal" } }), /edge\.baseDomain: .*lower-case domain such as n8n\.example\.com/);
    });
});

describe("host names", () => {
    test("behind an edge: https://<id>.<baseDomain>/ or the tenant's own domain, and no host port", () => {
        const result = validate(
            JSON.stringify({ tenants: [{ id: "acme", port: 5701, owner: OWNER }, { id: "globex", port: 5702, domain: "automations.globex.example", owner: OWNER }, { id: "plain", port: 5703, target: "us" }] }),
            { targets: targetsOf(TARGETS), defaultTarget: "eu" },
        );
        assert.ok(result.ok, result.ok ? "" : formatProblems(result.problems));
        const [acme, globex, plain] = result.tenants;
        assert.deepEqual([acme.domain, acme.url], ["acme.n8n.example.com", "https://acme.n8n.example.com/"]);
        assert.deepEqual([globex.domain, globex.url], ["automations.globex.example", "https://automations.globex.example/"]);
        assert.deepEqual([plain.domain, plain.url], [undefined, "http://us-1.example.com:5703/"]);
    });

    test("an edge on another HTTPS port puts it in the URL", () => {
        const result = validate(JSON.stringify({ tenants: [{ id: "acme", port: 5701, owner: OWNER }] }), { targets: targetsOf({ eu: { ...EDGE_TARGET, edge: { ...EDGE_TARGET.edge, httpPort: 8080, httpsPort: 8443 } } }) });
        assert.ok(result.ok, result.ok ? "" : formatProblems(result.problems));
        assert.equal(result.tenants[0].url, "https://acme.n8n.example.com:8443/");
    });

    test("a host name used twice, or under or above another tenant's, is refused with the reason", () => {
        const problems = problemsOf({
            tenants: [
                { id: "acme", port: 5701, owner: OWNER },
                { id: "acme2", port: 5702, domain: "acme.n8n.example.com", owner: OWNER },
                { id: "shop", port: 5703, domain: "shop.acme.n8n.example.com", owner: OWNER },
            ],
        });
        assertReports(
            problems,
            /tenants\[1\]\.domain: host name acme\.n8n\.example\.com is already "acme" \(tenants\[0\], its default from edge\.baseDomain\)'s\. Fix: give every tenant a host name of its own/,
            /tenants\[2\]\.domain: host name shop\.acme\.n8n\.example\.com lies under acme\.n8n\.example\.com, .*set cookies.*Fix:/,
        );
    });

    test("without an edge, two tenants whose URLs share a host name are refused (shared cookies), unless each has its own or the target accepts it", () => {
        const onPlain = (tenants: object[], target: object = PLAIN_TARGET) => validate(JSON.stringify({ tenants }, null, 2), { targets: targetsOf({ us: target }), defaultTarget: "us" });
        const shared = onPlain([{ id: "a", port: 5701 }, { id: "b", port: 5702 }]);
        assert.equal(shared.ok, false);
        const text = formatProblems(shared.ok ? [] : shared.problems);
        assert.match(text, /tenants\[1\]\.port: http:\/\/us-1\.example\.com:5702\/ shares its host name us-1\.example\.com with the default URL of "a" \(tenants\[0\].*browsers scope cookies by host name, not by port.*Fix: add an edge to target "us".*http:\/\/b\.us-1\.example\.com:5702\//);
        // A url under another tenant's host name shares its cookies too (a page may set them for its parent).
        const under = onPlain([{ id: "a", port: 5701, url: "http://shop.example.com:5701/" }, { id: "b", port: 5702, url: "http://a.shop.example.com:5702/" }]);
        assert.equal(under.ok, false);
        assert.match(formatProblems(under.ok ? [] : under.problems), /tenants\[1\]\.url: .*a\.shop\.example\.com, under shop\.example\.com/);
        assert.ok(onPlain([{ id: "a", port: 5701, url: "http://a.example.com:5701/" }, { id: "b", port: 5702, url: "http://b.example.com:5702/" }]).ok, "siblings are refused");
        assert.ok(onPlain([{ id: "a", port: 5701 }, { id: "b", port: 5702 }], { ...PLAIN_TARGET, acceptSharedCookies: true }).ok, "the target's acceptance is ignored");
        // The suggested URLs keep the scheme and port; for an IP address there is no sibling name to suggest.
        const https = onPlain([{ id: "a", port: 5701, url: "https://n8n.example.com:8443/" }, { id: "b", port: 5702, url: "https://n8n.example.com:9443/" }]);
        assert.match(formatProblems(https.ok ? [] : https.problems), /such as https:\/\/a\.n8n\.example\.com:8443\/ and https:\/\/b\.n8n\.example\.com:9443\//);
        const ip = onPlain([{ id: "a", port: 5701, url: "http://203.0.113.5:5701/" }, { id: "b", port: 5702, url: "http://203.0.113.5:5702/" }]);
        assert.match(formatProblems(ip.ok ? [] : ip.problems), /a DNS name of its own \(an IP address is one host for all\)/);
    });

    test("shared cookies must be accepted by both targets, in either order, and a plain URL may not share an edge tenant's host name", () => {
        const accepting = { ...PLAIN_TARGET, acceptSharedCookies: true };
        const other = { ...PLAIN_TARGET, dockerHost: "ssh://deploy@us-2.example.com" };
        for (const [first, second] of [["us", "us2"], ["us2", "us"]]) {
            const result = validate(JSON.stringify({ tenants: [{ id: "a", port: 5701, target: first }, { id: "b", port: 5702, target: second }] }), { targets: targetsOf({ us: accepting, us2: other }), defaultTarget: "us" });
            assert.equal(result.ok, false, `${first} then ${second}: accepted by one target only`);
            assert.match(formatProblems(result.ok ? [] : result.problems), /acceptSharedCookies: true on target "us2"/);
        }
        // a.n8n.example.com is an edge tenant's; a plain url on it, or above it, shares its cookies.
        for (const url of ["http://a.n8n.example.com:8080/", "http://n8n.example.com:8080/"]) {
            const result = validate(JSON.stringify({ tenants: [{ id: "a", port: 5701, owner: OWNER }, { id: "b", port: 5702, target: "us", url }] }), { targets: targetsOf(TARGETS), defaultTarget: "eu" });
            assert.equal(result.ok, false, `${url} beside https://a.n8n.example.com/`);
            assert.match(formatProblems(result.ok ? [] : result.problems), /tenants\[1\]\.url: .*"a" \(tenants\[0\], its default from edge\.baseDomain\)/);
        }
    });

    test("not a host name, a url behind an edge, a domain without an edge, no host name at all, and no owner", () => {
        const noBase = { eu: { ...EDGE_TARGET, edge: { certificates: { issuer: "internal" } } }, us: PLAIN_TARGET };
        const result = validate(
            JSON.stringify({
                tenants: [
                    { id: "a", port: 5701, domain: "https://a.example.com", owner: OWNER },
                    { id: "b", port: 5702, url: "https://b.example.com", domain: "b.example.com", owner: OWNER },
                    { id: "c", port: 5703, target: "us", domain: "c.example.com" },
                    { id: "d", port: 5704, owner: OWNER },
                    { id: "e", port: 5705, domain: "e.example.com" },
                ],
            }),
            { targets: targetsOf(noBase), defaultTarget: "eu" },
        );
        assert.ok(!result.ok);
        assertReports(
            result.problems.map(formatProblem),
            /tenants\[0\]\.domain: "https:\/\/a\.example\.com" is not a host name\. Fix: write a lower-case host name/,
            /tenants\[1\]\.url: target "eu" has an edge.*Fix: remove "url" and write the host name as "domain" \(b\.example\.com\)/,
            /tenants\[2\]\.domain: target "us" has no edge, so nothing serves c\.example\.com\. Fix: add an edge to target "us" in Pulumi\.test\.yaml/,
            /tenants\[3\]: tenant "d" has no host name: it sets no "domain" and target "eu" has no edge\.baseDomain\. Fix: add "domain"/,
            /tenants\[4\]: tenant "e" behind the edge of target "eu" has no owner: its owner-setup page would be open to whoever reaches it first\. Fix: add "owner"/,
        );
    });

    test("behind an edge, host ports are not checked: none is published", () => {
        const result = validate(JSON.stringify({ tenants: [{ id: "a", port: 5701, owner: OWNER }, { id: "b", port: 5701, owner: OWNER }] }), { targets: targetsOf(TARGETS), defaultTarget: "eu" });
        assert.ok(result.ok, result.ok ? "" : formatProblems(result.problems));
    });

    test("a host name in two stacks, or under another stack's, is refused across stacks", () => {
        const planned = (tenants: object[]) => {
            const result = validate(JSON.stringify({ tenants }), { targets: targetsOf({ eu: EDGE_TARGET }) });
            assert.ok(result.ok, result.ok ? "" : formatProblems(result.problems));
            return result.tenants;
        };
        const one = { stack: "one", stackFile: "Pulumi.one.yaml", tenantsFile: "tenants-one.json", tenantsText: "{}", tenants: planned([{ id: "acme", port: 5701, owner: OWNER }]) };
        // Other Docker hosts in the other stacks, so that only the host names clash.
        const elsewhere = (stack: string, tenants: object[]) => ({
            stack,
            stackFile: `Pulumi.${stack}.yaml`,
            tenantsFile: `tenants-${stack}.json`,
            tenantsText: "{}",
            tenants: planned(tenants).map((t) => ({ ...t, target: { ...t.target, dockerHost: `ssh://deploy@${stack}.example.com` } })),
        });
        const two = elsewhere("two", [{ id: "other", port: 5701, domain: "acme.n8n.example.com", owner: OWNER }]);
        const three = elsewhere("three", [{ id: "sub", port: 5701, domain: "x.acme.n8n.example.com", owner: OWNER }]);
        const text = formatProblems(crossStackProblems([one, two, three]));
        assert.match(text, /tenants-two\.json:\d+:\d+: tenants\[0\]\.domain: host name acme\.n8n\.example\.com is also the host name of "acme" \(tenants-one\.json tenants\[0\], stack one\)/);
        assert.match(text, /tenants-three\.json:\d+:\d+: tenants\[0\]\.domain: host name x\.acme\.n8n\.example\.com lies under acme\.n8n\.example\.com, the host name of "acme"/);
        assert.doesNotMatch(text, /port/);
    });

    test("a tenant may not set the proxy hops or the owner through env", () => {
        const problems = problemsOf({ tenants: [{ id: "acme", port: 5701, owner: OWNER, env: { N8N_PROXY_HOPS: "3", N8N_INSTANCE_OWNER_EMAIL: "mallory@example.com" } }] });
        assertReports(problems, /env\.N8N_PROXY_HOPS: .*cannot be set/, /env\.N8N_INSTANCE_OWNER_EMAIL: .*the owner is set at provisioning from `owner`/);
    });
});

describe("the operator's own certificates", () => {
    const stackWith = (certificates: unknown, tenants: object[] = [{ id: "acme", port: 5701, owner: OWNER }, { id: "globex", port: 5702, owner: OWNER, domain: "n8n.globex.example" }]) =>
        loadFleetForStack({
            stack: "prod",
            raw: { targets: { eu: EDGE_TARGET }, edgeCertificates: certificates },
            readTenants: () => ({ file: "tenants.json", text: JSON.stringify({ tenants }) }),
        });

    test("a certificate and key per host name; each problem names the host name, the part and the command that sets it as a secret", () => {
        const ok = stackWith({ "n8n.globex.example": PEM });
        assert.ok(ok.ok, ok.ok ? "" : formatProblems(ok.problems));
        assert.deepEqual(ok.settings.edgeCertificateDomains, ["n8n.globex.example"]);
        const bad = stackWith({ "n8n.globex.example": { certificate: PEM.certificate }, "Bad Name": PEM, "acme.n8n.example.com": { certificate: "hello", key: PEM.key, chain: "x" } });
        assert.ok(!bad.ok);
        const text = formatProblems(bad.problems);
        assert.match(text, /n8n-fleet:edgeCertificates\.n8n\.globex\.example: has no key\. Fix: pulumi config set --secret --path 'n8n-fleet:edgeCertificates\["n8n\.globex\.example"\]\.key' < n8n\.globex\.example\.key\.pem/);
        assert.match(text, /n8n-fleet:edgeCertificates\.Bad Name: "Bad Name" is not a host name/);
        assert.match(text, /edgeCertificates\.acme\.n8n\.example\.com\.certificate: is not a PEM certificate chain/);
        assert.match(text, /edgeCertificates\.acme\.n8n\.example\.com\.chain: unknown key "chain"/);
    });

    test("a host name no tenant behind an edge has is refused, with the ones that exist", () => {
        const result = stackWith({ "acme.n8n.example.org": PEM });
        assert.ok(!result.ok);
        assert.match(formatProblems(result.problems), /n8n-fleet:edgeCertificates\.acme\.n8n\.example\.org: is the host name of no tenant behind an edge in tenants\.json\. Fix: correct the host name \(tenants behind an edge: acme\.n8n\.example\.com, n8n\.globex\.example\)/);
    });

    test("in a stack file, a part written in clear text is refused; an encrypted one passes validation", () => {
        const yaml = (value: string) =>
            [
                "config:",
                "  n8n-fleet:targets:",
                "    eu: { dockerHost: ssh://deploy@eu-1.example.com, publicHost: eu-1.example.com, capacity: { cpus: 16, memoryGb: 32 }, edge: { baseDomain: n8n.example.com, certificates: { issuer: internal } } }",
                "  n8n-fleet:edgeCertificates:",
                "    acme.n8n.example.com:",
                "      certificate:",
                "        secure: v1:AAAAcertificate",
                `      key: ${value}`,
                "",
            ].join("\n");
        const parse = (text: string) => {
            const read = stackSettingsFromYaml(text, "Pulumi.prod.yaml");
            assert.ok(read.ok);
            return parseStackSettings(read.raw, "Pulumi.prod.yaml");
        };
        const clear = parse(yaml(JSON.stringify(PEM.key)));
        assert.ok(!clear.ok);
        assert.match(formatProblems(clear.problems), /Pulumi\.prod\.yaml:8:\d+: n8n-fleet:edgeCertificates\.acme\.n8n\.example\.com\.key: is written in clear text in Pulumi\.prod\.yaml: whoever reads the repository has it\. Fix: remove it .* also replace the certificate/);
        const encrypted = parse(yaml("\n        secure: v1:AAAAkey"));
        assert.ok(encrypted.ok, encrypted.ok ? "" : formatProblems(encrypted.problems));
        assert.deepEqual(encrypted.settings.edgeCertificateDomains, ["acme.n8n.example.com"]);
    });

    test("the program: a tls line for that host name only, the PEM texts as secret 0400 uploads of the routes one-shot, never of the edge", async () => {
        const outcome = await runFleetInChild({
            tenants: { tenants: [{ id: "acme", port: 5701, owner: OWNER }, { id: "globex", port: 5702, owner: OWNER, domain: "n8n.globex.example" }] },
            targets: { eu: EDGE_TARGET },
            defaultTarget: "eu",
            config: { "n8n-fleet:edgeCertificates": JSON.stringify({ "n8n.globex.example": PEM }) },
        });
        assert.ok(outcome.ok, outcome.ok ? "" : outcome.error);
        const routes = outcome.run.resources.find((r) => r.type === TYPES.container && r.inputs.name === EDGE_NAMES.routes);
        assert.ok(routes);
        const uploads = routes.inputs.uploads as { file: string; content: unknown; permissions?: string; owner?: string }[];
        const caddyfile = String(uploads.find((u) => u.file === "/etc/caddy/Caddyfile")?.content);
        assert.match(caddyfile, /n8n\.globex\.example \{\n\ttls \/certs\/n8n\.globex\.example\.crt \/certs\/n8n\.globex\.example\.key\n/);
        assert.doesNotMatch(caddyfile.split("# tenant acme")[1].split("# tenant")[0], /\ttls /);
        const secrets = uploads.filter((u) => u.file.startsWith("/run/secrets/edge-certs/"));
        assert.deepEqual(secrets.map((u) => [u.file, u.permissions, u.owner]), [
            ["/run/secrets/edge-certs/n8n.globex.example.crt", "0400", "0"],
            ["/run/secrets/edge-certs/n8n.globex.example.key", "0400", "0"],
        ]);
        // Sent to the engine as secrets (the whole list, or each file's content).
        assert.ok(JSON.stringify(routes.rawInputs.uploads).includes("4dabf18193072939515e22adb298388d"), "the certificate uploads are not secret");
        const edge = outcome.run.resources.find((r) => r.type === TYPES.container && r.inputs.name === EDGE_NAMES.container);
        assert.ok(!JSON.stringify(edge?.inputs).includes("PRIVATE KEY"), "the key reached the edge container's declaration");
        assert.ok(!JSON.stringify(outcome.run.outputs).includes("PRIVATE KEY"), "the key reached a stack output");
    });
});

describe("the plan", () => {
    const snapshot = (tenants: object[]) => {
        const targets = targetsOf(TARGETS);
        const result = validate(JSON.stringify({ tenants }), { targets, defaultTarget: "eu" });
        assert.ok(result.ok, result.ok ? "" : formatProblems(result.problems));
        return { tenants: result.tenants, targets };
    };

    test("a new host name is a risk: bookmarks, third parties' webhook URLs and OAuth redirect URLs change with it", () => {
        const before = { id: "acme", port: 5701, owner: OWNER };
        const plan = compareFleets(snapshot([before]), snapshot([{ ...before, domain: "automations.acme.example" }]));
        const [change] = plan.changes;
        assert.deepEqual(change.details, ["host name acme.n8n.example.com -> automations.acme.example"]);
        const risks = plan.risks.map((r) => `${r.what} ${r.todo}`).join("\n");
        assert.match(risks, /changes its host name \(https:\/\/acme\.n8n\.example\.com\/ -> https:\/\/automations\.acme\.example\/\): the client's bookmarks, the webhook URLs registered with third parties and the OAuth redirect URLs all change/);
        assert.match(risks, /Create the DNS record of automations\.acme\.example before deploying/);
    });

    test("an added tenant behind an edge shows its https URL and no port", () => {
        const plan = compareFleets(snapshot([{ id: "acme", port: 5701, target: "us" }]), snapshot([{ id: "acme", port: 5701, target: "us" }, { id: "globex", port: 5702, owner: OWNER }]));
        const added = plan.changes.find((c) => c.id === "globex");
        assert.ok(added && !added.details.join().includes("port"), JSON.stringify(added));
        assert.match(added.details.join(), /https:\/\/globex\.n8n\.example\.com\//);
    });
});

describe("the Caddyfile", () => {
    const plans = () => {
        const result = validate(
            JSON.stringify({ tenants: [{ id: "acme", port: 5701, owner: OWNER }, { id: "paused", port: 5702, owner: OWNER, status: "suspended" }, { id: "gone", port: 5703, owner: OWNER, status: "archived" }] }),
            { targets: targetsOf({ eu: EDGE_TARGET }) },
        );
        assert.ok(result.ok, result.ok ? "" : formatProblems(result.problems));
        return result.tenants;
    };

    test("a site per active tenant: HSTS, /metrics and the owner setup not routed, the main on its edge network; a suspended one answers 503; an archived one has none", () => {
        const tenants = plans();
        const text = routesCaddyfile(tenants[0].target.edge!, edgeRoutes(tenants));
        assert.match(text, /acme\.n8n\.example\.com \{\n\theader Strict-Transport-Security "max-age=31536000"\n\t@internal path \/metrics \/metrics\/\* \/rest\/owner\/setup\n\trespond @internal 404\n\treverse_proxy acme-n8n:5678\n\}/);
        assert.match(text, /paused\.n8n\.example\.com \{\n\theader Strict-Transport-Security "max-age=31536000"\n\trespond "This n8n is suspended\." 503\n\}/);
        assert.doesNotMatch(text, /gone/);
        assert.match(text, /\temail ops@example\.com\n\tacme_ca https:\/\/acme-v02\.api\.letsencrypt\.org\/directory/);
        assert.match(text, /\tadmin unix\/\/run\/caddy-admin\/admin\.sock/);
    });

    test("the internal CA instead of ACME", () => {
        const result = validate(JSON.stringify({ tenants: [{ id: "acme", port: 5701, owner: OWNER }] }), { targets: targetsOf({ eu: { ...EDGE_TARGET, edge: { baseDomain: "test.internal", certificates: { issuer: "internal" } } } }) });
        assert.ok(result.ok, result.ok ? "" : formatProblems(result.problems));
        const text = routesCaddyfile(result.tenants[0].target.edge!, edgeRoutes(result.tenants));
        assert.match(text, /\tlocal_certs\n/);
        assert.doesNotMatch(text, /acme_ca|email/);
    });

    test("n8n behind the edge: https, its host name, one proxy hop, secure cookies, and the owner from the environment with the hash as a file", () => {
        const [acme] = plans();
        const env = n8nEnvironment(acme, { databaseHost: "postgres" });
        assert.equal(env.N8N_HOST, "acme.n8n.example.com");
        assert.equal(env.N8N_PROTOCOL, "https");
        assert.equal(env.N8N_EDITOR_BASE_URL, "https://acme.n8n.example.com/");
        assert.equal(env.N8N_WEBHOOK_URL, "https://acme.n8n.example.com/");
        assert.equal(env.N8N_PROXY_HOPS, "1");
        assert.equal(env.N8N_SECURE_COOKIE, "true");
        assert.equal(env.N8N_INSTANCE_OWNER_MANAGED_BY_ENV, "true");
        assert.equal(env.N8N_INSTANCE_OWNER_EMAIL, OWNER.email);
        assert.equal(env.N8N_INSTANCE_OWNER_PASSWORD_HASH_FILE, "/run/n8n-fleet/owner-password-hash");
        assert.equal(env.N8N_INSTANCE_OWNER_PASSWORD_HASH, undefined);
    });
});

describe("the program with an edge", () => {
    const tenants = { tenants: [{ id: "acme", port: 5701, owner: OWNER }, { id: "globex", port: 5702, owner: OWNER, domain: "n8n.globex.example" }] };
    const run = async (t: unknown) => {
        const outcome = await runFleetInChild({ tenants: t, targets: { eu: EDGE_TARGET }, defaultTarget: "eu" });
        assert.ok(outcome.ok, outcome.ok ? "" : outcome.error);
        return outcome.run;
    };
    const containerNamed = (resources: Registration[], name: string) => {
        const found = resources.find((r) => r.type === TYPES.container && r.inputs.name === name);
        assert.ok(found, `no container ${name}`);
        return found;
    };

    test("mains publish no port and join their own internal edge network; only the edge publishes 80 and 443, without the Docker socket", async () => {
        const { resources, ofType } = await run(tenants);
        for (const id of ["acme", "globex"]) {
            const main = containerNamed(resources, `${id}-n8n`);
            assert.equal(main.inputs.ports, undefined, `${id}'s main publishes a port`);
            assert.deepEqual(
                (main.inputs.networksAdvanced as { name: string }[]).map((n) => n.name),
                [`${id}-backend`, `${id}-egress`, `${id}-edge`],
            );
            const network = ofType(TYPES.network).find((n) => n.inputs.name === `${id}-edge`);
            assert.equal(network?.inputs.internal, true);
            // A bridge of a fixed name, in the host guard's rules with no exception: the main reaches nothing of the host from it.
            const bridge = network?.inputs.options?.["com.docker.network.bridge.name"] as string;
            assert.match(bridge, /^n8f[0-9a-f]{12}$/);
            assert.equal(network?.deleteBeforeReplace, true);
            const guard = resources.find((r) => r.type === TYPES.container && r.name === "eu-host-guard");
            assert.ok(guard, "no host guard on the edge's target");
            assert.ok(envOf(guard).GUARD_RULES.split("\n").includes(`${bridge} -`), `${id}-edge's bridge is not in the guard's rules`);
            for (const other of resources.filter((r) => r.type === TYPES.container && r.inputs.name !== `${id}-n8n`)) {
                assert.ok(!((other.inputs.networksAdvanced as { name: string }[] | undefined) ?? []).some((n) => n.name === `${id}-edge`), `${other.inputs.name} joins ${id}-edge`);
            }
        }
        const edge = containerNamed(resources, EDGE_NAMES.container);
        assert.deepEqual(edge.inputs.ports, [
            { internal: 80, external: 80, ip: "0.0.0.0" },
            { internal: 443, external: 443, ip: "0.0.0.0" },
        ]);
        assert.deepEqual((edge.inputs.networksAdvanced as { name: string }[]).map((n) => n.name), [EDGE_NAMES.network]);
        assert.ok(!JSON.stringify(edge.inputs.volumes).includes("docker.sock"));
        // It faces the internet: nothing it runs changes its image's files, and it gets no upload (its Caddyfile is in its environment).
        assert.equal(edge.inputs.readOnly, true);
        assert.equal(edge.inputs.uploads, undefined);
        assert.match(String(edge.inputs.tmpfs?.["/tmp"]), /noexec/);
        assert.match(envOf(edge).EDGE_CADDYFILE_TEXT, /admin unix\/\/run\/caddy-admin\/admin\.sock/);
        const published = resources.filter((r) => r.type === TYPES.container && r.inputs.ports !== undefined).map((r) => r.inputs.name);
        assert.deepEqual(published, [EDGE_NAMES.container]);
        // One connection per tenant, run against the target's Docker daemon.
        const joins = resources.filter((r) => r.type === "command:local:Command");
        assert.deepEqual(joins.map((j) => (j.inputs.environment as Record<string, string>).EDGE_NETWORK).sort(), ["acme-edge", "globex-edge"]);
        assert.ok(joins.every((j) => (j.inputs.environment as Record<string, string>).DOCKER_HOST === EDGE_TARGET.dockerHost));
    });

    test("the owner's password is generated, given to n8n only as a bcrypt hash file, and exported as a secret", async () => {
        const { resources, outputs, rawOutputs } = await run(tenants);
        const password = outputs.ownerPasswords.acme as string;
        assert.equal(password.length, 24);
        const main = containerNamed(resources, "acme-n8n");
        assert.ok(!JSON.stringify(main.inputs.envs).includes(password));
        const upload = filesOf(main).find((u) => u.file === "/run/n8n-fleet/owner-password-hash");
        assert.ok(upload, "no owner hash file");
        assert.equal(upload.permissions, "0400");
        assert.ok(bcrypt.compareSync(password, upload.content ?? ""), "the uploaded hash is not the password's");
        assert.equal(envOf(main).N8N_INSTANCE_OWNER_EMAIL, OWNER.email);
        assert.ok(JSON.stringify(rawOutputs.ownerPasswords).includes("4dabf18193072939515e22adb298388d"), "ownerPasswords is not a secret output");
        assert.equal(outputs.tenants.acme.port, undefined);
        assert.equal(outputs.tenants.acme.domain, "acme.n8n.example.com");
    });

    test("adding and removing tenants changes the routes one-shot, never the edge container", async () => {
        const before = await run(tenants);
        const after = await run({ tenants: [tenants.tenants[0], { id: "initech", port: 5703, owner: OWNER }] });
        const edgeBefore = containerNamed(before.resources, EDGE_NAMES.container);
        const edgeAfter = containerNamed(after.resources, EDGE_NAMES.container);
        assert.deepEqual(edgeAfter.inputs, edgeBefore.inputs);
        const routes = (r: Registration[]) => (containerNamed(r, EDGE_NAMES.routes).inputs.uploads as { content: string }[])[0].content;
        assert.match(routes(before.resources), /n8n\.globex\.example/);
        assert.doesNotMatch(routes(after.resources), /globex/);
        assert.match(routes(after.resources), /initech\.n8n\.example\.com \{/);
    });

    test("routes the edge refuses stop the update, saying that the old routes still serve and how to run it again", async () => {
        const outcome = await runFleetInChild({ tenants, targets: { eu: EDGE_TARGET }, defaultTarget: "eu", exitCodes: { [EDGE_NAMES.routes]: 1 } });
        assert.equal(outcome.ok, false);
        if (outcome.ok) return;
        assert.equal(outcome.isRunError, true);
        assert.match(outcome.error, /n8n_fleet_edge_routes exited with status 1: the edge of target eu refused its new routes and kept serving the old ones\. Why: its output above, or `docker logs n8n_fleet_edge_routes` on ssh:\/\/deploy@eu-1\.example\.com\. Fix the cause, then run it again with `npm run pulumi -- up --replace 'urn:pulumi:[^']*n8n_fleet_edge_routes'`/);
    });

    test("a target without an edge declares none, and its tenants keep their host ports", async () => {
        const outcome = await runFleetInChild({ tenants: { tenants: [{ id: "acme", port: 5701 }] }, targets: { us: PLAIN_TARGET }, defaultTarget: "us" });
        assert.ok(outcome.ok, outcome.ok ? "" : outcome.error);
        assert.ok(!outcome.run.resources.some((r) => r.type === TYPES.container && String(r.inputs.name).startsWith("n8n_fleet_edge")));
        assert.deepEqual(containerNamed(outcome.run.resources, "acme-n8n").inputs.ports, [{ internal: 5678, external: 5701, ip: "0.0.0.0" }]);
        assert.deepEqual(outcome.run.outputs.ownerPasswords, {});
    });
});
