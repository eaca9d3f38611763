/**
 * `npm run stacks`: the stacks CI deploys, previews and watches, derived from the project's
 * `Pulumi.<stack>.yaml` files so that none is ever listed by hand.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempFolder } from "./harness/tempFiles";
import { projectWith } from "./harness/projectCopy";

const PROJECT_ROOT = resolve(__dirname, "..");
let folders = 0;

function stacks(...args: string[]) {
    return spawnSync(process.execPath, ["--require", "ts-node/register", join(PROJECT_ROOT, "scripts", "stacks.ts"), ...args], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        encoding: "utf8",
    });
}

/** A fresh folder holding these (empty) files; a name ending in / is made a folder. */
function folderWith(...names: string[]): string {
    const folder = join(tempFolder(), `stacks-${++folders}`);
    mkdirSync(folder);
    for (const name of names) {
        if (name.endsWith("/")) mkdirSync(join(folder, name));
        else writeFileSync(join(folder, name), "config: {}\n");
    }
    return folder;
}

test("the stacks are the Pulumi.<stack>.yaml files of the folder, sorted, as one JSON array", () => {
    const result = stacks(folderWith("Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.dev.yaml", "Pulumi.eu-west_2.yaml", "Pulumi.org.staging.yaml"));
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '["dev","eu-west_2","org.staging","prod"]\n');
});

test("files that only look like stack files are not stacks: the project file, backups, other extensions, folders", () => {
    const result = stacks(folderWith("Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.prod.yaml.bak", "Pulumi.dev.yml", "pulumi.qa.yaml", "Pulumi..yaml", "Pulumi.folder.yaml/", "README.md"));
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '["prod"]\n');
});

test("--format lines prints one stack per line, for a shell loop", () => {
    const result = stacks("--format", "lines", folderWith("Pulumi.b.yaml", "Pulumi.a.yaml"));
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, "a\nb\n");
});

test("a stack file whose name Pulumi refuses is an error naming the file, not a stack silently left out of CI", () => {
    const result = stacks(folderWith("Pulumi.prod.yaml", "Pulumi.eu west.yaml"));
    assert.equal(result.status, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /"Pulumi\.eu west\.yaml": not a valid stack name\. Fix: rename it/);
});

test("a folder without any stack file is an error, not an empty matrix", () => {
    const result = stacks(folderWith("Pulumi.yaml"));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /there is no Pulumi\.<stack>\.yaml here/);
});

test("without a folder, the stacks are the project's own, each with its stack file", () => {
    const project = projectWith({ "Pulumi.prod-eu.yaml": "config: {}\n", "Pulumi.dev.yaml": "config: {}\n" });
    const result = spawnSync(process.execPath, ["--require", "ts-node/register", join(project, "scripts", "stacks.ts")], {
        cwd: project,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '["dev","prod-eu"]\n');
});

test("a local stack, with a Docker host on a unix:// socket, is left out of CI's list and named on standard error", () => {
    const folder = folderWith("Pulumi.prod.yaml", "Pulumi.dev.yaml");
    const target = (dockerHost: string) => `config:\n  n8n-fleet:targets:\n    host-1: { dockerHost: "${dockerHost}", publicHost: h.example.com, acceptSharedCookies: true, capacity: { cpus: 4, memoryGb: 8 } }\n`;
    writeFileSync(join(folder, "Pulumi.dev.yaml"), target("unix:///var/run/docker.sock"));
    writeFileSync(join(folder, "Pulumi.prod.yaml"), target("ssh://deploy@h.example.com"));
    const result = stacks(folder);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '["prod"]\n');
    assert.match(result.stderr, /left out as local \(a Docker host on a unix:\/\/ socket, which on a CI runner is its own Docker\): dev/);
    writeFileSync(join(folder, "Pulumi.prod.yaml"), target("unix:///run/docker.sock"));
    assert.equal(stacks(folder).stdout, "[]\n", "only local stacks: an empty list, which the workflows skip");
});

test("a wrong command line prints the usage with exit code 2", () => {
    for (const args of [["--format", "yaml"], ["a", "b"], ["--stak"]]) {
        const result = stacks(...args);
        assert.equal(result.status, 2, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, /usage: npm run --silent stacks -- \[--format json\|lines\] \[folder\]/);
    }
});
