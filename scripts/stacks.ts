/**
 * `npm run --silent stacks -- [--format json|lines] [folder]`: the stacks CI previews, deploys and
 * drift-checks, derived from the project's `Pulumi.<stack>.yaml` files and sorted, local stacks
 * left out (named on standard error). JSON (the default) is what the workflows' matrices read
 * with `fromJSON`, `[]` when every stack is local; `lines` suits a shell loop. Exit 1 when there
 * is no valid stack file.
 */
import { resolve } from "node:path";
import { deployedStacks, localStacksNote } from "../fleet/stacks/stacks";
import { fail, parseCommandLine } from "./cli";

const PROJECT_ROOT = resolve(__dirname, "..");
const USAGE = "usage: npm run --silent stacks -- [--format json|lines] [folder]   (default: the project folder)";

function main(): void {
    const { values, positionals } = parseCommandLine({ allowPositionals: true, options: { format: { type: "string", default: "json" } } }, USAGE);
    if (values.format !== "json" && values.format !== "lines") fail(`--format must be json or lines, not ${values.format}\n${USAGE}`, 2);
    if (positionals.length > 1) fail(`expected at most one folder, got: ${positionals.join(" ")}\n${USAGE}`, 2);

    const folder = positionals[0] === undefined ? PROJECT_ROOT : resolve(process.env.INIT_CWD ?? process.cwd(), positionals[0]);
    let result;
    try {
        result = deployedStacks(folder);
    } catch (error) {
        fail(`cannot read ${folder}: ${(error as Error).message}`);
    }
    if (!result.ok) fail(`${folder}: ${result.error}`);
    if (result.local.length > 0) process.stderr.write(`${localStacksNote(result.local)}\n`);
    process.stdout.write(values.format === "json" ? `${JSON.stringify(result.stacks)}\n` : result.stacks.map((stack) => `${stack}\n`).join(""));
}

main();
