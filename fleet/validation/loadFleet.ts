/**
 * tenants.json -> a validated, fully resolved plan of every tenant, or every problem at once.
 * Plain TypeScript: `npm run validate`, `pulumi preview` and the tests all call this.
 */
import { Node as JsonNode, ParseError, getNodePath, parseTree, printParseErrorCode, getNodeValue } from "jsonc-parser";
import { z } from "zod";
import { FieldHints, JsonPath, Problem, issueToProblems, keysByOwner, lineAndColumn, locate, schemaKeys } from "./problems";
import { BUILT_IN_DEFAULTS, MAX_WORKERS, TenantEntry, TenantSettings, defaultsSchema, rdsDatabaseSchema, tenantSchema, tenantsFileSchema } from "./tenantsSchema";
import { TENANT_ID_MAX_LENGTH, collisionKey, tenantNames } from "./names";
import { containerCount, minimumCpus, minimumMemoryMb } from "./sizing";
import { isolationKeyReason } from "./reservedEnv";
import { ResolvedSettings, TenantPlan, budgetOf, planTenant, resolveSettings, tenantUrl, MIB_PER_GIB } from "./plan";
import { capacityUsage } from "./capacity";
import { rdsCaRegions } from "./rds";
import type { Targets } from "./targets";

/** Smallest disk budget: PostgreSQL's first files and n8n's migrations need a little over 100 MiB. */
export const MIN_DISK_GB = 1;

const HINTS: FieldHints = {
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
    engineVersion: 'write a PostgreSQL major version, "16", "17" or "18", or an exact minor such as "17.6"',
    multiAz: "write true or false",
    backupRetentionDays: "write whole days from 7 to 35",
    env: 'write an object of "NAME": "value" pairs, values as strings',
    outbound: 'write { "allowHostnames": ["api.partner.example"], "allowIpRanges": ["10.20.0.0/16"] }',
    allowHostnames: 'write a list of host names, such as ["api.partner.example", "*.partner.example"]',
    allowIpRanges: 'write a list of ranges in CIDR form, such as ["10.20.0.0/16"]',
};

const allowedKeys = keysByOwner(
    {
        tenants: schemaKeys(tenantSchema),
        defaults: schemaKeys(defaultsSchema),
        resources: schemaKeys(defaultsSchema.shape.resources.unwrap()),
        database: schemaKeys(rdsDatabaseSchema),
        outbound: schemaKeys(defaultsSchema.shape.outbound.unwrap()),
    },
    schemaKeys(tenantsFileSchema),
);

export interface FleetSource {
    /** Path of the tenants file as the user wrote it; every message names it. */
    file: string;
    text: string;
    targets: Targets;
    /** `n8n-fleet:defaultTarget`; with a single target, that target. */
    defaultTarget?: string;
    /** Where the targets are declared, for messages: `Pulumi.dev.yaml`. */
    stackFile: string;
}

export type FleetResult = { ok: true; tenants: TenantPlan[] } | { ok: false; problems: Problem[] };

const JSON_ERRORS: Record<string, string> = {
    InvalidSymbol: "unexpected character",
    InvalidNumberFormat: "malformed number",
    PropertyNameExpected: "expected a property name in double quotes (a trailing comma?)",
    ValueExpected: "expected a value",
    ColonExpected: "expected a colon after the property name",
    CommaExpected: "expected a comma between entries",
    CloseBraceExpected: "expected } to close an object",
    CloseBracketExpected: "expected ] to close an array",
    EndOfFileExpected: "unexpected text after the end of the document",
    InvalidCommentToken: "comments are not allowed in JSON",
    UnexpectedEndOfComment: "comments are not allowed in JSON",
    UnexpectedEndOfString: "unterminated string",
    UnexpectedEndOfNumber: "unterminated number",
    InvalidUnicode: "invalid unicode escape",
    InvalidEscapeCharacter: "invalid escape character in a string",
    InvalidCharacter: "invalid character in a string",
};

interface Parsed {
    text: string;
    tree: JsonNode | undefined;
    data: unknown;
}

function parseJson(source: FleetSource): Parsed | Problem[] {
    const errors: ParseError[] = [];
    const tree = parseTree(source.text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    // Only the first syntax error is reliable: the parser's later ones follow from it.
    const [first] = errors;
    if (first) {
        return [
            {
                file: source.file,
                path: [],
                message: `malformed JSON: ${JSON_ERRORS[printParseErrorCode(first.error)] ?? printParseErrorCode(first.error)}. Fix: correct the JSON at this line and column; JSON allows no comments, trailing commas or single quotes.`,
                ...lineAndColumn(source.text, first.offset),
            },
        ];
    }
    return { text: source.text, tree, data: tree ? getNodeValue(tree) : undefined };
}

/**
 * Every key written twice in one object. JSON parsers keep the last one silently, so a merge
 * leftover such as `"port": 5679, "port": 5680` would deploy 5680 without a word.
 */
function duplicateKeys(source: FleetSource, tree: JsonNode | undefined): Problem[] {
    if (!tree) return [];
    const problems: Problem[] = [];
    const visit = (node: JsonNode) => {
        if (node.type === "object") {
            const first = new Map<string, JsonNode>();
            for (const property of node.children ?? []) {
                const key = property.children?.[0];
                if (!key) continue;
                const earlier = first.get(String(key.value));
                if (!earlier) {
                    first.set(String(key.value), property);
                    continue;
                }
                const was = lineAndColumn(source.text, earlier.offset);
                problems.push({
                    file: source.file,
                    path: getNodePath(key),
                    message: `"${key.value}" is written twice in this object, first at line ${was.line}, column ${was.column}; only this later one would count. Fix: keep one "${key.value}" and delete the other (often a merge leftover).`,
                    ...lineAndColumn(source.text, property.offset),
                });
            }
        }
        for (const child of node.children ?? []) visit(child);
    };
    visit(tree);
    return problems;
}

/** Where a setting was written: the tenant, else `defaults`, else the tenant as a whole (built-in default). */
function origin(index: number, entry: TenantEntry, defaults: TenantSettings, field: keyof TenantSettings, sub?: string): JsonPath {
    const has = (owner: Record<string, unknown> | undefined) =>
        owner !== undefined && owner[field] !== undefined && (sub === undefined || (owner[field] as Record<string, unknown>)[sub] !== undefined);
    const tail = sub === undefined ? [field] : [field, sub];
    if (has(entry)) return ["tenants", index, ...tail];
    if (has(defaults)) return ["defaults", ...tail];
    return ["tenants", index];
}

interface Candidate {
    index: number;
    entry: TenantEntry;
    settings: ResolvedSettings;
}

export function loadFleet(source: FleetSource): FleetResult {
    const parsed = parseJson(source);
    if (Array.isArray(parsed)) return { ok: false, problems: parsed };

    const problems: Problem[] = duplicateKeys(source, parsed.tree);
    const at = (path: JsonPath, message: string) => problems.push({ file: source.file, path, message, ...locate(parsed.text, parsed.tree, path) });
    const context = { file: source.file, text: parsed.text, tree: parsed.tree, data: parsed.data, hints: HINTS, allowedKeys, isolationHint: isolationKeyReason };

    const schemaResult = tenantsFileSchema.safeParse(parsed.data);
    if (!schemaResult.success) problems.push(...schemaResult.error.issues.flatMap((issue) => issueToProblems(issue, context)));

    const raw = parsed.data as { tenants?: unknown; defaults?: unknown } | undefined;
    const rawTenants: unknown[] = raw && Array.isArray(raw.tenants) ? raw.tenants : [];
    const defaults: TenantSettings = salvage(defaultsSchema, raw?.defaults ?? {}) ?? {};

    checkIds(rawTenants, at);

    // Entries are checked further without the fields already reported, so one run reports every problem.
    const candidates: Candidate[] = [];
    rawTenants.forEach((rawEntry, index) => {
        const entry = salvage(tenantSchema, rawEntry);
        if (entry) candidates.push({ index, entry, settings: resolveSettings(entry, defaults, source.defaultTarget) });
    });

    const placed = candidates.filter((candidate) => checkTarget(candidate, defaults, source, at) && checkDatabase(candidate, defaults, source, at));
    candidates.forEach((candidate) => checkBudget(candidate, defaults, at));
    checkPortsAndUrls(placed, source, at);
    checkCapacity(placed, source, at);

    if (problems.length > 0) return { ok: false, problems: inFileOrder(dedupe(problems)) };
    return {
        ok: true,
        tenants: placed.map(({ entry, settings }) => {
            const target = source.targets.get(settings.target ?? "");
            if (!target) throw new Error(`internal: target of ${entry.id} vanished after validation`);
            return planTenant(entry, settings, target);
        }),
    };
}

/**
 * The entry without the top-level fields that fail the schema (already reported), when what is
 * left is valid; undefined when a required field such as `id` or `port` is among them.
 */
function salvage<T>(schema: z.ZodType<T>, value: unknown): T | undefined {
    const first = schema.safeParse(value);
    if (first.success) return first.data;
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    const failing = new Set(
        first.error.issues.flatMap((issue) => (issue.path.length > 0 ? [String(issue.path[0])] : issue.code === "unrecognized_keys" ? issue.keys : [])),
    );
    const rest = Object.fromEntries(Object.entries(value).filter(([key]) => !failing.has(key)));
    const second = schema.safeParse(rest);
    return second.success ? second.data : undefined;
}

type Report = (path: JsonPath, message: string) => void;

function checkIds(rawTenants: unknown[], at: Report): void {
    const seen = new Map<string, { index: number; id: string }>();
    rawTenants.forEach((entry, index) => {
        const id = entry !== null && typeof entry === "object" ? (entry as { id?: unknown }).id : undefined;
        if (typeof id !== "string") return;
        const first = seen.get(collisionKey(id));
        if (!first) {
            seen.set(collisionKey(id), { index, id });
        } else if (first.id === id) {
            at(["tenants", index, "id"], `"${id}" is already the id of tenants[${first.index}]. Fix: give every tenant its own id; an id is the permanent key of its data.`);
        } else {
            const names = tenantNames(collisionKey(id));
            at(["tenants", index, "id"], `"${id}" collides with "${first.id}" (tenants[${first.index}]): both become database ${names.database} and containers ${names.containers.main}*. Fix: choose an id that differs in more than case, "-" or "_".`);
        }
    });
}

function checkTarget({ index, entry, settings }: Candidate, defaults: TenantSettings, source: FleetSource, at: Report): boolean {
    const declared = [...source.targets.keys()].join(", ");
    if (settings.target === undefined) {
        at(["tenants", index], `tenant "${entry.id}" has no target and ${source.stackFile} sets no n8n-fleet:defaultTarget. Fix: add "target" (one of: ${declared}) to the tenant or to "defaults".`);
        return false;
    }
    if (!source.targets.has(settings.target)) {
        at(origin(index, entry, defaults, "target"), `"${settings.target}" is not a target of this stack. Fix: use one of: ${declared}, or declare it under n8n-fleet:targets in ${source.stackFile}.`);
        return false;
    }
    return true;
}

/** An RDS database needs its target's AWS settings, and a storage ceiling no lower than its start. */
function checkDatabase({ index, entry, settings }: Candidate, defaults: TenantSettings, source: FleetSource, at: Report): boolean {
    const database = settings.database;
    if (database.kind !== "rds") return true;
    const target = source.targets.get(settings.target ?? "");
    const path = origin(index, entry, defaults, "database", "kind");
    let ok = true;
    if (target?.aws && !rdsCaRegions().has(target.aws.region)) {
        at(
            path,
            `tenant "${entry.id}" has an RDS database in ${target.aws.region}, but fleet/rds-ca/global-bundle.pem holds no RDS root certificate for that region, so n8n could not verify its TLS. Fix: refresh the bundle from AWS (fleet/rds-ca/README.md), or place the tenant on a target in another region.`,
        );
        ok = false;
    }
    if (target && !target.aws) {
        at(
            path,
            `tenant "${entry.id}" has an RDS database, but its target "${target.name}" has no aws settings. Fix: add aws { region, vpcId, subnetIds, hostSecurityGroupId } under n8n-fleet:targets.${target.name} in ${source.stackFile}, or use { "kind": "container" }.`,
        );
        ok = false;
    }
    if (database.allocatedStorageGb !== undefined && database.maxAllocatedStorageGb !== undefined && database.maxAllocatedStorageGb < database.allocatedStorageGb) {
        at(
            origin(index, entry, defaults, "database", "maxAllocatedStorageGb"),
            `maxAllocatedStorageGb ${database.maxAllocatedStorageGb} is below allocatedStorageGb ${database.allocatedStorageGb}. Fix: raise maxAllocatedStorageGb to ${database.allocatedStorageGb} or more.`,
        );
        ok = false;
    }
    return ok;
}

function gb(mb: number): string {
    return `${Math.ceil((mb / MIB_PER_GIB) * 100) / 100} GB`;
}

function checkBudget({ index, entry, settings }: Candidate, defaults: TenantSettings, at: Report): void {
    const budget = budgetOf(settings);
    const needed = minimumMemoryMb(settings.workers, settings.database.kind);
    if (budget.memoryMb < needed) {
        at(
            origin(index, entry, defaults, "resources", "memoryGb"),
            `tenant "${entry.id}" has ${gb(budget.memoryMb)} of memory, but n8n 2.x main and ${settings.workers} worker(s) with their task runners, PostgreSQL and Redis need at least ${gb(needed)} to start. Fix: raise resources.memoryGb to ${gb(needed).replace(" GB", "")} or more, or lower "workers".`,
        );
    }
    const neededCpus = minimumCpus(settings.workers, settings.database.kind);
    if (budget.cpus < neededCpus) {
        at(
            origin(index, entry, defaults, "resources", "cpus"),
            `tenant "${entry.id}" has ${budget.cpus} CPU, but its ${containerCount(settings.workers, settings.database.kind)} containers need at least ${neededCpus} CPU (0.25 for each n8n process, 0.1 for the others). Fix: raise resources.cpus to ${neededCpus} or more, or lower "workers".`,
        );
    }
    if (budget.diskGb < MIN_DISK_GB) {
        at(origin(index, entry, defaults, "resources", "diskGb"), `tenant "${entry.id}" has ${budget.diskGb} GB of disk. Fix: give it at least ${MIN_DISK_GB} GB for PostgreSQL, Redis and n8n's files.`);
    }
}

function checkPortsAndUrls(placed: Candidate[], source: FleetSource, at: Report): void {
    const byTargetPort = new Map<string, Candidate>();
    const byUrl = new Map<string, Candidate>();
    for (const candidate of placed) {
        const key = `${candidate.settings.target}:${candidate.entry.port}`;
        const first = byTargetPort.get(key);
        if (first) {
            at(["tenants", candidate.index, "port"], `port ${candidate.entry.port} is already published by "${first.entry.id}" (tenants[${first.index}]) on target "${candidate.settings.target}". Fix: choose a port no other tenant on this target uses.`);
            // Its default URL is the other tenant's too; one message says it.
            continue;
        }
        byTargetPort.set(key, candidate);
        const target = source.targets.get(candidate.settings.target ?? "");
        if (!target) continue;
        // Default URLs take part too: a tenant's own url may be another tenant's default one.
        const url = tenantUrl(candidate.entry, target);
        const sameUrl = byUrl.get(url);
        if (sameUrl) {
            const whose = (c: Candidate) => (c.entry.url === undefined ? `the default URL of "${c.entry.id}" (tenants[${c.index}], from its target's publicHost and its port)` : `the URL of "${c.entry.id}" (tenants[${c.index}])`);
            const path: JsonPath = candidate.entry.url === undefined ? ["tenants", candidate.index, "port"] : ["tenants", candidate.index, "url"];
            at(path, `${url} is already ${whose(sameUrl)}. Fix: give every tenant its own public URL.`);
        } else {
            byUrl.set(url, candidate);
        }
    }
}

function checkCapacity(placed: Candidate[], source: FleetSource, at: Report): void {
    const usage = capacityUsage(
        placed.map(({ entry, settings }) => ({ id: entry.id, target: settings.target ?? "", budget: budgetOf(settings) })),
        source.targets,
    );
    for (const row of usage) {
        const name = row.target.name;
        const last = placed.filter((c) => c.settings.target === name).at(-1);
        const path: JsonPath = last ? ["tenants", last.index] : ["tenants"];
        if (row.cpus > row.cpuAllowance) {
            at(path, `target "${name}" is over capacity: its ${row.tenantIds.length} tenants ask for ${row.cpus} CPU, it declares ${row.target.capacity.cpus} CPU with overcommit ${row.target.overcommit.cpu} (${row.cpuAllowance} allowed). Fix: lower resources.cpus, move tenants to another target, or raise n8n-fleet:targets.${name}.overcommit.cpu in ${source.stackFile}.`);
        }
        if (row.memoryGb > row.memoryGbAllowance) {
            at(path, `target "${name}" is over capacity: its ${row.tenantIds.length} tenants ask for ${row.memoryGb} GB of memory, it declares ${row.target.capacity.memoryGb} GB with overcommit ${row.target.overcommit.memory} (${row.memoryGbAllowance} GB allowed). Fix: lower resources.memoryGb, move tenants to another target, or raise n8n-fleet:targets.${name}.overcommit.memory in ${source.stackFile}.`);
        }
        const disk = row.target.capacity.diskGb;
        if (disk !== undefined && row.diskGb > disk) {
            at(path, `target "${name}" is over capacity: its ${row.tenantIds.length} tenants ask for ${row.diskGb} GB of disk, it declares ${disk} GB. Fix: lower resources.diskGb, move tenants to another target, or raise n8n-fleet:targets.${name}.capacity.diskGb in ${source.stackFile}.`);
        }
    }
}

function inFileOrder(problems: Problem[]): Problem[] {
    return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function dedupe(problems: Problem[]): Problem[] {
    const seen = new Set<string>();
    return problems.filter((problem) => {
        const key = `${problem.path.join("/")}|${problem.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}
