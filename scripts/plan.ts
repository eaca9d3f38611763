/**
 * `npm run plan -- [--stack <name>] [--base <git ref or file>] [<tenants file>] [--format text|markdown]`:
 * what a change of tenants.json and of the stacks' targets means per tenant and per target, with
 * the risky parts first. Compares the working tree (or the file given) with a base: a git ref
 * (`origin/main` by default), whose stack file and tenants file are read from git, or a tenants
 * file. Without --stack, every stack CI deploys (local ones left out), blocked and invalid ones
 * first. Needs no credentials and no Pulumi CLI.
 *
 * Exit codes: 0 the plan; 1 a stack's tenants or stack file is invalid (its problems instead of
 * its plan); 2 a wrong command line; 3 the change is blocked (the plan says why and what to do).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { relative, resolve } from "node:path";
import { compareFleets, ChangePlan, FleetSnapshot } from "../fleet/review/changePlan";
import { PlanContext, renderMarkdown, renderProblemsMarkdown, renderStacksSummaryMarkdown, renderText } from "../fleet/review/changePlanReport";
import { Problem, formatProblems } from "../fleet/forms/problems";
import { loadFleetForStack, readTenantsFile, stackFileName, stackSettingsFromYaml, StackFleetResult } from "../fleet/stacks/stackFleet";
import { deployedStacks, localStacksNote, stacksFromFileNames } from "../fleet/stacks/stacks";
import type { RawStackSettings } from "../fleet/targets/stackSettings";
import { fail, parseCommandLine } from "./cli";

const PROJECT_ROOT = resolve(__dirname, "..");
const USAGE = [
    "usage: npm run plan -- [--stack <name>] [--base <git ref or file>] [<tenants file>] [--format text|markdown]",
    "  no --stack: every stack CI deploys (local ones only with --stack); a tenants file: that file against --stack (needed when there are several stacks)",
    "  exit 0: the plan; 1: a file is invalid (its problems instead of a plan); 2: a wrong command line; 3: the change is blocked",
].join("\n");

/** Exit codes, as the workflows read them. */
const EXIT = { invalid: 1, blocked: 3 } as const;

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
    const stackFile = stackFileName(stack);
    const stackText = gitShow(base, stackFile);
    if (stackText === undefined) return { fleet: undefined, note: `${base} has no ${stackFile}: a new stack, every tenant shows as added.` };
    const settings = stackSettingsFromYaml(stackText, `${base}:${stackFile}`);
    if (!settings.ok) return { fleet: undefined, note: `${base}:${stackFile} cannot be read; every tenant shows as added:\n${formatProblems(settings.problems)}` };
    const result = loadFleetForStack({
        stack,
        raw: settings.raw,
        readTenants: (tenantsFile) => {
            const text = gitShow(base, tenantsFile);
            return text === undefined ? { file: `${base}:${tenantsFile}`, text: '{ "tenants": [] }' } : { file: `${base}:${tenantsFile}`, text };
        },
    });
    return result.ok ? { fleet: snapshot(result) } : { fleet: undefined, note: `${base} has ${result.problems.length} problem(s) of its own; every tenant shows as added:\n${formatProblems(result.problems)}` };
}

/** One stack's outcome: its plan, or the problems that leave it without one. */
type StackOutcome = { context: PlanContext; note?: string } & ({ kind: "plan"; plan: ChangePlan } | { kind: "invalid"; problems: Problem[] });

function planStack(stack: string, base: string, userDir: string, file: string | undefined): StackOutcome {
    const stackFile = stackFileName(stack);
    const context: PlanContext = { stack, tenantsFile: file ?? "", base };
    const settings = stackSettingsFromYaml(readFileSync(resolve(PROJECT_ROOT, stackFile), "utf8"), stackFile);
    if (!settings.ok) return { context, kind: "invalid", problems: settings.problems };
    const head = loadFleetForStack({
        stack,
        raw: settings.raw,
        readTenants: (tenantsFile) => {
            // A path on the command line is relative to where the user is; the stack's is relative to the project.
            const path = file !== undefined ? resolve(userDir, file) : resolve(PROJECT_ROOT, tenantsFile);
            context.tenantsFile = relative(userDir, path) || path;
            return readTenantsFile(path, context.tenantsFile);
        },
    });
    if (!head.ok) return { context, kind: "invalid", problems: head.problems };
    const loaded = loadBase(base, stack, settings.raw, userDir);
    return { context, note: loaded.note, kind: "plan", plan: compareFleets(loaded.fleet, snapshot(head)) };
}

/** Invalid stacks first, then blocked ones, then the rest: what stops a merge is read first. */
function urgency(outcome: StackOutcome): number {
    if (outcome.kind === "invalid") return 0;
    return outcome.plan.blocked.length > 0 ? 1 : 2;
}

function exitCode(outcomes: readonly StackOutcome[]): number {
    if (outcomes.some((o) => o.kind === "invalid")) return EXIT.invalid;
    if (outcomes.some((o) => o.kind === "plan" && o.plan.blocked.length > 0)) return EXIT.blocked;
    return 0;
}

function printText(outcomes: readonly StackOutcome[]): void {
    for (const outcome of outcomes) {
        if (outcome.kind === "invalid") {
            process.stderr.write(`${formatProblems(outcome.problems)}\n\n${outcome.problems.length} problem(s) for stack ${outcome.context.stack}; nothing would be deployed, so there is no plan.\n`);
            continue;
        }
        if (outcome.note) process.stderr.write(`note: ${outcome.note}\n`);
        process.stdout.write(`${outcomes.length > 1 && outcome !== outcomes[0] ? "\n" : ""}${renderText(outcome.plan, outcome.context)}`);
    }
}

function printMarkdown(outcomes: readonly StackOutcome[]): void {
    const sections = outcomes.map((outcome) =>
        outcome.kind === "invalid" ? renderProblemsMarkdown(outcome.context, formatProblems(outcome.problems)) : renderMarkdown(outcome.plan, outcome.context, outcome.note),
    );
    const summary = renderStacksSummaryMarkdown(
        outcomes.map((o) => ({ stack: o.context.stack, state: o.kind === "invalid" ? "invalid" : o.plan.blocked.length > 0 ? "blocked" : o.plan.risks.length > 0 ? "risks" : "fine" })),
    );
    // One stack needs no summary: its section starts with what stops it.
    process.stdout.write((outcomes.length > 1 ? [summary, ...sections] : sections).join("\n"));
}

function main(): void {
    const { values, positionals } = parseCommandLine(
        {
            allowPositionals: true,
            options: {
                base: { type: "string", default: "origin/main" },
                stack: { type: "string", short: "s" },
                format: { type: "string", default: "text" },
            },
        },
        USAGE,
    );
    if (positionals.length > 1) fail(`expected at most one tenants file, got: ${positionals.join(" ")}\n${USAGE}`, 2);
    if (values.format !== "text" && values.format !== "markdown") fail(`--format ${values.format} is not text or markdown.\n${USAGE}`, 2);
    const userDir = process.env.INIT_CWD ?? process.cwd();
    if (!existsSync(resolve(userDir, values.base)) && !isGitRef(values.base)) {
        fail(`--base ${values.base} is neither a file nor a git commit, branch or tag. Fix: pass a tenants file, or a ref such as origin/main (run git fetch first in a shallow clone).`, 2);
    }

    let stacks: string[];
    if (values.stack !== undefined) {
        if (!existsSync(resolve(PROJECT_ROOT, stackFileName(values.stack)))) {
            fail(`${stackFileName(values.stack)}: there is no stack "${values.stack}". Fix: pass --stack with one of the Pulumi.<stack>.yaml files of the project.`, EXIT.invalid);
        }
        stacks = [values.stack];
    } else if (positionals[0] !== undefined) {
        // A tenants file is planned against one stack's targets: the project's only one, local or not.
        const listed = stacksFromFileNames(readdirSync(PROJECT_ROOT));
        const all = listed.ok ? listed.stacks : [];
        if (all.length !== 1) fail(`a tenants file is planned against one stack, and this project has ${all.length}: ${all.join(", ")}. Fix: add --stack <name>.\n${USAGE}`, 2);
        stacks = all;
    } else {
        const listed = deployedStacks(PROJECT_ROOT);
        if (!listed.ok) fail(listed.error, EXIT.invalid);
        stacks = listed.stacks;
        if (listed.local.length > 0) process.stderr.write(`note: ${localStacksNote(listed.local)}; plan one with --stack.\n`);
        if (stacks.length === 0) {
            process.stdout.write(`No stack to plan: every stack of the project is local (${listed.local.join(", ")}), and CI deploys none of them. Plan one with --stack <name>.\n`);
            return;
        }
    }

    const outcomes = stacks.map((stack) => planStack(stack, values.base, userDir, positionals[0])).sort((a, b) => urgency(a) - urgency(b));
    if (values.format === "markdown") printMarkdown(outcomes);
    else printText(outcomes);
    process.exitCode = exitCode(outcomes);
}

main();
