/**
 * `npm run validate [-- tenants.json] [-- --stack dev]`: checks a tenants file against a stack's
 * targets exactly as `pulumi preview` would, without the Pulumi CLI. Exit 0 with a capacity
 * summary, or exit 1 with every problem.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import Table from "cli-table3";
import { parse as parseYaml } from "yaml";
import { CONFIG_NAMESPACE, parseStackSettings } from "../fleet/stackSettings";
import { loadFleet } from "../fleet/loadFleet";
import { capacityUsage } from "../fleet/capacity";
import { Problem, formatProblems } from "../fleet/problems";

const PROJECT_ROOT = resolve(__dirname, "..");

function fail(problems: readonly Problem[]): never {
    process.stderr.write(`${formatProblems(problems)}\n\n${problems.length} problem(s); nothing would be deployed.\n`);
    process.exit(1);
}

function readStackConfig(stack: string): { file: string; config: Record<string, unknown> } {
    const file = `Pulumi.${stack}.yaml`;
    const path = join(PROJECT_ROOT, file);
    if (!existsSync(path)) fail([{ file, path: [], message: `there is no stack "${stack}". Fix: pass --stack with one of the Pulumi.<stack>.yaml files of the project.` }]);
    try {
        const parsed = parseYaml(readFileSync(path, "utf8")) as { config?: Record<string, unknown> } | null;
        return { file, config: parsed?.config ?? {} };
    } catch (error) {
        fail([{ file, path: [], message: `is not valid YAML: ${(error as Error).message}` }]);
    }
}

function main(): void {
    const { values, positionals } = parseArgs({
        allowPositionals: true,
        options: { stack: { type: "string", short: "s", default: "dev" }, help: { type: "boolean", short: "h" } },
    });
    if (values.help) {
        process.stdout.write("usage: npm run validate [-- [tenants.json] [--stack dev]]\n");
        return;
    }
    if (positionals.length > 1) fail([{ file: "(command line)", path: [], message: `expected at most one tenants file, got ${positionals.join(" ")}.` }]);

    const stack = readStackConfig(values.stack);
    const key = (name: string) => stack.config[`${CONFIG_NAMESPACE}:${name}`];
    const settings = parseStackSettings({ tenantsFile: key("tenantsFile"), targets: key("targets"), defaultTarget: key("defaultTarget") }, stack.file);
    if (!settings.ok) fail(settings.problems);

    // A path on the command line is relative to where the user is; the stack's is relative to the project.
    const tenantsPath = positionals[0] !== undefined ? resolve(process.env.INIT_CWD ?? process.cwd(), positionals[0]) : resolve(PROJECT_ROOT, settings.settings.tenantsFile);
    const shownPath = relative(process.env.INIT_CWD ?? process.cwd(), tenantsPath) || tenantsPath;
    if (!existsSync(tenantsPath)) fail([{ file: shownPath, path: [], message: "does not exist. Fix: pass the path of a tenants file, or create it." }]);

    const fleet = loadFleet({
        file: shownPath,
        text: readFileSync(tenantsPath, "utf8"),
        targets: settings.settings.targets,
        defaultTarget: settings.settings.defaultTarget,
        stackFile: stack.file,
    });
    if (!fleet.ok) fail(fleet.problems);

    const table = new Table({ head: ["target", "tenants", "CPU", "memory GB", "disk GB", "ports"], style: { head: [], border: [] } });
    for (const row of capacityUsage(fleet.tenants.map((t) => ({ id: t.id, target: t.target.name, budget: t.budget })), settings.settings.targets)) {
        const ports = fleet.tenants.filter((t) => t.target.name === row.target.name).map((t) => t.port);
        table.push([
            row.target.name,
            String(row.tenantIds.length),
            `${row.cpus} / ${row.cpuAllowance}`,
            `${row.memoryGb} / ${row.memoryGbAllowance}`,
            row.target.capacity.diskGb === undefined ? String(row.diskGb) : `${row.diskGb} / ${row.target.capacity.diskGb}`,
            ports.join(", "),
        ]);
    }
    process.stdout.write(`${shownPath} is valid for stack ${values.stack}: ${fleet.tenants.length} tenant(s).\n${table.toString()}\n`);
}

main();
