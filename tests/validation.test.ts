/**
 * Validation of tenants.json against a corpus of broken files: every problem reported in one run,
 * each naming the file, line, JSON path, what is wrong and the fix.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { formatProblem } from "../fleet/forms/problems";
import { targetsOf, validate } from "./harness/plans";

const TWO_TARGETS = targetsOf({
    "eu-1": { dockerHost: "ssh://deploy@eu-1", publicHost: "eu-1.example.com", acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32 } },
    "us-1": { dockerHost: "ssh://deploy@us-1", publicHost: "us-1.example.com", acceptSharedCookies: true, capacity: { cpus: 8, memoryGb: 16 }, overcommit: { cpu: 2 } },
});

function problemsOf(value: unknown, options?: Parameters<typeof validate>[1]): string[] {
    const result = validate(typeof value === "string" ? value : JSON.stringify(value, null, 2), options);
    assert.ok(!result.ok, "the file was accepted");
    return result.problems.map(formatProblem);
}

function assertReports(problems: string[], ...expected: RegExp[]) {
    for (const pattern of expected) assert.ok(problems.some((p) => pattern.test(p)), `no problem matches ${pattern}:\n${problems.join("\n")}`);
}

describe("valid files", () => {
    test("an id and a port make a complete file, and every default is applied", () => {
        const result = validate('{ "tenants": [ { "id": "acme", "port": 5701 } ] }');
        assert.ok(result.ok);
        const [acme] = result.tenants;
        assert.equal(acme.target.name, "local");
        assert.equal(acme.url, "http://localhost:5701/");
        assert.equal(acme.workers, 1);
        assert.equal(acme.concurrency, 10);
        assert.deepEqual(acme.budget, { cpus: 2, memoryMb: 4096, diskGb: 10 });
        assert.equal(acme.timezone, "UTC");
        assert.equal(acme.status, "active");
        assert.deepEqual(acme.database, { kind: "container" });
    });

    test("defaults apply to every tenant and a tenant's own value wins, field by field", () => {
        const result = validate(
            JSON.stringify({
                defaults: { workers: 2, resources: { cpus: 3, memoryGb: 6 }, timezone: "Europe/Berlin" },
                tenants: [{ id: "a", port: 5701 }, { id: "b", port: 5702, workers: 1, resources: { cpus: 1 } }],
            }),
        );
        assert.ok(result.ok);
        const [a, b] = result.tenants;
        assert.equal(a.workers, 2);
        assert.deepEqual(a.budget, { cpus: 3, memoryMb: 6144, diskGb: 10 });
        assert.equal(b.workers, 1);
        assert.deepEqual(b.budget, { cpus: 1, memoryMb: 6144, diskGb: 10 });
        assert.equal(b.timezone, "Europe/Berlin");
    });

    test("the same port may be used on two different targets", () => {
        const result = validate(JSON.stringify({ tenants: [{ id: "a", port: 5701, target: "eu-1" }, { id: "b", port: 5701, target: "us-1" }] }), { targets: TWO_TARGETS });
        assert.ok(result.ok, result.ok ? "" : result.problems.map(formatProblem).join("\n"));
    });

    test("CPU may exceed capacity up to the declared overcommit ratio", () => {
        const tenants = Array.from({ length: 4 }, (_, i) => ({ id: `t${i}`, port: 5701 + i, target: "us-1", resources: { cpus: 4, memoryGb: 4 } }));
        assert.ok(validate(JSON.stringify({ tenants }), { targets: TWO_TARGETS }).ok);
    });
});

describe("broken files", () => {
    test("malformed JSON is reported with its line and column", () => {
        const problems = problemsOf('{\n  "tenants": [\n    { "id": "acme", "port": 5701, }\n  ]\n}');
        assert.equal(problems.length, 1);
        assert.match(problems[0], /^tenants\.json:3:35: \(top level\): malformed JSON: expected a property name/);
    });

    test("a comment is malformed JSON too", () => {
        assertReports(problemsOf('{ // clients\n "tenants": [] }'), /^tenants\.json:1:3: .*comments are not allowed/);
    });

    test("a key written twice is reported with both places, wherever it is, and the later value is not silently used", () => {
        const text = [
            "{",
            '  "defaults": { "workers": 1, "workers": 2 },',
            '  "tenants": [',
            '    { "id": "acme", "port": 5679, "port": 5680 },',
            '    { "id": "globex", "port": 5690, "resources": { "cpus": 1, "cpus": 2 } }',
            "  ]",
            "}",
        ].join("\n");
        const problems = problemsOf(text);
        assertReports(
            problems,
            /^tenants\.json:2:31: defaults\.workers: "workers" is written twice in this object, first at line 2, column 17; .* Fix: keep one "workers" and delete the other/,
            /^tenants\.json:4:35: tenants\[0\]\.port: "port" is written twice in this object, first at line 4, column 21/,
            /^tenants\.json:5:63: tenants\[1\]\.resources\.cpus: "cpus" is written twice in this object, first at line 5, column 52/,
        );
        assert.equal(problems.length, 3, problems.join("\n"));
    });

    test("unknown keys are reported with a did-you-mean and the allowed keys", () => {
        const problems = problemsOf({ tenants: [{ id: "acme", port: 5701, wrokers: 2, resources: { memoryGB: 4 } }], default: {} });
        assertReports(
            problems,
            /tenants\[0\]\.wrokers: unknown key "wrokers"\. Fix: did you mean "workers"\?/,
            /tenants\[0\]\.resources\.memoryGB: unknown key "memoryGB"\. Fix: did you mean "memoryGb"\?/,
            /^tenants\.json:\d+:\d+: default: unknown key "default"\. Fix: did you mean "defaults"\?/,
        );
    });

    test("wrong types say what was found and what is expected", () => {
        assertReports(
            problemsOf({ tenants: [{ id: "acme", port: "5701", workers: 1.5, resources: { cpus: "2" } }] }),
            /tenants\[0\]\.port: must be a number, and "5701" is a string\. Fix: use a whole number from 1024 to 65535/,
            /tenants\[0\]\.workers: must be a whole number, and 1\.5 is a number\. Fix: /,
            /tenants\[0\]\.resources\.cpus: must be a number, and "2" is a string/,
        );
    });

    test("missing required fields are named", () => {
        assertReports(problemsOf({ tenants: [{ port: 5701 }, { id: "b" }] }), /tenants\[0\]\.id: is required but missing/, /tenants\[1\]\.port: is required but missing/);
        assertReports(problemsOf({}), /tenants: is required but missing\. Fix: write "tenants"/);
    });

    test("ids must be DNS labels short enough for every derived name", () => {
        assertReports(
            problemsOf({ tenants: [{ id: "Acme", port: 5701 }, { id: "1st", port: 5702 }, { id: "client_a", port: 5703 }, { id: "a".repeat(40), port: 5704 }, { id: "bad-", port: 5705 }] }),
            /tenants\[0\]\.id: "Acme" is not a DNS label/,
            /tenants\[1\]\.id: "1st" is not a DNS label/,
            /tenants\[2\]\.id: "client_a" is not a DNS label/,
            /tenants\[3\]\.id: "a{40}" is longer than 32 characters/,
            /tenants\[4\]\.id: "bad-" is not a DNS label/,
        );
    });

    test("duplicate ids, and ids that would collide as database or container names, are refused", () => {
        assertReports(
            problemsOf({ tenants: [{ id: "acme", port: 5701 }, { id: "acme", port: 5702 }, { id: "client-a", port: 5703 }, { id: "Client_A", port: 5704 }] }),
            /tenants\[1\]\.id: "acme" is already the id of tenants\[0\]/,
            /tenants\[3\]\.id: "Client_A" collides with "client-a" \(tenants\[2\]\): both become database n8n_client_a/,
        );
    });

    test("host ports must lie in 1024-65535 and be unique on a target", () => {
        assertReports(
            problemsOf({ tenants: [{ id: "a", port: 80 }, { id: "b", port: 70000 }, { id: "c", port: 5701 }, { id: "d", port: 5701 }] }),
            /tenants\[0\]\.port: 80 is below 1024/,
            /tenants\[1\]\.port: 70000 is above 65535/,
            /tenants\[3\]\.port: port 5701 is already published by "c" \(tenants\[2\]\) on target "local"\. Fix: choose a port/,
        );
    });

    test("a URL with a path, query or user is refused with the fix: a host name per tenant", () => {
        const problems = problemsOf({
            tenants: [
                { id: "a", port: 5701, url: "https://n8n.example.com/client-a" },
                { id: "b", port: 5702, url: "https://n8n.example.com/?tenant=b" },
                { id: "c", port: 5703, url: "https://c:secret@c.example.com/" },
            ],
        });
        assertReports(
            problems,
            /tenants\[0\]\.url: "https:\/\/n8n\.example\.com\/client-a" is more than a scheme, a host and a port\. Fix: give the tenant a host name of its own, .* login cookie covers the whole host/,
            /tenants\[1\]\.url: .* is more than a scheme, a host and a port/,
            /tenants\[2\]\.url: .* is more than a scheme, a host and a port/,
        );
        assert.ok(validate(JSON.stringify({ tenants: [{ id: "a", port: 5701, url: "https://a.example.com" }, { id: "b", port: 5702, url: "https://b.example.com:8443/" }] })).ok);
    });

    test("a tenant's URL may not be another tenant's, its own or its default one, whatever the case or trailing slash", () => {
        assertReports(
            problemsOf({
                tenants: [
                    { id: "a", port: 5701 },
                    { id: "b", port: 5702, url: "http://LOCALHOST:5701" },
                    { id: "c", port: 5703, url: "https://c.example.com/" },
                    { id: "d", port: 5704, url: "https://c.example.com" },
                ],
            }),
            /tenants\[1\]\.url: http:\/\/localhost:5701\/ is already the default URL of "a" \(tenants\[0\], from its target's publicHost and its port\)\. Fix: give every tenant its own public URL/,
            /tenants\[3\]\.url: https:\/\/c\.example\.com\/ is already the URL of "c" \(tenants\[2\]\)/,
        );
        assertReports(
            problemsOf({ tenants: [{ id: "a", port: 5702, url: "http://localhost:5701/" }, { id: "b", port: 5701 }] }),
            /tenants\[1\]\.port: http:\/\/localhost:5701\/ is already the URL of "a"/,
        );
    });

    test("outbound exceptions must be host names and CIDR ranges, and the raw SSRF variables stay reserved", () => {
        assertReports(
            problemsOf({
                tenants: [
                    { id: "a", port: 5701, outbound: { allowHostnames: ["https://api.partner.example/v1"], allowIpRanges: ["10.20.0.5", "10.20.0.0/33"] } },
                    { id: "b", port: 5702, outbound: { allowHosts: ["x"] }, env: { N8N_SSRF_PROTECTION_ENABLED: "false" } },
                ],
            }),
            /tenants\[0\]\.outbound\.allowHostnames\[0\]: "https:\/\/api\.partner\.example\/v1" is not a host name\. Fix: write a lower-case host name such as "api\.partner\.example"/,
            /tenants\[0\]\.outbound\.allowIpRanges\[0\]: "10\.20\.0\.5" is not an address range\. Fix: write a range in CIDR form, such as "10\.20\.0\.0\/16" or "10\.20\.0\.5\/32"/,
            /tenants\[0\]\.outbound\.allowIpRanges\[1\]: "10\.20\.0\.0\/33" is not an address range/,
            /tenants\[1\]\.outbound\.allowHosts: unknown key "allowHosts"\. Fix: did you mean "allowHostnames"\?/,
            /tenants\[1\]\.env\.N8N_SSRF_PROTECTION_ENABLED: .*list exceptions in `outbound` instead/,
        );
    });

    test("outbound exceptions in defaults apply to every tenant, and a tenant's own list replaces them", () => {
        const result = validate(JSON.stringify({ defaults: { outbound: { allowIpRanges: ["10.0.0.0/8"] } }, tenants: [{ id: "a", port: 5701 }, { id: "b", port: 5702, outbound: { allowIpRanges: [] } }] }));
        assert.ok(result.ok);
        assert.deepEqual(result.tenants.map((t) => t.outbound.allowIpRanges), [["10.0.0.0/8"], []]);
    });

    test("an unknown target names the declared ones and the stack file, wherever it was set", () => {
        assertReports(
            problemsOf({ defaults: { target: "eu-2" }, tenants: [{ id: "a", port: 5701 }, { id: "b", port: 5702, target: "asia" }] }, { targets: TWO_TARGETS }),
            /defaults\.target: "eu-2" is not a target of this stack\. Fix: use one of: eu-1, us-1, or declare it under n8n-fleet:targets in Pulumi\.test\.yaml/,
            /tenants\[1\]\.target: "asia" is not a target of this stack/,
        );
    });

    test("a tenant without a target on a stack with several targets and no default is told to choose", () => {
        assertReports(problemsOf({ tenants: [{ id: "a", port: 5701 }] }, { targets: TWO_TARGETS }), /tenants\[0\]: tenant "a" has no target .* Fix: add "target" \(one of: eu-1, us-1\)/);
    });

    test("budgets below what n8n 2.x needs to start are refused, with the minimum", () => {
        assertReports(
            problemsOf({ tenants: [{ id: "a", port: 5701, resources: { memoryGb: 1 } }, { id: "b", port: 5702, workers: 6 }, { id: "c", port: 5703, resources: { cpus: 0.1, diskGb: 0.5 } }] }),
            /tenants\[0\]\.resources\.memoryGb: tenant "a" has 1 GB of memory, but .* need at least [\d.]+ GB to start\. Fix: raise resources\.memoryGb/,
            /tenants\[1\]: tenant "b" has 4 GB of memory, but n8n 2\.x main and 6 worker\(s\)/,
            /tenants\[2\]\.resources\.cpus: tenant "c" has 0\.1 CPU, but its 7 containers need at least 1 CPU \(0\.25 for each n8n process, 0\.1 for the others\)\. Fix: raise resources\.cpus to 1 /,
            /tenants\[2\]\.resources\.diskGb: tenant "c" has 0\.5 GB of disk/,
        );
    });

    test("a budget that is too small in defaults is reported at defaults", () => {
        assertReports(problemsOf({ defaults: { resources: { memoryGb: 0.5 } }, tenants: [{ id: "a", port: 5701 }] }), /defaults\.resources\.memoryGb: tenant "a" has 0\.5 GB/);
    });

    test("more CPU or memory than a target declares is refused, naming the overcommit ratio to raise", () => {
        const tenants = Array.from({ length: 9 }, (_, i) => ({ id: `t${i}`, port: 5701 + i }));
        assertReports(
            problemsOf({ tenants }),
            /target "local" is over capacity: its 9 tenants ask for 18 CPU, it declares 16 CPU with overcommit 1 \(16 allowed\)\. Fix: .*overcommit\.cpu in Pulumi\.test\.yaml/,
            /target "local" is over capacity: its 9 tenants ask for 36 GB of memory, it declares 32 GB/,
        );
    });

    test("versions must be exact n8n 2.x versions", () => {
        assertReports(
            problemsOf({ tenants: [{ id: "a", port: 5701, n8nVersion: "latest" }, { id: "b", port: 5702, n8nVersion: "1.90.0" }, { id: "c", port: 5703, n8nVersion: "2.41" }] }),
            /tenants\[0\]\.n8nVersion: "latest" is not valid\. Fix: write an exact n8n 2\.x version, such as "2\.41\.1"/,
            /tenants\[1\]\.n8nVersion: "1\.90\.0" is not valid/,
            /tenants\[2\]\.n8nVersion: "2\.41" is not valid/,
        );
    });

    test("workers, concurrency, status, time zone, URL and database kind are checked", () => {
        assertReports(
            problemsOf({
                tenants: [{ id: "a", port: 5701, workers: 0, concurrency: 0, status: "paused", timezone: "europe/berlin", url: "ftp://a.example.com", database: { kind: "mysql" } }],
            }),
            /tenants\[0\]\.workers: 0 is below 1/,
            /tenants\[0\]\.concurrency: 0 is below 1/,
            /tenants\[0\]\.status: "paused" is not one of "active", "suspended"/,
            /tenants\[0\]\.timezone: "europe\/berlin" is not an IANA time zone/,
            /tenants\[0\]\.url: "ftp:\/\/a\.example\.com" is not an http or https address\. Fix: write it with https:\/\/ or http:\/\//,
            /tenants\[0\]\.database\.kind: "mysql" is not a supported kind\. Fix: use "container" .* or "rds"/,
        );
    });

    test("isolation-critical settings cannot be overridden, whether as keys or as environment variables", () => {
        const problems = problemsOf({
            tenants: [
                {
                    id: "a",
                    port: 5701,
                    encryptionKey: "shared",
                    redis: { host: "shared-redis" },
                    database: { kind: "container", host: "shared-db", password: "x" },
                    env: { DB_POSTGRESDB_HOST: "shared-db", QUEUE_BULL_REDIS_HOST: "shared", N8N_ENCRYPTION_KEY: "k", N8N_RUNNERS_AUTH_TOKEN: "t", N8N_SMTP_HOST: "smtp.example.com" },
                },
            ],
        });
        assertReports(
            problems,
            /tenants\[0\]\.encryptionKey: "encryptionKey" cannot be set here: each tenant's encryption key is generated/,
            /tenants\[0\]\.redis: "redis" cannot be set here: every tenant gets its own Redis/,
            /tenants\[0\]\.database\.host: "host" cannot be set here: every tenant gets its own database/,
            /tenants\[0\]\.env\.DB_POSTGRESDB_HOST: DB_POSTGRESDB_HOST cannot be set: .*isolation-critical/,
            /tenants\[0\]\.env\.QUEUE_BULL_REDIS_HOST: .*own Redis/,
            /tenants\[0\]\.env\.N8N_ENCRYPTION_KEY: .*encryption key/,
            /tenants\[0\]\.env\.N8N_RUNNERS_AUTH_TOKEN: .*runner token/,
        );
        assert.ok(!problems.some((p) => p.includes("N8N_SMTP_HOST")), "an ordinary variable was refused");
    });

    test("variables derived from other fields point at the field to set instead", () => {
        assertReports(problemsOf({ tenants: [{ id: "a", port: 5701, env: { WEBHOOK_URL: "https://x", TZ: "UTC" } }] }), /env\.WEBHOOK_URL: .*set `url` instead/, /env\.TZ: .*set `timezone` instead/);
    });

    test("environment values never appear in messages", () => {
        const problems = problemsOf({ tenants: [{ id: "a", port: 5701, env: { N8N_ENCRYPTION_KEY: "s3cr3t-value", SMTP_PASS: 42 } }] });
        assert.ok(!problems.join("\n").includes("s3cr3t-value"));
        assertReports(problems, /env\.SMTP_PASS: must be a string, and this value is a whole number\. Fix: put the value in double quotes; environment values are strings\./);
    });

    test("every problem of a file is reported in one run, in file order, each with a fix", () => {
        const problems = problemsOf({
            defaults: { wrokers: 2 },
            tenants: [{ id: "Acme", port: 80 }, { id: "b", port: 5702, workers: 0 }, { id: "c", port: 5702, resources: { cpus: 40 } }],
        });
        assert.equal(problems.length, 6, problems.join("\n"));
        const lines = problems.map((p) => Number(/^tenants\.json:(\d+):/.exec(p)?.[1]));
        assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
        for (const problem of problems) assert.match(problem, /Fix: /);
    });
});

describe("refused: what the README promises never happens", () => {
    test("an outbound range that holds the cloud metadata address is refused, 0.0.0.0/0 and ::/0 included", () => {
        for (const range of ["169.254.169.254/32", "169.254.0.0/16", "0.0.0.0/0", "::/0", "fd00:ec2::/64"]) {
            assertReports(problemsOf({ tenants: [{ id: "a", port: 5701, outbound: { allowIpRanges: ["10.20.0.0/16", range] } }] }), new RegExp(`outbound\\.allowIpRanges\\[1\\]: "${range.replace(/[./:]/g, "\\$&")}" holds (169\\.254\\.169\\.254|fd00:ec2::254), the cloud metadata service.*Fix: allow only the partner's own range`));
        }
        const fine = validate(JSON.stringify({ tenants: [{ id: "a", port: 5701, outbound: { allowIpRanges: ["10.20.0.0/16", "169.254.170.0/24", "fd00::/64"] } }] }));
        assert.ok(fine.ok, fine.ok ? "" : fine.problems.map(formatProblem).join("\n"));
    });

    test('"archived" in defaults, which would archive every tenant in one line, is refused', () => {
        assertReports(problemsOf({ defaults: { status: "archived" }, tenants: [{ id: "a", port: 5701 }] }), /^tenants\.json:\d+:\d+: defaults\.status: "archived" would archive every tenant at once.*Fix: remove it from defaults and set "status": "archived" on each tenant/);
        assert.ok(validate(JSON.stringify({ defaults: { status: "suspended" }, tenants: [{ id: "a", port: 5701, status: "archived" }] })).ok);
    });

    test("a URL without a scheme, with a port past 65535 or of another scheme is a located problem with its fix, never a crash", () => {
        const problems = problemsOf({ tenants: [{ id: "a", port: 5701, url: "acme.example.com" }, { id: "b", port: 5702, url: "http://b.example.com:99999" }, { id: "c", port: 5703, url: "ftp://c.example.com" }] });
        assertReports(
            problems,
            /^tenants\.json:\d+:\d+: tenants\[0\]\.url: "acme\.example\.com" has no scheme\. Fix: write the full address with https:\/\/ or http:\/\/, such as "https:\/\/acme\.example\.com"/,
            /tenants\[1\]\.url: "http:\/\/b\.example\.com:99999" has port 99999, and ports end at 65535\. Fix: /,
            /tenants\[2\]\.url: "ftp:\/\/c\.example\.com" is not an http or https address\. Fix: /,
        );
    });
});

describe("every problem at once", () => {
    test("a fix's example is an id and a port the file does not use yet", () => {
        const problems = problemsOf({ tenants: [{ id: "acme", port: 5701 }, { id: "client-a", port: 5702 }, { id: "Globex", port: 5701 }, { id: "b", port: 80 }] });
        assertReports(
            problems,
            /tenants\[2\]\.id: .*Fix: .*such as "globex" or "initech"/,
            /tenants\[2\]\.port: port 5701 is already published by "acme" .*such as 5703\./,
            /tenants\[3\]\.port: 80 is below 1024\. Fix: .*such as 5703\./,
        );
    });

    test("a tenant whose id is invalid still takes part in the port and URL checks", () => {
        assertReports(
            problemsOf({ tenants: [{ id: "Client_A", port: 5701 }, { id: "b", port: 5701 }] }),
            /tenants\[0\]\.id: "Client_A" is not a DNS label/,
            /tenants\[1\]\.port: port 5701 is already published by "Client_A" \(tenants\[0\]\)/,
        );
    });

    test("a target named with the wrong case gets a did-you-mean", () => {
        assertReports(problemsOf({ tenants: [{ id: "a", port: 5701, target: "EU-1" }] }, { targets: TWO_TARGETS, defaultTarget: "eu-1" }), /tenants\[0\]\.target: "EU-1" is not a target of this stack\. Fix: did you mean "eu-1"\?/);
    });

    test("no value of any field makes validation throw: every bad value is a located problem", () => {
        const odd: unknown[] = [null, true, -1, 0, 1e308, 99999, "", " ", "x".repeat(300), "http://", "::", "0.0.0.0/0", [], [null], {}, { a: 1 }, "ünïcödé"];
        const fields = ["id", "port", "url", "target", "n8nVersion", "workers", "concurrency", "resources", "timezone", "status", "backup", "database", "env", "outbound"];
        for (const field of fields) {
            for (const value of odd) {
                for (const file of [{ tenants: [{ id: "a", port: 5701, [field]: value }] }, { defaults: { [field]: value }, tenants: [{ id: "a", port: 5701 }] }]) {
                    const text = JSON.stringify(file);
                    let result;
                    assert.doesNotThrow(() => (result = validate(text)), `${text} made validation throw`);
                    const outcome = result as unknown as ReturnType<typeof validate>;
                    if (!outcome.ok) for (const problem of outcome.problems) assert.ok(problem.line !== undefined, `${text}: ${formatProblem(problem)} has no line`);
                }
            }
        }
        for (const nested of [{ resources: { cpus: "x", memoryGb: -1, diskGb: null } }, { database: { kind: "rds", allocatedStorageGb: "x" } }, { outbound: { allowIpRanges: ["10.0.0.0/33"] } }, { backup: { keep: { daily: "x" } } }]) {
            const text = JSON.stringify({ tenants: [{ id: "a", port: 5701, ...nested }] });
            assert.doesNotThrow(() => validate(text), text);
        }
    });
});
