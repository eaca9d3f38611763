/**
 * `npm run plan -- [--base <git ref or file>] [<tenants file>] [--stack <name>] [--format text|markdown]`:
 * what a change of tenants.json and of the stack's targets means per tenant and per target, with the
 * risky parts first. Compares the working tree (or the file given) with a base: a git ref
 * (`origin/main` by default), whose stack file and tenants file are read from git, or a tenants
 * file. Needs no credentials and no Pulumi CLI. Exit 0 with the plan; 1 when the head is invalid
 * (the problems instead of a plan) or the change is blocked (the plan, with why).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { compareFleets, FleetSnapshot } from "../fleet/review/changePlan";
import { renderMarkdown, renderText } from "../fleet/review/changePlanReport";
import { formatProblems } from "../fleet/forms/problems";
import { loadFleetForStack, readTenantsFile, stackFileName, stackSettingsFromYaml, StackFleetResult } from "../fleet/stacks/stackFleet";
import type { RawStackSettings } from "../fleet/targets/stackSettings";
import { fail, parseCommandLine } from "./cli";

const PROJECT_ROOT = resolve(__dirname, "..");
const USAGE = "usage: npm run plan -- [--base <git ref or file>] [<tenants file>] [--stack <name>] [--format text|markdown]";

/** A file's text at a git ref, relative to the project folder; undefined when the ref has no such file. */
function gitShow(ref: string, path: string): string | undefined {
    try {
        return execFileSync("git", ["-C", PROJECT_ROOT, "show", `${ref}:./${path}`], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch {
        return undefined;
    }
}

function isGitRef(ref: string): boolean {
    try {
        execFileSync("git", ["-C", PROJECT_ROOT, "rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
}

function stackSettings(text: string, stackFile: string): RawStackSettings {
    const settings = stackSettingsFromYaml(text, stackFile);
    if (!settings.ok) fail(`${formatProblems(settings.problems)}\n\nThe plan needs a readable stack file.`);
    return settings.raw;
}

function snapshot(result: StackFleetResult & { ok: true }): FleetSnapshot {
    return { tenants: result.tenants, targets: result.settings.targets };
}

/** The base fleet: undefined when nothing was there (a new stack or tenants file), with a note when it could not be read. */
function loadBase(base: string, stack: string, head: RawStackSettings, userDir: string): { fleet: FleetSnapshot | undefined; note?: string } {
    const asFile = resolve(userDir, base);
    if (existsSync(asFile)) {
        const result = loadFleetForStack({ stack, raw: head, readTenants: () => readTenantsFile(asFile, relative(userDir, asFile) || asFile) });
        return result.ok ? { fleet: snapshot(result) } : { fleet: undefined, note: `the base file has ${result.problems.length} problem(s); every tenant shows as added:\n${formatProblems(result.problems)}` };
    }
    if (!isGitRef(base)) fail(`--base ${base} is neither a file nor a git commit, branch or tag. Fix: pass a tenants file, or a ref such as origin/main (run git fetch first in a shallow clone).`, 2);
    const stackFile = stackFileName(stack);
    const stackText = gitShow(base, stackFile);
    if (stackText === undefined) return { fleet: undefined, note: `${base} has no ${stackFile}: a new stack, every tenant shows as added.` };
    const raw = stackSettings(stackText, `${base}:${stackFile}`);
    const result = loadFleetForStack({
        stack,
        raw,
        readTenants: (tenantsFile) => {
            const text = gitShow(base, tenantsFile);
            return text === undefined ? { file: `${base}:${tenantsFile}`, text: '{ "tenants": [] }' } : { file: `${base}:${tenantsFile}`, text };
        },
    });
    return result.ok ? { fleet: snapshot(result) } : { fleet: undefined, note: `${base} has ${result.problems.length} problem(s) of its own; every tenant shows as added:\n${formatProblems(result.problems)}` };
}

function main(): void {
    const { values, positionals } = parseCommandLine(
        {
            allowPositionals: true,
            options: {
                base: { type: "string", default: "origin/main" },
                stack: { type: "string", short: "s", default: "dev" },
                format: { type: "string", default: "text" },
            },
        },
        USAGE,
    );
    if (positionals.length > 1) fail(`expected at most one tenants file, got: ${positionals.join(" ")}\n${USAGE}`, 2);
    if (values.format !== "text" && values.format !== "markdown") fail(`--format ${values.format} is not text or markdown.\n${USAGE}`, 2);

    const stackFile = stackFileName(values.stack);
    const stackPath = resolve(PROJECT_ROOT, stackFile);
    if (!existsSync(stackPath)) fail(`${stackFile}: there is no stack "${values.stack}". Fix: pass --stack with one of the Pulumi.<stack>.yaml files of the project.`);
    const raw = stackSettings(readFileSync(stackPath, "utf8"), stackFile);
    const userDir = process.env.INIT_CWD ?? process.cwd();

    let shownFile = "";
    const head = loadFleetForStack({
        stack: values.stack,
        raw,
        readTenants: (tenantsFile) => {
            // A path on the command line is relative to where the user is; the stack's is relative to the project.
            const path = positionals[0] !== undefined ? resolve(userDir, positionals[0]) : resolve(PROJECT_ROOT, tenantsFile);
            shownFile = relative(userDir, path) || path;
            return readTenantsFile(path, shownFile);
        },
    });
    if (!head.ok) fail(`${formatProblems(head.problems)}\n\n${head.problems.length} problem(s); nothing would be deployed, so there is no plan.`);

    const base = loadBase(values.base, values.stack, raw, userDir);
    if (base.note) process.stderr.write(`note: ${base.note}\n`);
    const plan = compareFleets(base.fleet, snapshot(head));
    const context = { stack: values.stack, tenantsFile: shownFile, base: values.base };
    process.stdout.write(values.format === "markdown" ? renderMarkdown(plan, context) : renderText(plan, context));
    if (plan.blocked.length > 0) process.exitCode = 1;
}

main();
