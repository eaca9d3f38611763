/**
 * The one schema of tenants.json. `tenants.schema.json` is generated from it (`npm run schema`)
 * for editors and GitHub; validation, the plan and the docs all read this file.
 */
import { BlockList } from "node:net";
import { z } from "zod";
import { TENANT_ID_MAX_LENGTH, TENANT_ID_PATTERN } from "./names";
import { isTimeZone } from "./timezone";
import { ALLOWED_ENV_NAME, reservedEnvReason } from "./reservedEnv";
import { HOST_NAME_PATTERN } from "../targets/targets";

/** A URL that is only scheme, host and port (a trailing "/" is fine): no path, query, fragment or user. */
function isHostRoot(url: string): boolean {
    const parsed = URL.parse(url);
    return parsed !== null && parsed.pathname === "/" && parsed.search === "" && parsed.hash === "" && parsed.username === "" && parsed.password === "";
}

/** Why a tenant's url is not an http(s) URL, said with its fix. */
function urlError(text: string): string {
    const example = (host: string) => `such as "https://${host}"`;
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return `${JSON.stringify(text)} has no scheme. Fix: write the full address with https:// or http://, ${example(text.replace(/^\/+/, "") || "acme.n8n.example.com")}`;
    if (!/^https?:\/\//i.test(text)) return `${JSON.stringify(text)} is not an http or https address. Fix: write it with https:// or http://, ${example("acme.n8n.example.com")}`;
    const port = /^https?:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/i.exec(text)?.[1];
    if (port !== undefined && Number(port) > 65535) return `${JSON.stringify(text)} has port ${port}, and ports end at 65535. Fix: leave the port out for 443 (https) or 80 (http), or write one from 1 to 65535`;
    return `${JSON.stringify(text)} is not a valid URL. Fix: write scheme and host name only, ${example("acme.n8n.example.com")}`;
}

/** Upper bound on queue workers per tenant: more belongs in a bigger budget or a second target. */
export const MAX_WORKERS = 16;

/** Fleet-wide values for every field a tenant may leave out. GB means GiB throughout. */
export const BUILT_IN_DEFAULTS = {
    workers: 1,
    concurrency: 10,
    resources: { cpus: 2, memoryGb: 4, diskGb: 10 },
    timezone: "UTC",
    status: "active",
    database: { kind: "container" },
    env: {},
    outbound: { allowHostnames: [], allowIpRanges: [] },
    backup: { schedule: "daily", keep: { hourly: 24, daily: 7, weekly: 4 } },
    communityPackages: "off",
} as const;

const resources = z
    .strictObject({
        cpus: z.number().positive().meta({ description: `CPU cores for all of the tenant's containers together. Default ${BUILT_IN_DEFAULTS.resources.cpus}.` }),
        memoryGb: z.number().positive().meta({ description: `Memory in GiB for all of the tenant's containers together. Default ${BUILT_IN_DEFAULTS.resources.memoryGb}.` }),
        diskGb: z.number().positive().meta({ description: `Disk budget in GiB for the tenant's volumes. Default ${BUILT_IN_DEFAULTS.resources.diskGb}.` }),
    })
    .partial()
    .meta({ description: "The tenant's budget; fields left out come from `defaults.resources`, then the built-in defaults." });

/** What an RDS tenant gets when its `database` says no more than `{ "kind": "rds" }`. */
export const RDS_DEFAULTS = {
    instanceClass: "db.t4g.small",
    allocatedStorageGb: 20,
    maxAllocatedStorageGb: 100,
    engineVersion: "17",
    multiAz: false,
    backupRetentionDays: 7,
} as const;

export const rdsDatabaseSchema = z.strictObject({
    kind: z.literal("rds").meta({ description: "A managed AWS RDS PostgreSQL instance of the tenant's own, in its target's AWS region." }),
    instanceClass: z
        .string()
        .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/)
        .optional()
        .meta({ description: `RDS instance class. Default \`${RDS_DEFAULTS.instanceClass}\`.` }),
    allocatedStorageGb: z.int().min(20).max(65536).optional().meta({ description: `Storage at creation, GiB (gp3, at least 20). Default ${RDS_DEFAULTS.allocatedStorageGb}.` }),
    maxAllocatedStorageGb: z.int().min(20).max(65536).optional().meta({ description: `Storage autoscaling ceiling, GiB. Default ${RDS_DEFAULTS.maxAllocatedStorageGb}.` }),
    engineVersion: z
        .string()
        .regex(/^1[6-8]$/, {
            error: (issue) =>
                /^1[6-8]\.\d+$/.test(String(issue.input))
                    ? `${JSON.stringify(issue.input)} pins a minor version, but AWS upgrades minors itself: after its next one the pin would ask RDS for a downgrade it refuses. Fix: write the major version, "${String(issue.input).split(".")[0]}"`
                    : `${JSON.stringify(issue.input)} is not a PostgreSQL major version RDS runs here. Fix: write "16", "17" or "18"`,
        })
        .optional()
        .meta({ description: `PostgreSQL major version: 16, 17 or 18; AWS applies minor versions itself. Raising it upgrades the instance (RDS snapshots it first). Default \`${RDS_DEFAULTS.engineVersion}\`.` }),
    multiAz: z.boolean().optional().meta({ description: "A standby in a second availability zone. Default false." }),
    backupRetentionDays: z.int().min(7).max(35).optional().meta({ description: `Days of automated backups, 7 to 35. Default ${RDS_DEFAULTS.backupRetentionDays}.` }),
});

const database = z
    .discriminatedUnion("kind", [
        z.strictObject({
            kind: z.literal("container").meta({ description: "A PostgreSQL container of the tenant's own, on its internal network." }),
        }),
        rdsDatabaseSchema,
    ])
    .meta({ description: 'Where the tenant\'s PostgreSQL runs. Default `{ "kind": "container" }`.' });

const env = z
    .record(
        z
            .string()
            .regex(/^[A-Z_][A-Z0-9_]*$/, { abort: true, error: (issue) => `${JSON.stringify(issue.input)} is not an environment variable name. Fix: use upper case letters, digits and underscores` })
            .regex(ALLOWED_ENV_NAME, { error: (issue) => `${String(issue.input)} cannot be set: ${reservedEnvReason(String(issue.input)) ?? "it is reserved"}` }),
        z.string(),
    )
    .meta({
        description:
            "Extra n8n environment variables (SMTP, node allow-lists, ...) for the main and the workers. Variables n8n-fleet sets itself, and everything that touches isolation (database, Redis, encryption key, runner token), are refused.",
    });

/** The cloud metadata service (AWS, GCP, Azure; AWS's IPv6 one): it hands out the host's cloud credentials. */
const METADATA_ADDRESSES = [
    { address: "169.254.169.254", family: "ipv4" },
    { address: "fd00:ec2::254", family: "ipv6" },
] as const;

/** The metadata address a CIDR range holds, if any (0.0.0.0/0 holds it too). */
export function metadataAddressIn(range: string): string | undefined {
    const [network, prefix] = range.split("/");
    const family = network.includes(":") ? "ipv6" : "ipv4";
    const list = new BlockList();
    try {
        list.addSubnet(network, Number(prefix), family);
    } catch {
        // Not a range: the CIDR check reports it.
        return undefined;
    }
    return METADATA_ADDRESSES.find((m) => m.family === family && list.check(m.address, family))?.address;
}

/** A host name n8n's allow list takes: an exact name, or `*.` and a domain (which does not match the domain itself). */
const ALLOWED_HOSTNAME = /^(\*\.)?(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

const outbound = z
    .strictObject({
        allowHostnames: z
            .array(
                z.string().regex(ALLOWED_HOSTNAME, {
                    error: (issue) => `${JSON.stringify(issue.input)} is not a host name. Fix: write a lower-case host name such as "api.partner.example" or "*.partner.example" (no scheme, port or path)`,
                }),
            )
            .meta({ description: "Host names workflows may call even when they resolve to a private or local address, such as a partner's API on a private link. `*.example.com` allows its subdomains." }),
        allowIpRanges: z
            .array(
                z
                    .union([z.cidrv4(), z.cidrv6()], {
                        error: (issue) => `${JSON.stringify(issue.input)} is not an address range. Fix: write a range in CIDR form, such as "10.20.0.0/16" or "10.20.0.5/32" for one address`,
                    })
                    .refine((range) => metadataAddressIn(range) === undefined, {
                        error: (issue) =>
                            `${JSON.stringify(issue.input)} holds ${metadataAddressIn(String(issue.input))}, the cloud metadata service, which hands the host's cloud credentials to whoever asks: no tenant's workflows may reach it. Fix: allow only the partner's own range, such as "10.20.0.0/16"`,
                    }),
            )
            .meta({ description: "Address ranges workflows may call although n8n blocks private, loopback and link-local ones, such as 10.20.0.0/16." }),
    })
    .partial()
    .meta({
        description:
            "What a tenant's workflows may call beyond the public internet. n8n's protection against server-side request forgery blocks private, loopback, link-local (cloud metadata) and documentation ranges for every tenant; these lists open exceptions. Fields left out come from `defaults.outbound`.",
    });

/** Fields a tenant may set and `defaults` may give for every tenant. */
const tenantSettings = {
    target: z.string().min(1).meta({ description: "The Docker host the tenant runs on: a key of `n8n-fleet:targets` in the stack config. Default: `n8n-fleet:defaultTarget`." }),
    n8nVersion: z
        .string()
        .regex(/^2\.\d+\.\d+$/)
        .meta({ description: "Exact n8n 2.x version of the tenant's images, such as `2.41.1`. Default: the fleet's pinned version." }),
    workers: z.int().min(1).max(MAX_WORKERS).meta({ description: `Number of queue workers, 1 to ${MAX_WORKERS}. Default ${BUILT_IN_DEFAULTS.workers}.` }),
    concurrency: z.int().min(1).max(100).meta({ description: `Executions each worker runs at once (n8n worker --concurrency). Default ${BUILT_IN_DEFAULTS.concurrency}.` }),
    resources,
    timezone: z
        .string()
        .refine(isTimeZone, { error: (issue) => `${JSON.stringify(issue.input)} is not an IANA time zone. Fix: use one such as "Europe/Berlin", "America/New_York" or "UTC", with exact capitals` })
        .meta({ description: `IANA time zone for schedules, such as \`Europe/Berlin\`. Default \`${BUILT_IN_DEFAULTS.timezone}\`.` }),
    status: z.enum(["active", "suspended", "archived"]).meta({
        description:
            "`suspended` stops every container of the tenant and keeps all its data. `archived` takes a final backup, then removes its containers and keeps its volumes, backups and key; only an archived tenant may leave the file. Default `active`.",
    }),
    backup: z
        .strictObject({
            schedule: z.enum(["hourly", "daily"]).meta({ description: `How often the tenant's backup sidecar takes a backup set. Default \`${BUILT_IN_DEFAULTS.backup.schedule}\`.` }),
            keep: z
                .strictObject({
                    hourly: z.int().min(0).max(168).meta({ description: `Newest hourly sets kept (hourly schedule). Default ${BUILT_IN_DEFAULTS.backup.keep.hourly}.` }),
                    daily: z.int().min(1).max(366).meta({ description: `Newest daily sets kept: the last set of each day. Default ${BUILT_IN_DEFAULTS.backup.keep.daily}.` }),
                    weekly: z.int().min(0).max(520).meta({ description: `Weekly sets kept beyond those: the last set of each ISO week. Default ${BUILT_IN_DEFAULTS.backup.keep.weekly}.` }),
                })
                .partial()
                .meta({ description: "Retention: a set is kept while it is one of the newest hourly, daily or weekly ones." }),
        })
        .partial()
        .meta({ description: "Scheduled backups of the tenant's database and n8n files into a volume of its own. Fields left out come from `defaults.backup`." }),
    database,
    env,
    outbound,
    communityPackages: z.enum(["off", "verified", "any"]).meta({
        description:
            "Whether the tenant's owner may install community node packages, which run unsandboxed in its main and workers: `off`, `verified` (those n8n has verified) or `any`. Default `off`; turning it on is shown as a risk by `npm run plan`.",
    }),
};

/** What `defaults` may hold: every tenant setting, each optional. */
export const defaultsSchema = z.strictObject(tenantSettings).partial();

export const tenantSchema = defaultsSchema.extend({
    id: z
        .string()
        .max(TENANT_ID_MAX_LENGTH)
        .regex(TENANT_ID_PATTERN, { error: (issue) => `${JSON.stringify(issue.input)} is not a DNS label: lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen` })
        // RDS refuses "--" in instance, parameter group and snapshot identifiers, which derive from the id.
        .refine((id) => !id.includes("--"), {
            error: (issue) => `${JSON.stringify(issue.input)} has two hyphens in a row, which AWS refuses in the RDS identifiers derived from it. Fix: use single hyphens, such as "${String(issue.input).replace(/-{2,}/g, "-")}"`,
        })
        .meta({ description: `Stable key of the tenant: a DNS label of at most ${TENANT_ID_MAX_LENGTH} characters (lowercase letters, digits, hyphens; starts with a letter). Never rename it: every resource name derives from it.` }),
    port: z.int().min(1024).max(65535).meta({ description: "Host port the tenant's editor is published on, unique on its target, 1024 to 65535." }),
    url: z
        // abort: the host-root check below needs a URL that parses.
        .url({ protocol: /^https?$/, abort: true, error: (issue) => (typeof issue.input === "string" ? urlError(issue.input) : undefined) })
        .refine(isHostRoot, {
            error: (issue) =>
                `${JSON.stringify(issue.input)} is more than a scheme, a host and a port. Fix: give the tenant a host name of its own, such as "https://acme.n8n.example.com"; n8n serves its editor, API and webhooks at the root of a host, and its login cookie covers the whole host, so tenants under one host name would share logins`,
        })
        .optional()
        .meta({ description: "Public URL of the tenant's editor and webhooks, on a target without an edge. Default `http://<target publicHost>:<port>`." }),
    domain: z
        .string()
        .regex(HOST_NAME_PATTERN, {
            error: (issue) =>
                `${JSON.stringify(issue.input)} is not a host name. Fix: write a lower-case host name of two labels or more, such as "acme.n8n.example.com" (no scheme, port, path or trailing dot)`,
        })
        .optional()
        .meta({ description: "Host name of the tenant on a target with an edge: its editor and webhooks are at https://<domain>/. Default `<id>.<the target's edge.baseDomain>`." }),
    owner: z
        .strictObject({
            email: z.email({ error: (issue) => `${JSON.stringify(issue.input)} is not an e-mail address. Fix: write the client's address, such as "owner@acme.example"` }).meta({ description: "The owner's e-mail: the sign-in name." }),
            firstName: z.string().min(1).max(32).meta({ description: "The owner's first name." }),
            lastName: z.string().min(1).max(32).meta({ description: "The owner's last name." }),
        })
        .optional()
        .meta({
            description:
                "The tenant's owner, set at provisioning with a generated password (`pulumi stack output ownerPasswords --show-secrets`), so that no owner-setup page is ever open. Required on a target with an edge.",
        }),
});

export const tenantsFileSchema = z
    .strictObject({
        $schema: z.string().meta({ description: "Path of the JSON Schema for editors: `./tenants.schema.json`." }),
        defaults: defaultsSchema.meta({ description: "Values for every tenant that does not set them itself." }),
        tenants: z.array(tenantSchema).meta({ description: "The clients, one isolated n8n each." }),
    })
    .partial({ $schema: true, defaults: true })
    .meta({ title: "n8n-fleet tenants", description: "The clients of an n8n-fleet stack: one fully isolated n8n per entry." });

export type TenantsFile = z.infer<typeof tenantsFileSchema>;
export type TenantEntry = z.infer<typeof tenantSchema>;
export type TenantSettings = NonNullable<TenantsFile["defaults"]>;
export type DatabaseSpec = z.infer<typeof database>;
export type RdsDatabaseEntry = z.infer<typeof rdsDatabaseSchema>;

/** The text of tenants.schema.json, for editors and GitHub. */
export function renderTenantsJsonSchema(): string {
    const schema = z.toJSONSchema(tenantsFileSchema, {
        target: "draft-2020-12",
        io: "input",
        // zod names formats JSON Schema does not define ("cidrv4"); their patterns already check the same.
        override: ({ jsonSchema }) => {
            if (typeof jsonSchema.format === "string" && !STANDARD_FORMATS.has(jsonSchema.format) && jsonSchema.pattern !== undefined) delete jsonSchema.format;
        },
    });
    return `${JSON.stringify(schema, null, 2)}\n`;
}

/** The formats of JSON Schema draft 2020-12 that zod emits for this schema. */
const STANDARD_FORMATS = new Set(["uri", "email", "ipv4", "ipv6", "date-time", "date", "time", "uuid"]);
