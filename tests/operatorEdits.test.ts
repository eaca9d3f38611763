/**
 * The pull request the project exists for: an operator changes tenants.json and the stack files.
 * The tests must stay green whatever those files hold (checking them is `npm run validate`'s job),
 * so this copies the repository, edits its files as an operator would (clients added, removed and
 * renamed, targets renamed and resized, a stack added) and runs there every test file that reads
 * the project's own files.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { PROJECT_ROOT } from "./harness/runFleet";
import { tempFolder } from "./harness/tempFiles";
import { stacksFromFileNames } from "../fleet/stacks/stacks";

/**
 * Test files that read what an operator edits: they run validate, plan or stacks, load the program
 * through the language host, or read the project folder.
 */
const READS_THE_PROJECT = /scripts", "(validate|plan|stacks)\.ts"|languageHost|readdirSync\(PROJECT_ROOT\)|PROJECT_ROOT, "(tenants\.json|Pulumi\.)/;

function testFilesReadingTheProject(): string[] {
    const self = basename(__filename);
    return readdirSync(join(PROJECT_ROOT, "tests"))
        .filter((name) => name.endsWith(".test.ts") && name !== self)
        .filter((name) => READS_THE_PROJECT.test(readFileSync(join(PROJECT_ROOT, "tests", name), "utf8")))
        .sort();
}

/** The repository without its dependencies and history, node_modules linked. */
function copyOfRepository(): string {
    const copy = join(tempFolder(), "clone");
    cpSync(PROJECT_ROOT, copy, { recursive: true, filter: (source) => !/[/\\](node_modules|\.git|\.tmp)$/.test(source) });
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(copy, "node_modules"));
    return copy;
}

type StackYaml = { config?: Record<string, unknown> };

/** What an operator does in a pull request, to whatever the files hold today. */
function editLikeAnOperator(copy: string): void {
    const stacks = stacksFromFileNames(readdirSync(copy));
    assert.ok(stacks.ok, "the repository has stack files");
    for (const stack of stacks.stacks) {
        const file = join(copy, `Pulumi.${stack}.yaml`);
        const yaml = parseYaml(readFileSync(file, "utf8")) as StackYaml;
        const config = yaml.config ?? {};
        // Every target renamed and made a little smaller; the default target follows.
        const targets = (config["n8n-fleet:targets"] ?? {}) as Record<string, { capacity?: { cpus?: number; memoryGb?: number } }>;
        config["n8n-fleet:targets"] = Object.fromEntries(
            Object.entries(targets).map(([name, target]) => [`${name}-2`, { ...target, capacity: { ...target.capacity, cpus: 12, memoryGb: 24 } }]),
        );
        if (typeof config["n8n-fleet:defaultTarget"] === "string") config["n8n-fleet:defaultTarget"] = `${config["n8n-fleet:defaultTarget"]}-2`;
        writeFileSync(file, stringifyYaml(yaml));
    }
    // The example clients replaced: one removed, one renamed, one added with settings of its own.
    writeFileSync(
        join(copy, "tenants.json"),
        JSON.stringify({
            $schema: "./tenants.schema.json",
            tenants: [
                { id: "acme", port: 6101 },
                { id: "globex-eu", port: 6102, workers: 2, resources: { cpus: 3, memoryGb: 5 } },
                { id: "initech", port: 6103, timezone: "America/New_York", status: "suspended" },
            ],
        }),
    );
    // A new stack with a tenants file of its own, on a remote host.
    writeFileSync(
        join(copy, "Pulumi.prod-eu.yaml"),
        stringifyYaml({
            config: {
                "n8n-fleet:tenantsFile": "tenants-prod-eu.json",
                "n8n-fleet:targets": { "eu-1": { dockerHost: "ssh://deploy@eu-1.example.com", publicHost: "eu-1.example.com", acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32 } } },
            },
        }),
    );
    writeFileSync(join(copy, "tenants-prod-eu.json"), JSON.stringify({ tenants: [{ id: "umbrella", port: 5701 }] }));
}

function run(copy: string, args: string[]) {
    // Without NODE_TEST_CONTEXT, which this runner sets: a test runner that inherits it reports to this one instead of running as its own.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    return spawnSync(process.execPath, ["--require", "ts-node/register", ...args], {
        cwd: copy,
        env: { ...env, TS_NODE_TRANSPILE_ONLY: "true", INIT_CWD: copy },
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
}

test("the tests that read the project pass on a copy whose tenants and stack files an operator has changed", { timeout: 600_000 }, () => {
    const files = testFilesReadingTheProject();
    for (const expected of ["changePlan.test.ts", "languageHost.test.ts", "stacks.test.ts", "validateCommand.test.ts"]) {
        assert.ok(files.includes(expected), `${expected} reads the project but is not selected: ${files.join(", ")}`);
    }
    const copy = copyOfRepository();
    editLikeAnOperator(copy);

    const validate = run(copy, ["scripts/validate.ts"]);
    assert.equal(validate.status, 0, `the operator's edits are valid ones:\n${validate.stderr}`);

    const result = run(copy, ["--test", "--test-reporter=spec", "--test-concurrency=2", ...files.map((name) => join("tests", name))]);
    assert.equal(result.status, 0, `failed on the edited copy:\n${result.stdout.split("\n").filter((line) => /✖|Error|expected|actual/.test(line)).slice(0, 60).join("\n")}`);
});
