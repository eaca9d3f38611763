/**
 * What each field of tenants.json should look like, said as the fix of a schema error, and which
 * keys each object may hold (for did-you-mean on unknown keys).
 */
import type { FieldHints } from "../forms/problems";
import { keysByOwner, schemaKeys } from "../forms/problems";
import { BUILT_IN_DEFAULTS, MAX_WORKERS, defaultsSchema, rdsDatabaseSchema, tenantSchema, tenantsFileSchema } from "../tenants/tenantsSchema";
import { TENANT_ID_MAX_LENGTH } from "../tenants/names";

export const HINTS: FieldHints = {
    $schema: 'write "./tenants.schema.json"',
    tenants: 'write "tenants": [ { "id": "acme", "port": 5701 } ]',
    defaults: "write an object with the fields every tenant shares, such as { \"workers\": 2 }",
    id: `use a DNS label of at most ${TENANT_ID_MAX_LENGTH} characters: lowercase letters, digits and hyphens, starting with a letter, such as "acme" or "client-a"`,
    port: "use a whole number from 1024 to 65535 that no other tenant on the same target uses, such as 5701",
    url: 'write the full public address with http:// or https://, such as "https://acme.n8n.example.com"',
    target: "use the name of a target declared in n8n-fleet:targets of the stack config",
    n8nVersion: 'write an exact n8n 2.x version, such as "2.41.1"',
    workers: `use a whole number of queue workers from 1 to ${MAX_WORKERS}`,
    concurrency: "use a whole number of executions per worker from 1 to 100 (n8n's default is 10)",
    resources: `write an object such as { "cpus": ${BUILT_IN_DEFAULTS.resources.cpus}, "memoryGb": ${BUILT_IN_DEFAULTS.resources.memoryGb}, "diskGb": ${BUILT_IN_DEFAULTS.resources.diskGb} }`,
    cpus: "write CPU cores as a positive number, such as 2 or 0.5",
    memoryGb: "write memory in GiB as a positive number, such as 4",
    diskGb: "write the disk budget in GiB as a positive number, such as 10",
    timezone: 'use an IANA time zone such as "Europe/Berlin" or "UTC"',
    status: 'use "active" or "suspended"',
    database: 'write { "kind": "container" } or { "kind": "rds" }',
    kind: 'use "container" (a PostgreSQL container of the tenant\'s own) or "rds" (managed AWS RDS, on a target with aws settings)',
    instanceClass: 'write an RDS instance class such as "db.t4g.small"',
    allocatedStorageGb: "write whole GiB from 20 to 65536",
    maxAllocatedStorageGb: "write whole GiB from 20 to 65536, at least allocatedStorageGb",
    engineVersion: 'write a PostgreSQL major version, "16", "17" or "18"',
    multiAz: "write true or false",
    backupRetentionDays: "write whole days from 7 to 35",
    env: 'write an object of "NAME": "value" pairs, values as strings',
    outbound: 'write { "allowHostnames": ["api.partner.example"], "allowIpRanges": ["10.20.0.0/16"] }',
    allowHostnames: 'write a list of host names, such as ["api.partner.example", "*.partner.example"]',
    allowIpRanges: 'write a list of ranges in CIDR form, such as ["10.20.0.0/16"]',
    domain: 'write a lower-case host name, such as "acme.n8n.example.com"',
    owner: 'write { "email": "owner@acme.example", "firstName": "Ada", "lastName": "Lovelace" }',
    email: 'write an e-mail address, such as "owner@acme.example"',
    firstName: "write the owner's first name, 1 to 32 characters",
    lastName: "write the owner's last name, 1 to 32 characters",
};

export const allowedKeys = keysByOwner(
    {
        tenants: schemaKeys(tenantSchema),
        defaults: schemaKeys(defaultsSchema),
        resources: schemaKeys(defaultsSchema.shape.resources.unwrap()),
        database: schemaKeys(rdsDatabaseSchema),
        outbound: schemaKeys(defaultsSchema.shape.outbound.unwrap()),
        owner: schemaKeys(tenantSchema.shape.owner.unwrap()),
    },
    schemaKeys(tenantsFileSchema),
);

/** The ports the entries of a file name, valid or not. */
export function portsIn(rawTenants: readonly unknown[]): number[] {
    return rawTenants.flatMap((t) => (t !== null && typeof t === "object" && typeof (t as { port?: unknown }).port === "number" ? [(t as { port: number }).port] : []));
}

/** A port no entry of the file uses, next to the ones in use: what a fix suggests. */
export function freePort(used: readonly number[]): number {
    const taken = new Set(used);
    const valid = used.filter((p) => Number.isInteger(p) && p >= 1024 && p < 65535);
    for (let port = valid.length > 0 ? Math.max(...valid) + 1 : 5701; port <= 65535; port++) if (!taken.has(port)) return port;
    for (let port = 1024; port <= 65535; port++) if (!taken.has(port)) return port;
    return 5701;
}

/** {@link HINTS} with examples of an id and a port that no entry of this file uses. */
export function hintsFor(rawTenants: readonly unknown[]): FieldHints {
    const ids = new Set(rawTenants.map((t) => (t !== null && typeof t === "object" ? (t as { id?: unknown }).id : undefined)));
    const [first, second] = ["acme", "client-a", "globex", "initech", "umbrella", "hooli"].filter((id) => !ids.has(id));
    return {
        ...HINTS,
        id: `use a DNS label of at most ${TENANT_ID_MAX_LENGTH} characters: lowercase letters, digits and hyphens, starting with a letter, such as "${first}" or "${second}"`,
        port: `use a whole number from 1024 to 65535 that no other tenant on the same target uses, such as ${freePort(portsIn(rawTenants))}`,
    };
}
