import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "./harness/runFleet";

test("npm scripts run on the Node 24 the project installs, whatever Node the machine has", () => {
    const { engines, devDependencies } = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8"));
    assert.match(engines.node, /^>=24 <25$/);
    assert.equal(process.versions.node, devDependencies.node);
    assert.equal(process.versions.node.split(".")[0], "24");
});
