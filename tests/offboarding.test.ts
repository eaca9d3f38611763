/**
 * `npm run unprotect`: the offboarding step that unprotects one tenant's data and keys, and no
 * other tenant's, read from the stack's state rather than matched by name.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT, TYPES, runFleetInChild, stackExportOf } from "./harness/runFleet";
import { writeTempFile } from "./harness/tempFiles";
import type { Registration } from "./harness/recordingMocks";

let exportFile = "";
let resources: Registration[] = [];

function unprotect(...args: string[]) {
    return spawnSync(process.execPath, ["--require", "ts-node/register", join(PROJECT_ROOT, "scripts", "unprotect.ts"), ...args], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        encoding: "utf8",
    });
}

/** URNs in the printed commands, in order. */
function urnsOf(stdout: string): string[] {
    return stdout
        .trim()
        .split("\n")
        .map((line) => {
            const match = /^pulumi state unprotect --stack 'prod' --yes '([^']+)'$/.exec(line);
            assert.ok(match, `not a command: ${line}`);
            return match[1];
        });
}

before(async () => {
    // acme-eu is what a name pattern for acme also matches.
    const outcome = await runFleetInChild({ tenants: { tenants: [{ id: "acme", port: 5701 }, { id: "acme-eu", port: 5702 }, { id: "globex", port: 5703 }] }, stack: "prod" });
    if (!outcome.ok) throw new Error(outcome.error);
    resources = outcome.run.resources;
    exportFile = writeTempFile("export.json", JSON.stringify(stackExportOf(outcome.run)));
});

test("prints an unprotect command for every protected resource of the tenant, and for none of another tenant, even one whose id starts the same", () => {
    const result = unprotect("acme", exportFile);
    assert.equal(result.status, 0, result.stderr);
    const expected = resources.filter((r) => r.protect && r.parent.endsWith("ClientInstance::acme")).map((r) => r.urn);
    // Volumes: postgres, redis, n8n, the workflows' files, backups.
    assert.equal(expected.length, 10, "5 volumes and 5 secrets");
    assert.deepEqual(urnsOf(result.stdout), expected);
    for (const urn of urnsOf(result.stdout)) assert.doesNotMatch(urn, /::acme-eu-/);
    assert.match(result.stderr, /10 protected resources of tenant "acme" in stack prod/);

    const eu = urnsOf(unprotect("acme-eu", exportFile).stdout);
    assert.equal(eu.length, 10);
    for (const urn of eu) assert.match(urn, /::acme-eu-/);
});

test("reads the export from standard input, as `pulumi stack export | npm run --silent unprotect -- <tenant>`", () => {
    const piped = spawnSync("sh", ["-c", `cat '${exportFile}' | '${process.execPath}' --require ts-node/register scripts/unprotect.ts globex`], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        encoding: "utf8",
    });
    assert.equal(piped.status, 0, piped.stderr);
    const urns = urnsOf(piped.stdout);
    assert.equal(urns.length, 10);
    for (const urn of urns) assert.match(urn, /::globex-/);
    assert.ok(urns.every((urn) => resources.find((r) => r.urn === urn)?.type !== TYPES.container), "a container is not protected");
});

test("a tenant that is not in the state is named with the tenants that are, and nothing is printed", () => {
    const result = unprotect("acm", exportFile);
    assert.equal(result.status, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /tenant "acm" is not in this stack's state\. Tenants in it: acme, acme-eu, globex\./);
});

test("a file that is not a stack export, or a wrong command line, gets a message and no stack trace", () => {
    const notExport = unprotect("acme", writeTempFile("tenants.json", '{ "tenants": [] }'));
    assert.equal(notExport.status, 1);
    assert.match(notExport.stderr, /is not a stack export: .*pulumi stack export/);
    const noTenant = unprotect();
    assert.equal(noTenant.status, 2);
    assert.match(noTenant.stderr, /^usage: pulumi stack export/);
    const unknownFlag = unprotect("acme", "--all");
    assert.equal(unknownFlag.status, 2);
    assert.match(unknownFlag.stderr, /Unknown option '--all'[\s\S]*usage:/);
    assert.doesNotMatch(unknownFlag.stderr, /\n\s+at /);
});
