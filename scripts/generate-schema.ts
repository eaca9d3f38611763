/**
 * `npm run schema`: writes tenants.schema.json from the one schema in fleet/tenants/tenantsSchema.ts.
 * A test fails when the committed file is stale.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderTenantsJsonSchema } from "../fleet/tenants/tenantsSchema";

const target = join(__dirname, "..", "tenants.schema.json");
writeFileSync(target, renderTenantsJsonSchema());
process.stdout.write(`wrote ${target}\n`);
