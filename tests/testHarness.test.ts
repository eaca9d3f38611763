/**
 * The test harness itself: what it leaves behind on the machine.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "./harness/runFleet";

test("a test process's temporary files are removed when it ends, also when it fails", () => {
    const scratch = mkdtempSync(join(tmpdir(), "n8n-fleet-harness-"));
    try {
        const script = 'const { writeTempFile } = require("./tests/harness/tempFiles"); writeTempFile("tenants.json", "{}"); writeTempFile("other.json", "{}"); throw new Error("a failing test");';
        const child = spawnSync(process.execPath, ["--require", "ts-node/register", "-e", script], {
            cwd: PROJECT_ROOT,
            env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", TMPDIR: scratch },
            encoding: "utf8",
        });
        assert.notEqual(child.status, 0, "the child should have failed");
        assert.deepEqual(readdirSync(scratch).filter((name) => name.startsWith("n8n-fleet-test-")), []);
    } finally {
        rmSync(scratch, { recursive: true, force: true });
    }
});
