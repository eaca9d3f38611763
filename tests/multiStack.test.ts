/**
 * A fleet over several stacks: `npm run validate` without a file checks every stack file of a
 * folder together, and names both places of what two stacks share.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "./harness/runFleet";
import { tempFolder } from "./harness/tempFiles";

const EXAMPLE = join(PROJECT_ROOT, "examples", "multi-region");

function validate(...args: string[]) {
    return spawnSync(process.execPath, ["--require", "ts-node/register", join(PROJECT_ROOT, "scripts", "validate.ts"), ...args], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", INIT_CWD: PROJECT_ROOT },
        encoding: "utf8",
    });
}

/** A copy of the worked example, with one tenants file changed. */
function exampleWith(edit: (tenants: { tenants: Record<string, unknown>[] }) => void, file = "tenants-eu-west.json"): string {
    const dir = join(tempFolder(), `example-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir);
    cpSync(EXAMPLE, dir, { recursive: true });
    const tenants = JSON.parse(readFileSync(join(dir, file), "utf8"));
    edit(tenants);
    writeFileSync(join(dir, file), JSON.stringify(tenants, null, 2));
    return dir;
}

test("the README's worked example, two regions with an RDS tenant, passes as a whole", () => {
    const result = validate("--dir", "examples/multi-region");
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /tenants-eu-west\.json is valid for stack eu-west: 2 tenant\(s\)/);
    assert.match(result.stdout, /tenants-us-east\.json is valid for stack us-east: 2 tenant\(s\)/);
    assert.match(result.stdout, /2 stacks checked together/);
});

test("a tenant id used in two stacks is named in both places", () => {
    const dir = exampleWith((t) => t.tenants.push({ id: "acme", port: 5799, target: "eu-west-1b" }));
    const result = validate("--dir", dir);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /tenants-us-east\.json:\d+:\d+: tenants\[0\]\.id: tenant "acme" is also in .*tenants-eu-west\.json tenants\[2\], stack eu-west\. Fix: a tenant belongs to one stack/);
});

test("a Docker host declared by two stacks, and a port used twice on it, are named in both places", () => {
    const dir = exampleWith(() => undefined);
    const stackFile = join(dir, "Pulumi.eu-west.yaml");
    writeFileSync(stackFile, readFileSync(stackFile, "utf8").replace("ssh://deploy@n8n-euw1-b.example.com", "ssh://deploy@n8n-use1-a.example.com"));
    const result = validate("--dir", dir);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Pulumi\.us-east\.yaml:\d+:\d+: n8n-fleet:targets\.us-east-1a\.dockerHost: ssh:\/\/deploy@n8n-use1-a\.example\.com is also target "eu-west-1b" of stack eu-west/);
    assert.match(result.stderr, /tenants-us-east\.json:\d+:\d+: tenants\[0\]\.port: port 5701 on ssh:\/\/deploy@n8n-use1-a\.example\.com is also published by "umbrella"/);
});

test("a problem inside one stack is reported with that stack's files, and stops the check", () => {
    const dir = exampleWith((t) => (t.tenants[0].database = { kind: "rds", engineVersion: "12" }));
    const result = validate("--dir", dir);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /tenants-eu-west\.json:\d+:\d+: tenants\[0\]\.database\.engineVersion: "12" is not a PostgreSQL major version/);
});

test("a local stack is not compared with the others: the example on this machine may hold a real stack's tenants", () => {
    const dir = exampleWith(() => undefined);
    writeFileSync(join(dir, "Pulumi.dev.yaml"), "config:\n  n8n-fleet:tenantsFile: tenants-us-east.json\n  n8n-fleet:targets:\n    local: { dockerHost: unix:///var/run/docker.sock, publicHost: localhost, acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32 } }\n");
    const result = validate("--dir", dir);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /2 stacks checked together: .* Local stacks \(dev\) are not compared with the others\./);
});
