/**
 * `npm run validate -- [tenants.json] [--stack dev]`: checks a tenants file against a stack's
 * targets exactly as `pulumi preview` would, without the Pulumi CLI. Exit 0 with a capacity
 * summary, or exit 1 with every problem.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import Table from "cli-table3";
import type { RawStackSettings } from "../fleet/stackSettings";
import { loadFleetForStack, readTenantsFile, stackFileName, stackSettingsFromYaml } from "../fleet/stackFleet";
import { capacityUsage } from "../fleet/capacity";
import { Problem, formatProblems } from "../fleet/problems";
import { fail, parseCommandLine } from "./cli";

const PROJECT_ROOT = resolve(__dirname, "..");

const USAGE = "usage: npm run validate -- [tenants-file] [--stack <stack>]   (default: the stack's own tenants file, stack dev)";

function reportProblems(problems: readonly Problem[]): never {
    fail(`${formatProblems(problems)}\n\n${problems.length} problem(s); nothing would be deployed.`);
}

function readStackSettings(stack: string): RawStackSettings {
    const file = stackFileName(stack);
    const path = join(PROJECT_ROOT, file);
    if (!existsSync(path)) reportProblems([{ file, path: [], message: `there is no stack "${stack}". Fix: pass --stack with one of the Pulumi.<stack>.yaml files of the project.` }]);
    const settings = stackSettingsFromYaml(readFileSync(path, "utf8"), file);
    if (!settings.ok) reportProblems(settings.problems);
    return settings.raw;
}

function main(): void {
    const { values, positionals } = parseCommandLine({ allowPositionals: true, options: { stack: { type: "string", short: "s", default: "dev" } } }, USAGE);
    if (positionals.length > 1) fail(`expected at most one tenants file, got: ${positionals.join(" ")}\n${USAGE}`, 2);

    const raw = readStackSettings(values.stack);
    const userDir = process.env.INIT_CWD ?? process.cwd();
    const result = loadFleetForStack({
        stack: values.stack,
        raw,
        // A path on the command line is relative to where the user is; the stack's is relative to the project.
        readTenants: (tenantsFile) => {
            const path = positionals[0] !== undefined ? resolve(userDir, positionals[0]) : resolve(PROJECT_ROOT, tenantsFile);
            return readTenantsFile(path, relative(userDir, path) || path);
        },
    });
    if (!result.ok) reportProblems(result.problems);

    const { tenants, settings } = result;
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
    const shown = positionals[0] ?? settings.tenantsFile;
    process.stdout.write(`${shown} is valid for stack ${values.stack}: ${tenants.length} tenant(s).\n${table.toString()}\n`);
}

main();
