/**
 * The program as `pulumi up` loads it: the SDK's own language-host entry with TypeScript on, so a
 * tsconfig, loader or type error fails here rather than on a user's machine.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT, writeTenantsFile } from "./harness/runFleet";
import { LOCAL_STACK_CONFIG } from "./harness/projectCopy";

interface HostRun {
    status: number | null;
    stderr: string;
    resources: { type: string; name: string }[];
    outputs: Record<string, unknown> | null;
}

/** A stack's config on one local host, as Pulumi hands it to the program (objects as JSON), with this tenants file. */
function stackConfig(tenantsFile: string): Record<string, string> {
    const config: Record<string, unknown> = { ...LOCAL_STACK_CONFIG, "n8n-fleet:tenantsFile": tenantsFile };
    return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]));
}

function loadLikePulumi(config: Record<string, string>, exitCodes?: Record<string, number>): HostRun {
    // A clean environment: no TypeScript loader inherited from the test runner.
    const env = { ...process.env };
    delete env.TS_NODE_TRANSPILE_ONLY;
    delete env.NODE_OPTIONS;
    const child = spawnSync(process.execPath, [join(PROJECT_ROOT, "tests", "harness", "languageHost.js"), JSON.stringify({ config, exitCodes })], {
        cwd: PROJECT_ROOT,
        env,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
    const recorded = JSON.parse(child.stdout.slice(child.stdout.lastIndexOf('{"resources"')));
    return { status: child.status, stderr: child.stderr, ...recorded };
}

test("the SDK's language host compiles and runs a stack with its tenants file", { timeout: 180_000 }, () => {
    const result = loadLikePulumi(stackConfig(writeTenantsFile({ tenants: [{ id: "client-a", port: 5678 }, { id: "client-b", port: 5679, workers: 2 }] })));
    assert.equal(result.status, 0, result.stderr);
    const instances = result.resources.filter((r) => r.type === "n8n-fleet:index:ClientInstance").map((r) => r.name);
    assert.deepEqual(instances.sort(), ["client-a", "client-b"]);
    assert.ok(result.resources.some((r) => r.type === "docker:index/container:Container"));
    assert.deepEqual(Object.keys(result.outputs ?? {}).sort(), ["encryptionKeys", "ownerPasswords", "tenants"]);
});

test("through the language host, a broken tenants file stops the program with its problems before any resource", { timeout: 180_000 }, () => {
    const broken = writeTenantsFile({ tenants: [{ id: "acme", port: 5701, wrokers: 2 }] });
    const result = loadLikePulumi(stackConfig(broken));
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /tenants\[0\]\.wrokers: unknown key "wrokers"\. Fix: did you mean "workers"\?/);
    assert.doesNotMatch(result.stderr, /at Object\.<anonymous>|\.ts:\d+:\d+\)/, "the user sees the problems, not a stack trace");
    assert.deepEqual(result.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"), []);
});

test("through the language host, a failed final backup fails the program, though nothing comes after it", { timeout: 180_000 }, () => {
    const archived = writeTenantsFile({ tenants: [{ id: "acme", port: 5701, status: "archived" }] });
    const failed = loadLikePulumi(stackConfig(archived), { "acme-backup-final": 1 });
    assert.notEqual(failed.status, 0, "the program succeeded, so the engine would go on to remove the archived tenant's containers");
    assert.match(failed.stderr, /acme-backup-final exited with status 1: the final backup of tenant "acme" failed, so none of its containers was removed/);
});
