/**
 * `pulumi stack export --stack dev | npm run --silent unprotect -- <tenant>`: prints the exact
 * `pulumi state unprotect` commands for one tenant's protected resources (volumes, passwords,
 * key, token) and for no other tenant's. Prints; never changes the state itself.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseStackExport, tenantProtectedUrns, unprotectCommands } from "../fleet/review/offboarding";
import { fail, parseCommandLine } from "./cli";

const USAGE = "usage: pulumi stack export --stack <stack> | npm run --silent unprotect -- <tenant> [export.json]";

function main(): void {
    const { positionals } = parseCommandLine({ allowPositionals: true, options: {} }, USAGE);
    const [tenant, file, ...extra] = positionals;
    if (tenant === undefined || extra.length > 0) fail(USAGE, 2);

    const source = file === undefined || file === "-" ? "standard input" : file;
    let text: string;
    try {
        // npm runs scripts in the project folder; a path is meant from where the user typed it.
        text = readFileSync(file === undefined || file === "-" ? 0 : resolve(process.env.INIT_CWD ?? process.cwd(), file), "utf8");
    } catch (error) {
        fail(`cannot read ${source}: ${(error as Error).message}`);
    }
    const state = parseStackExport(text);
    if (!state.ok) fail(`${source} is not a stack export: ${state.error}`);

    const found = tenantProtectedUrns(state.value, tenant);
    if (!found.ok) fail(found.error);
    if (found.urns.length === 0) fail(`tenant "${tenant}" has no protected resources left in stack ${found.stack}; nothing to unprotect.`);

    process.stderr.write(`# ${found.urns.length} protected resources of tenant "${tenant}" in stack ${found.stack}, and of no other tenant:\n`);
    process.stdout.write(`${unprotectCommands(found.stack, found.urns).join("\n")}\n`);
}

main();
