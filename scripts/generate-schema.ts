/**
 * `npm run schema -- [--check]`: writes tenants.schema.json from the one schema in
 * fleet/tenants/tenantsSchema.ts; with --check, only says whether the file is up to date (exit 1
 * when stale). A test fails when the committed file is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderTenantsJsonSchema } from "../fleet/tenants/tenantsSchema";
import { fail, parseCommandLine } from "./cli";

const USAGE = "usage: npm run schema -- [--check]   (writes tenants.schema.json; --check only compares it)";

function main(): void {
    const { values, positionals } = parseCommandLine({ allowPositionals: true, options: { check: { type: "boolean", default: false } } }, USAGE);
    if (positionals.length > 0) fail(`unexpected argument: ${positionals.join(" ")}\n${USAGE}`, 2);
    const target = join(__dirname, "..", "tenants.schema.json");
    const schema = renderTenantsJsonSchema();
    if (values.check) {
        let current = "";
        try {
            current = readFileSync(target, "utf8");
        } catch {
            // A missing file is stale.
        }
        if (current !== schema) fail(`${target} is stale. Fix: run npm run schema and commit the file.`);
        process.stdout.write(`${target} is up to date\n`);
        return;
    }
    writeFileSync(target, schema);
    process.stdout.write(`wrote ${target}\n`);
}

main();
