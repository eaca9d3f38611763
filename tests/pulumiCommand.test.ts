/**
 * `npm run pulumi -- ...`: the CLI the user installed, run with the project's Node first on PATH.
 * No Pulumi CLI exists on the test machines, so only its absence is exercised here.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "./harness/runFleet";
import { tempFolder } from "./harness/tempFiles";

test("without a Pulumi CLI on PATH or in ~/.pulumi/bin, it says how to install one and exits 127", () => {
    const result = spawnSync(join(PROJECT_ROOT, "scripts", "pulumi.sh"), ["up", "--stack", "dev"], {
        cwd: PROJECT_ROOT,
        env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: tempFolder() },
        encoding: "utf8",
    });
    assert.equal(result.status, 127);
    assert.match(result.stderr, /The Pulumi CLI is not installed \(not on PATH, not in .*\/\.pulumi\/bin\)\.\nFix: install it .* then run npm run pulumi -- up --stack dev/);
});
