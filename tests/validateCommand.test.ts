/**
 * `npm run validate`, as a user runs it: exit codes, the capacity summary and the problems.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT, writeTenantsFile } from "./harness/runFleet";
import { LOCAL_STACK_CONFIG, folderWith, projectWith, stackFileText } from "./harness/projectCopy";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { renderTenantsJsonSchema } from "../fleet/tenants/tenantsSchema";

function validate(...args: string[]) {
    return spawnSync(process.execPath, ["--require", "ts-node/register", join(PROJECT_ROOT, "scripts", "validate.ts"), ...args], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        encoding: "utf8",
    });
}

/** A folder with one stack, `dev`, on a local host of 16 CPU and 32 GB, and its tenants file. */
function devStackWith(tenants: object): string {
    return folderWith({ "Pulumi.dev.yaml": stackFileText(LOCAL_STACK_CONFIG), "tenants.json": tenants });
}

test("a valid stack's tenants file is reported with the capacity used per target", () => {
    const dir = devStackWith({ tenants: [{ id: "acme", port: 5701 }, { id: "globex", port: 5702, resources: { cpus: 3, memoryGb: 6 } }] });
    const result = validate("--dir", dir);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /tenants\.json is valid for stack dev: 2 tenant\(s\)/);
    assert.match(result.stdout, /local\s*│\s*2\s*│\s*5 \/ 16\s*│\s*10 \/ 32/);
});

test("a broken file given as a path exits 1 and prints every problem with its fix", () => {
    const file = writeTenantsFile({ tenants: [{ id: "a", port: 5701 }, { id: "b", port: 5701, workers: 0 }] });
    const result = validate(file, "--dir", devStackWith({ tenants: [] }));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /tenants\[1\]\.workers: 0 is below 1\. Fix: /);
    assert.match(result.stderr, /tenants\[1\]\.port: port 5701 is already published by "a"/);
    assert.match(result.stderr, /2 problem\(s\); nothing would be deployed/);
    assert.equal(result.stdout, "");
});

test("a tenants file without --stack is checked against the only stack, and needs --stack when there are several", () => {
    const file = writeTenantsFile({ tenants: [{ id: "a", port: 5701 }] });
    const one = validate(file, "--dir", devStackWith({ tenants: [] }));
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stdout, /is valid for stack dev: 1 tenant\(s\)/);
    const two = folderWith({ "Pulumi.dev.yaml": stackFileText(LOCAL_STACK_CONFIG), "Pulumi.prod.yaml": stackFileText(LOCAL_STACK_CONFIG), "tenants.json": { tenants: [] } });
    const several = validate(file, "--dir", two);
    assert.equal(several.status, 2);
    assert.match(several.stderr, /a tenants file is checked against one stack's targets, and .* has 2: dev, prod\. Fix: add --stack <name>\./);
});

test("the documented form, a tenants file and a stack, checks that file against that stack", () => {
    const dir = devStackWith({ tenants: [] });
    const file = writeTenantsFile({ tenants: [{ id: "a", port: 5701 }] });
    const result = validate(file, "--stack", "dev", "--dir", dir);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /is valid for stack dev: 1 tenant\(s\)/);
});

test("an unknown flag or a second file prints the usage, with exit code 2 and no stack trace", () => {
    for (const args of [["--stak", "dev"], ["a.json", "b.json"], ["--stack"]]) {
        const result = validate(...args);
        assert.equal(result.status, 2, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, /usage: npm run validate -- \[tenants-file\] \[--stack <stack>\]/);
        assert.doesNotMatch(result.stderr, /\n\s+at /, "a stack trace was printed");
    }
    const help = validate("--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: npm run validate/);
});

test("an unknown stack is named with the fix", () => {
    const result = validate("--stack", "nope");
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Pulumi\.nope\.yaml: .*there is no stack "nope"/);
});

test("npm run schema -- --help or a wrong argument prints the usage and leaves tenants.schema.json alone", () => {
    const project = projectWith({ "tenants.schema.json": "not the schema\n" });
    const schema = (...args: string[]) =>
        spawnSync(process.execPath, ["--require", "ts-node/register", join(project, "scripts", "generate-schema.ts"), ...args], { cwd: project, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" }, encoding: "utf8" });
    const help = schema("--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: npm run schema -- \[--check\]/);
    assert.equal(schema("--chek").status, 2);
    const check = schema("--check");
    assert.equal(check.status, 1);
    assert.match(check.stderr, /tenants\.schema\.json is stale\. Fix: run npm run schema/);
    assert.equal(readFileSync(join(project, "tenants.schema.json"), "utf8"), "not the schema\n");
    assert.equal(schema().status, 0);
    assert.equal(readFileSync(join(project, "tenants.schema.json"), "utf8"), renderTenantsJsonSchema());
});

test("tenants.schema.json is generated from the schema in code and is not stale (npm run schema)", () => {
    assert.equal(readFileSync(join(PROJECT_ROOT, "tenants.schema.json"), "utf8"), renderTenantsJsonSchema());
});

test("editors checking with tenants.schema.json accept a complete file and flag typos, isolation overrides and malformed URLs", () => {
    // Formats are checked for real (ajv-formats), as editors do, rather than ignored with a warning.
    const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true, strictTypes: false }));
    const validateSchema = ajv.compile(JSON.parse(readFileSync(join(PROJECT_ROOT, "tenants.schema.json"), "utf8")));
    const complete = {
        $schema: "./tenants.schema.json",
        defaults: { workers: 1, concurrency: 10, resources: { cpus: 2, memoryGb: 4, diskGb: 10 }, timezone: "UTC", backup: { schedule: "hourly", keep: { hourly: 24 } } },
        tenants: [
            { id: "client-a", port: 5678 },
            { id: "client-b", port: 5679, workers: 2, timezone: "Europe/Berlin", status: "suspended", outbound: { allowHostnames: ["*.partner.example"], allowIpRanges: ["10.20.0.0/16"] } },
        ],
    };
    assert.ok(validateSchema(complete), JSON.stringify(validateSchema.errors));
    assert.equal(validateSchema({ tenants: [{ id: "a", port: 5701, wrokers: 2 }] }), false);
    assert.equal(validateSchema({ tenants: [{ id: "a", port: 5701, env: { N8N_ENCRYPTION_KEY: "x" } }] }), false);
    assert.equal(validateSchema({ tenants: [{ id: "Acme", port: 80 }] }), false);
    assert.equal(validateSchema({ tenants: [{ id: "a", port: 5701, url: "acme.example.com" }] }), false);
    assert.ok(validateSchema({ tenants: [{ id: "a", port: 5701, url: "https://acme.example.com/", env: { N8N_SMTP_HOST: "smtp.example.com" } }] }), JSON.stringify(validateSchema.errors));
});
