/**
 * The fully resolved plan of one tenant: defaults applied, names, images and limits decided.
 * Components only declare resources from it; nothing downstream re-reads tenants.json.
 */
import { BUILT_IN_DEFAULTS, DatabaseSpec, TenantEntry, TenantSettings } from "./tenantsSchema";
import { DatabasePlan, planRds } from "./database";
import { TenantNames, tenantNames } from "./names";
import { TenantSizing, sizeTenant } from "./sizing";
import { TenantImages, PINNED, tenantImages } from "./versions";
import type { Target } from "../targets/targets";

export interface TenantBudget {
    cpus: number;
    memoryMb: number;
    diskGb: number;
}

export interface OutboundExceptions {
    allowHostnames: readonly string[];
    allowIpRanges: readonly string[];
}

export type TenantStatus = "active" | "suspended" | "archived";

/** Which community node packages the tenant's owner may install: none, n8n-verified ones, or any. */
export type CommunityPackages = "off" | "verified" | "any";

/** When the backup sidecar takes a set, and which sets it keeps. */
export interface BackupPlan {
    schedule: "hourly" | "daily";
    periodSeconds: number;
    keep: { hourly: number; daily: number; weekly: number };
}

/** The tenant's owner, created by n8n itself from its environment at start (no setup page). */
export interface OwnerPlan {
    email: string;
    firstName: string;
    lastName: string;
}

export interface TenantPlan {
    id: string;
    target: Target;
    /** Its host name behind the target's edge; undefined on a target without one. */
    domain: string | undefined;
    /** Set at provisioning when tenants.json names one (always on an edge target). */
    owner: OwnerPlan | undefined;
    /** Host port of the editor on the target. */
    port: number;
    /** Public URL of the editor and webhooks, ending with `/`. */
    url: string;
    n8nVersion: string;
    images: TenantImages;
    workers: number;
    /** Executions each worker runs at once. */
    concurrency: number;
    budget: TenantBudget;
    sizing: TenantSizing;
    timezone: string;
    /** `archived`: final backup taken, containers removed, volumes, backups and key kept. */
    status: TenantStatus;
    backup: BackupPlan;
    /** Its own PostgreSQL container, or its own RDS instance with every setting decided. */
    database: DatabasePlan;
    /** Extra n8n environment variables, already checked against the reserved ones. */
    env: Readonly<Record<string, string>>;
    /** Exceptions to n8n's protection against requests to private, local and metadata addresses. */
    outbound: OutboundExceptions;
    /** Community node packages run unsandboxed in main and workers: off unless sold. */
    communityPackages: CommunityPackages;
    names: TenantNames;
}

export const MIB_PER_GIB = 1024;

/** A tenant's settings with `defaults` and the built-in defaults applied, before targets are looked up. */
export interface ResolvedSettings {
    target: string | undefined;
    n8nVersion: string;
    workers: number;
    concurrency: number;
    resources: { cpus: number; memoryGb: number; diskGb: number };
    timezone: string;
    status: TenantStatus;
    backup: BackupPlan;
    database: DatabaseSpec;
    env: Record<string, string>;
    outbound: OutboundExceptions;
    communityPackages: CommunityPackages;
}

export function resolveSettings(entry: TenantEntry, defaults: TenantSettings, defaultTarget: string | undefined): ResolvedSettings {
    return {
        target: entry.target ?? defaults.target ?? defaultTarget,
        n8nVersion: entry.n8nVersion ?? defaults.n8nVersion ?? PINNED.n8n,
        workers: entry.workers ?? defaults.workers ?? BUILT_IN_DEFAULTS.workers,
        concurrency: entry.concurrency ?? defaults.concurrency ?? BUILT_IN_DEFAULTS.concurrency,
        resources: { ...BUILT_IN_DEFAULTS.resources, ...defaults.resources, ...entry.resources },
        timezone: entry.timezone ?? defaults.timezone ?? BUILT_IN_DEFAULTS.timezone,
        status: entry.status ?? defaults.status ?? BUILT_IN_DEFAULTS.status,
        backup: backupPlan(entry.backup, defaults.backup),
        database: entry.database ?? defaults.database ?? BUILT_IN_DEFAULTS.database,
        env: { ...defaults.env, ...entry.env },
        // Field by field, like resources: a tenant's own list replaces the default one.
        outbound: {
            allowHostnames: entry.outbound?.allowHostnames ?? defaults.outbound?.allowHostnames ?? BUILT_IN_DEFAULTS.outbound.allowHostnames,
            allowIpRanges: entry.outbound?.allowIpRanges ?? defaults.outbound?.allowIpRanges ?? BUILT_IN_DEFAULTS.outbound.allowIpRanges,
        },
        communityPackages: entry.communityPackages ?? defaults.communityPackages ?? BUILT_IN_DEFAULTS.communityPackages,
    };
}

/** Field by field, like resources: the tenant's own, else `defaults.backup`, else the built-in defaults. */
function backupPlan(own: TenantSettings["backup"], defaults: TenantSettings["backup"]): BackupPlan {
    const schedule = own?.schedule ?? defaults?.schedule ?? BUILT_IN_DEFAULTS.backup.schedule;
    return {
        schedule,
        periodSeconds: schedule === "hourly" ? 3600 : 86400,
        keep: { ...BUILT_IN_DEFAULTS.backup.keep, ...defaults?.keep, ...own?.keep },
    };
}

export function budgetOf(settings: ResolvedSettings): TenantBudget {
    return {
        cpus: settings.resources.cpus,
        memoryMb: Math.floor(settings.resources.memoryGb * MIB_PER_GIB),
        diskGb: settings.resources.diskGb,
    };
}

/**
 * The tenant's host name behind its target's edge: its own `domain`, else `<id>.<baseDomain>`;
 * undefined on a target without an edge, or when neither is set (validation reports it).
 */
export function tenantDomain(entry: Pick<TenantEntry, "id" | "domain">, target: Pick<Target, "edge">): string | undefined {
    if (!target.edge) return undefined;
    return entry.domain ?? (target.edge.baseDomain === undefined ? undefined : `${entry.id}.${target.edge.baseDomain}`);
}

/**
 * The tenant's public URL, normalised (lower-case host, default port dropped, ending with "/"):
 * behind an edge `https://<its host name>/` (with the edge's port when not 443); else its own
 * `url`, else the target's public host and the tenant's port.
 */
export function tenantUrl(entry: Pick<TenantEntry, "id" | "url" | "port" | "domain">, target: Pick<Target, "publicHost" | "edge">): string {
    if (target.edge) {
        const domain = tenantDomain(entry, target);
        if (domain === undefined) throw new Error(`internal: tenant ${entry.id} behind an edge has no host name; validation reports it first`);
        return new URL(`https://${domain}:${target.edge.httpsPort}/`).href;
    }
    return new URL(entry.url ?? `http://${target.publicHost}:${entry.port}/`).href;
}

/** Callers validate first: an RDS tenant's target has its `aws` settings. */
function planDatabase(tenantId: string, database: DatabaseSpec, target: Target): DatabasePlan {
    if (database.kind === "container") return database;
    if (!target.aws) throw new Error(`internal: RDS tenant ${tenantId} on target ${target.name} without aws settings passed validation`);
    return planRds(tenantId, database, target.aws);
}

export function planTenant(entry: TenantEntry, settings: ResolvedSettings, target: Target): TenantPlan {
    const budget = budgetOf(settings);
    return {
        id: entry.id,
        target,
        domain: tenantDomain(entry, target),
        owner: entry.owner,
        port: entry.port,
        url: tenantUrl(entry, target),
        n8nVersion: settings.n8nVersion,
        images: tenantImages(settings.n8nVersion),
        workers: settings.workers,
        concurrency: settings.concurrency,
        budget,
        sizing: sizeTenant(budget, settings.workers, settings.database.kind),
        timezone: settings.timezone,
        status: settings.status,
        backup: settings.backup,
        database: planDatabase(entry.id, settings.database, target),
        env: settings.env,
        outbound: settings.outbound,
        communityPackages: settings.communityPackages,
        names: tenantNames(entry.id),
    };
}
