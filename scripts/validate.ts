/**
 * `npm run validate -- [tenants-file] [--stack <stack>] [--dir <folder>]`: checks tenants files
 * against their stacks' targets exactly as `pulumi preview` would, without the Pulumi CLI.
 * Without a file or --stack, every stack of the folder is checked, and then what only shows
 * across them: a tenant in two stacks, a Docker host in two stacks, a host port used twice on a
 * host. Exit 0 with a capacity summary per stack, or exit 1 with every problem.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import Table from "cli-table3";
import type { RawStackSettings } from "../fleet/targets/stackSettings";
import { StackFleetResult, loadFleetForStack, readTenantsFile, stackFileName, stackSettingsFromYaml } from "../fleet/stacks/stackFleet";
import { isLocalStack, stacksFromFileNames } from "../fleet/stacks/stacks";
import { StackFleet, crossStackProblems } from "../fleet/stacks/multiStack";
import { capacityUsage } from "../fleet/tenants/capacity";
import { Problem, formatProblems } from "../fleet/forms/problems";
import { fail, parseCommandLine } from "./cli";

const PROJECT_ROOT = resolve(__dirname, "..");

const USAGE = [
    "usage: npm run validate -- [tenants-file] [--stack <stack>] [--dir <folder>]",
    "  no file and no --stack: every Pulumi.<stack>.yaml of the folder (default: the project), checked together",
    "  --stack: that stack with its own tenants file; a tenants file: that file against --stack (which may be left out when there is one stack)",
].join("\n");

function reportProblems(problems: readonly Problem[]): never {
    fail(`${formatProblems(problems)}\n\n${problems.length} problem(s); nothing would be deployed.`);
}

function readStackSettings(dir: string, stack: string, userDir: string): RawStackSettings {
    const path = join(dir, stackFileName(stack));
    const file = relative(userDir, path) || path;
    if (!existsSync(path)) reportProblems([{ file, path: [], message: `there is no stack "${stack}". Fix: pass --stack with one of the Pulumi.<stack>.yaml files of ${relative(userDir, dir) || "."}.` }]);
    const settings = stackSettingsFromYaml(readFileSync(path, "utf8"), file);
    if (!settings.ok) reportProblems(settings.problems);
    return settings.raw;
}

interface Checked {
    stack: string;
    /** A stack on this machine's Docker socket, which CI never deploys. */
    local: boolean;
    /** Where a config path is in the stack file. */
    locate: RawStackSettings["locate"];
    result: StackFleetResult;
    /** The tenants file as shown, and its text. */
    tenantsFile: string;
    tenantsText: string;
}

/** One stack: its settings, then its tenants file (`file` if given, relative to the user; else the stack's own, relative to the folder). */
function checkStack(dir: string, stack: string, userDir: string, file?: string): Checked {
    const raw = readStackSettings(dir, stack, userDir);
    const local = isLocalStack(raw);
    let tenantsFile = "";
    let tenantsText = "";
    const result = loadFleetForStack({
        stack,
        raw,
        readTenants: (stackTenantsFile) => {
            const path = file !== undefined ? resolve(userDir, file) : resolve(dir, stackTenantsFile);
            const read = readTenantsFile(path, relative(userDir, path) || path);
            tenantsFile = read.file;
            if ("text" in read) tenantsText = read.text;
            return read;
        },
    });
    // Messages about the stack file name it as the user sees it.
    const stackFile = relative(userDir, join(dir, stackFileName(stack))) || stackFileName(stack);
    if (!result.ok) return { stack, local, locate: raw.locate, tenantsFile, tenantsText, result: { ok: false, problems: result.problems.map((p) => (p.file === stackFileName(stack) ? { ...p, file: stackFile } : p)) } };
    return { stack, local, locate: raw.locate, tenantsFile, tenantsText, result };
}

function summary(checked: Checked): string {
    if (!checked.result.ok) return "";
    const { tenants, settings } = checked.result;
    const table = new Table({ head: ["target", "tenants", "CPU", "memory GB", "disk GB", "ports"], style: { head: [], border: [] } });
    for (const row of capacityUsage(tenants.map((t) => ({ id: t.id, target: t.target.name, budget: t.budget })), settings.targets)) {
        const ports = tenants.filter((t) => t.target.name === row.target.name).map((t) => t.port);
        table.push([
            row.target.name,
            String(row.tenantIds.length),
            `${row.cpus} / ${row.cpuAllowance}`,
            `${row.memoryGb} / ${row.memoryGbAllowance}`,
            row.target.capacity.diskGb === undefined ? String(row.diskGb) : `${row.diskGb} / ${row.target.capacity.diskGb}`,
            ports.join(", "),
        ]);
    }
    return `${checked.tenantsFile} is valid for stack ${checked.stack}: ${tenants.length} tenant(s).\n${table.toString()}\n`;
}

function main(): void {
    const { values, positionals } = parseCommandLine({ allowPositionals: true, options: { stack: { type: "string", short: "s" }, dir: { type: "string" } } }, USAGE);
    if (positionals.length > 1) fail(`expected at most one tenants file, got: ${positionals.join(" ")}\n${USAGE}`, 2);
    const userDir = process.env.INIT_CWD ?? process.cwd();
    const dir = values.dir === undefined ? PROJECT_ROOT : resolve(userDir, values.dir);

    const listed = stacksFromFileNames(existsSync(dir) ? readdirSync(dir) : []);
    if (values.stack === undefined && !listed.ok) fail(`${relative(userDir, dir) || "."}: ${listed.error} Or run it in the project, or pass --dir with the folder of the stack files.`);

    if (positionals[0] !== undefined || values.stack !== undefined) {
        let stack = values.stack;
        if (stack === undefined) {
            const stacks = listed.ok ? listed.stacks : [];
            if (stacks.length !== 1) fail(`a tenants file is checked against one stack's targets, and ${relative(userDir, dir) || "."} has ${stacks.length}: ${stacks.join(", ")}. Fix: add --stack <name>.\n${USAGE}`, 2);
            stack = stacks[0];
        }
        const checked = checkStack(dir, stack, userDir, positionals[0]);
        if (!checked.result.ok) reportProblems(checked.result.problems);
        process.stdout.write(summary(checked));
        return;
    }
    // For the compiler: a folder without stacks ended the run above.
    if (!listed.ok) return;
    const checked = listed.stacks.map((stack) => checkStack(dir, stack, userDir));
    const problems = checked.flatMap((c) => (c.result.ok ? [] : c.result.problems));
    if (problems.length > 0) reportProblems(problems);
    // A local stack (the example on this machine's Docker) may hold the same tenants as a real one.
    const fleets: StackFleet[] = checked.flatMap((c) =>
        c.result.ok && !c.local ? [{ stack: c.stack, stackFile: relative(userDir, join(dir, stackFileName(c.stack))), tenantsFile: c.tenantsFile, tenantsText: c.tenantsText, tenants: c.result.tenants }] : [],
    );
    // What two stacks share is located in the stack files too.
    const locators = new Map(checked.map((c) => [relative(userDir, join(dir, stackFileName(c.stack))), c.locate]));
    const across = crossStackProblems(fleets).map((p) => (p.line === undefined ? { ...p, ...locators.get(p.file)?.(p.path) } : p));
    if (across.length > 0) reportProblems(across);
    const local = checked.filter((c) => c.local).map((c) => c.stack);
    const together = fleets.length > 1 ? `\n${fleets.length} stacks checked together: no tenant, Docker host or host port is used by two of them.${local.length > 0 ? ` Local stacks (${local.join(", ")}) are not compared with the others.` : ""}\n` : "";
    process.stdout.write(`${checked.map(summary).join("\n")}${together}`);
}

main();
