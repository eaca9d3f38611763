/**
 * What a change of tenants.json (and of the stack's targets) means, per tenant and per target, and
 * what in it is risky, for the person who reviews the pull request. Plain data; the text and
 * Markdown renderings live in `changePlanReport.ts`.
 */
import type { TenantPlan } from "../tenants/plan";
import { MIB_PER_GIB } from "../tenants/plan";
import type { Targets } from "../targets/targets";
import { capacityUsage } from "../tenants/capacity";
import { BUILT_IN_DEFAULTS } from "../tenants/tenantsSchema";
import { PINNED } from "../tenants/versions";

/** One side of the comparison: a stack's validated tenants and its targets. */
export interface FleetSnapshot {
    tenants: readonly TenantPlan[];
    targets: Targets;
}

export type TenantChangeKind = "added" | "removed" | "changed";

export interface TenantChange {
    id: string;
    kind: TenantChangeKind;
    /** Target after the change (before it, for a removed tenant). */
    target: string;
    /** What changed, one phrase each: "workers 1 -> 2". For an added tenant, what it gets. */
    details: string[];
}

export interface Risk {
    tenant: string;
    /** What is risky about the change. */
    what: string;
    /** What the operator should do about it. */
    todo: string;
}

/** Allotted against capacity for one resource of one target. */
export interface Load {
    before: number | undefined;
    after: number | undefined;
    /** What the target declares it has (after the change). */
    capacity: number | undefined;
    /** Capacity times the overcommit ratio: the most validation accepts. */
    allowance: number | undefined;
}

export interface TargetLoad {
    target: string;
    tenantsBefore: number;
    tenantsAfter: number;
    cpus: Load;
    memoryGb: Load;
    diskGb: Load;
}

export interface ChangePlan {
    changes: TenantChange[];
    unchanged: string[];
    /** What must not be merged as it is: the command exits non-zero. */
    blocked: Risk[];
    risks: Risk[];
    targets: TargetLoad[];
}

/** Where the offboarding steps are, for the removal risk. */
export const OFFBOARDING_DOCS = 'README.md#day-two-operations, "Offboarding"';

/** Where moving a tenant between targets is explained. */
export const MOVING_DOCS = 'README.md#operating-the-fleet, "Moving a tenant to another target"';

function versionParts(version: string): number[] {
    return version.split(".").map(Number);
}

function compareVersions(a: string, b: string): number {
    const [x, y] = [versionParts(a), versionParts(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
        const d = (x[i] ?? 0) - (y[i] ?? 0);
        if (d !== 0) return d;
    }
    return 0;
}

function gb(memoryMb: number): number {
    return Math.round((memoryMb / MIB_PER_GIB) * 100) / 100;
}

function budgetText(t: TenantPlan): string {
    return `${t.budget.cpus} CPU / ${gb(t.budget.memoryMb)} GB / ${t.budget.diskGb} GB disk`;
}

function plural(n: number, one: string, many = `${one}s`): string {
    return `${n} ${n === 1 ? one : many}`;
}

/** Names only: values may be secrets and never appear in a plan. */
function envChange(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): string | undefined {
    const added = Object.keys(after).filter((name) => !(name in before));
    const removed = Object.keys(before).filter((name) => !(name in after));
    const changed = Object.keys(after).filter((name) => name in before && before[name] !== after[name]);
    const parts = [...added.map((n) => `+${n}`), ...changed.map((n) => `~${n}`), ...removed.map((n) => `-${n}`)];
    return parts.length > 0 ? `environment ${parts.join(" ")}` : undefined;
}

function listChange(what: string, before: readonly string[], after: readonly string[]): string | undefined {
    const parts = [...after.filter((x) => !before.includes(x)).map((x) => `+${x}`), ...before.filter((x) => !after.includes(x)).map((x) => `-${x}`)];
    return parts.length > 0 ? `${what} ${parts.join(" ")}` : undefined;
}

function compareTenant(before: TenantPlan, after: TenantPlan, risks: Risk[], blockers: Risk[]): string[] {
    const details: string[] = [];
    const risk = (what: string, todo: string) => risks.push({ tenant: after.id, what, todo });

    if (before.status !== after.status) {
        if (after.status === "suspended") {
            details.push("suspended: its containers are replaced by stopped ones, data kept");
            risk("is suspended: its editor, webhooks and schedules stop until it is resumed.", "Make sure the client expects it; resume with \"status\": \"active\".");
        } else if (after.status === "archived" && before.status === "suspended") {
            details.push("archived while suspended");
            blockers.push({
                tenant: after.id,
                what: "is archived while suspended: its final backup needs its PostgreSQL running, and a suspended tenant's is stopped.",
                todo: 'Resume it ("status": "active") and deploy first, then archive it in a later change.',
            });
        } else if (after.status === "archived") {
            details.push("archived: a final backup, then its containers are removed; volumes, backups and key kept");
            risk("is archived: its n8n stops for good after a final backup set.", "Escrow its key (encryptionKeys) now; once deployed, it may leave tenants.json, and its data stays on the host until deleted by hand (README, Offboarding).");
        } else {
            details.push(`${before.status === "archived" ? "restored from the archive" : "resumed"}: its containers are started again`);
        }
    }
    const order = compareVersions(after.n8nVersion, before.n8nVersion);
    if (order !== 0) {
        details.push(`n8n ${before.n8nVersion} -> ${after.n8nVersion} (${order > 0 ? "upgrade" : "downgrade"})`);
        if (order < 0) {
            risk(
                `goes back from n8n ${before.n8nVersion} to ${after.n8nVersion}: n8n cannot run on a database that a newer version has migrated.`,
                "Do not merge unless you also restore a backup taken before the upgrade; otherwise upgrade forward to a fixed version.",
            );
        } else if (versionParts(after.n8nVersion)[0] !== versionParts(before.n8nVersion)[0]) {
            risk(`moves to a new major n8n version (${before.n8nVersion} -> ${after.n8nVersion}).`, "Read n8n's breaking changes for that major, escrow the key and take a backup before merging.");
        }
    }
    if (before.workers !== after.workers) details.push(`workers ${before.workers} -> ${after.workers}`);
    if (before.concurrency !== after.concurrency) details.push(`concurrency ${before.concurrency} -> ${after.concurrency}`);
    const budgetBefore = budgetText(before);
    const budgetAfter = budgetText(after);
    if (budgetBefore !== budgetAfter) {
        details.push(`resized ${budgetBefore} -> ${budgetAfter}`);
        const shrinks = after.budget.cpus < before.budget.cpus || after.budget.memoryMb < before.budget.memoryMb;
        if (shrinks) {
            risk(
                `gets less CPU or memory (${budgetBefore} -> ${budgetAfter}); its containers restart with the smaller limits.`,
                "Check the tenant's peak memory in monitoring (or the README's Capacity figures) first: a limit under its working set gets n8n killed by the kernel mid-execution.",
            );
        }
    }
    if (before.target.name !== after.target.name) {
        details.push(`moved from target ${before.target.name} to ${after.target.name}`);
        blockers.push({
            tenant: after.id,
            what: `moves from target ${before.target.name} to ${after.target.name}: its data does not move with it, and its volumes on ${before.target.name} are protected, so \`pulumi up\` would stop halfway.`,
            todo: `Keep it on ${before.target.name} in this change; a move is done in steps, with its data copied by hand (${MOVING_DOCS}).`,
        });
    }
    // Behind an edge the port is published nowhere: changing it changes nothing the client sees.
    if (before.port !== after.port && !(before.domain !== undefined && after.domain !== undefined)) details.push(`port ${before.port} -> ${after.port}`);
    if (before.domain !== after.domain && after.domain !== undefined) {
        details.push(`host name ${before.domain ?? new URL(before.url).host} -> ${after.domain}`);
        risk(
            `changes its host name (${before.url} -> ${after.url}): the client's bookmarks, the webhook URLs registered with third parties and the OAuth redirect URLs all change with it, and the old name stops answering.`,
            `Create the DNS record of ${after.domain} before deploying; tell the client; re-register its webhooks and OAuth redirect URLs with those services after deploying.`,
        );
    } else if (before.url !== after.url) {
        details.push(`URL ${before.url} -> ${after.url}`);
        risk(`changes its public URL (${before.url} -> ${after.url}): webhooks registered with third parties still call the old one.`, "Re-register the tenant's webhooks (and OAuth redirect URLs) with those services after deploying.");
    }
    if (before.database.kind !== after.database.kind) {
        details.push(`database ${before.database.kind} -> ${after.database.kind}`);
        risk(
            `switches its database from ${before.database.kind} to ${after.database.kind}: the data does not move by itself; the old database is protected, so \`pulumi up\` will stop.`,
            "Migrate first: dump the old database, restore into the new one, then merge.",
        );
    }
    if (before.timezone !== after.timezone) details.push(`time zone ${before.timezone} -> ${after.timezone}`);
    const env = envChange(before.env, after.env);
    if (env) details.push(env);
    const outbound = listChange("outbound exceptions", exceptionsOf(before), exceptionsOf(after));
    if (outbound) details.push(outbound);
    outboundRisk(after, exceptionsOf(after).filter((x) => !exceptionsOf(before).includes(x)), risks);
    if (before.communityPackages !== after.communityPackages) {
        details.push(`community packages ${before.communityPackages} -> ${after.communityPackages}`);
        communityPackagesRisk(after, before.communityPackages, risks);
    }
    if (before.database.kind === "rds" && after.database.kind === "rds" && before.database.engineVersion !== after.database.engineVersion) {
        details.push(`PostgreSQL ${before.database.engineVersion} -> ${after.database.engineVersion}`);
        risk(
            `upgrades its RDS PostgreSQL from ${before.database.engineVersion} to ${after.database.engineVersion}: a major upgrade, minutes of downtime while RDS snapshots and upgrades it, and no way back but a restore from that snapshot.`,
            "Deploy it in a maintenance window agreed with the client; check n8n supports that PostgreSQL major first.",
        );
    }
    return details;
}

/** Community packages run unsandboxed in the tenant's main and workers: a reviewer agrees to them. */
function communityPackagesRisk(t: TenantPlan, was: TenantPlan["communityPackages"] | undefined, risks: Risk[]): void {
    const rank = { off: 0, verified: 1, any: 2 } as const;
    if (rank[t.communityPackages] <= rank[was ?? "off"]) return;
    risks.push({
        tenant: t.id,
        what: `may install ${t.communityPackages === "any" ? "any community node package, unverified ones included" : "n8n-verified community node packages"}: their code runs unsandboxed in its n8n main and workers, outside the Code node's sandbox.`,
        todo: "Turn it on only for a client that buys it; its containers stay isolated from other tenants, but the package's code can do whatever its n8n can.",
    });
}

/** Two RDS tenants on one Docker host: their databases' security groups admit the same host address. */
function rdsTenantsByTarget(snapshot: FleetSnapshot | undefined): Map<string, string[]> {
    const byTarget = new Map<string, string[]>();
    for (const t of snapshot?.tenants ?? []) if (t.database.kind === "rds" && t.status !== "archived") byTarget.set(t.target.name, [...(byTarget.get(t.target.name) ?? []), t.id]);
    return byTarget;
}

/** Said when a change brings a second RDS tenant to a host, not on every later change. */
function sharedRdsHostRisks(base: FleetSnapshot | undefined, head: FleetSnapshot, risks: Risk[]): void {
    const before = rdsTenantsByTarget(base);
    for (const [target, ids] of rdsTenantsByTarget(head)) {
        if (ids.length < 2 || ids.every((id) => before.get(target)?.includes(id))) continue;
        risks.push({
            tenant: `target ${target}`,
            what: `runs ${ids.length} RDS tenants (${ids.join(", ")}): each one's database admits the whole host, so their workflows can open connections to each other's database endpoints (only the passwords and TLS stand between them).`,
            todo: "Accept it, or give a tenant that needs more a Docker host of its own (README, What a tenant's workflows can reach).",
        });
    }
}

function exceptionsOf(t: TenantPlan): string[] {
    return [...t.outbound.allowHostnames, ...t.outbound.allowIpRanges];
}

/** New exceptions to the protection against private and local addresses are for a reviewer to agree to. */
function outboundRisk(t: TenantPlan, opened: readonly string[], risks: Risk[]): void {
    if (opened.length === 0) return;
    risks.push({
        tenant: t.id,
        what: `may call ${opened.join(", ")} although private and local addresses are blocked for its workflows.`,
        todo: "Check the client needs exactly these (a partner's API on a private link, say): everything in a range, other hosts of that network included, becomes reachable from its workflows.",
    });
}

/** What a new tenant gets: the essentials, then every setting that is not the fleet's default. */
function addedDetails(t: TenantPlan): string {
    const parts = [`n8n ${t.n8nVersion}`, plural(t.workers, "worker"), budgetText(t), ...(t.domain === undefined ? [`port ${t.port}`] : []), t.url];
    if (t.status !== BUILT_IN_DEFAULTS.status) parts.push(t.status);
    if (t.concurrency !== BUILT_IN_DEFAULTS.concurrency) parts.push(`concurrency ${t.concurrency}`);
    if (t.timezone !== BUILT_IN_DEFAULTS.timezone) parts.push(`time zone ${t.timezone}`);
    if (t.database.kind === "rds") {
        const db = t.database;
        parts.push(`RDS ${db.instanceClass}, PostgreSQL ${db.engineVersion}, ${db.allocatedStorageGb}-${db.maxAllocatedStorageGb} GB, backups ${db.backupRetentionDays} days${db.multiAz ? ", multi-AZ" : ""}`);
    }
    const keep = BUILT_IN_DEFAULTS.backup.keep;
    if (t.backup.schedule !== BUILT_IN_DEFAULTS.backup.schedule || t.backup.keep.hourly !== keep.hourly || t.backup.keep.daily !== keep.daily || t.backup.keep.weekly !== keep.weekly) {
        parts.push(`backups ${t.backup.schedule}, keeping ${t.backup.keep.hourly} hourly, ${t.backup.keep.daily} daily, ${t.backup.keep.weekly} weekly`);
    }
    const env = Object.keys(t.env);
    if (env.length > 0) parts.push(`environment ${env.join(" ")}`);
    const exceptions = exceptionsOf(t);
    if (exceptions.length > 0) parts.push(`outbound exceptions ${exceptions.join(" ")}`);
    if (t.communityPackages !== BUILT_IN_DEFAULTS.communityPackages) parts.push(`community packages ${t.communityPackages}`);
    return parts.join(", ");
}

/** A version the project has not pinned has not run in its end-to-end tests, and nothing offline can tell that it exists. */
function versionRisk(t: TenantPlan, risks: Risk[]): void {
    if (compareVersions(t.n8nVersion, PINNED.n8n) <= 0) return;
    risks.push({
        tenant: t.id,
        what: `runs n8n ${t.n8nVersion}, newer than the fleet's pin (${PINNED.n8n}): the end-to-end tests did not run it, and no check here can tell that the version exists.`,
        todo: `Check that n8n ${t.n8nVersion} is released and that n8nio/runners has the same tag; a version that does not exist fails at \`pulumi up\` when its image is pulled.`,
    });
}

function load(before: number | undefined, after: number | undefined, capacity: number | undefined, allowance: number | undefined): Load {
    return { before, after, capacity, allowance };
}

function targetLoads(base: FleetSnapshot | undefined, head: FleetSnapshot): TargetLoad[] {
    const usage = (snapshot: FleetSnapshot) =>
        new Map(capacityUsage(snapshot.tenants.map((t) => ({ id: t.id, target: t.target.name, budget: t.budget })), snapshot.targets).map((row) => [row.target.name, row]));
    const before = base ? usage(base) : new Map();
    const after = usage(head);
    const names = [...new Set([...after.keys(), ...before.keys()])];
    return names.map((name) => {
        const b = before.get(name);
        const a = after.get(name);
        const target = a?.target ?? b?.target;
        return {
            target: name,
            tenantsBefore: b?.tenantIds.length ?? 0,
            tenantsAfter: a?.tenantIds.length ?? 0,
            cpus: load(b?.cpus, a?.cpus, target?.capacity.cpus, a?.cpuAllowance),
            memoryGb: load(b?.memoryGb, a?.memoryGb, target?.capacity.memoryGb, a?.memoryGbAllowance),
            diskGb: load(b?.diskGb, a?.diskGb, target?.capacity.diskGb, target?.capacity.diskGb),
        };
    });
}

/** Compares the base (undefined: nothing deployed yet) with the head. */
export function compareFleets(base: FleetSnapshot | undefined, head: FleetSnapshot): ChangePlan {
    const risks: Risk[] = [];
    const blocked: Risk[] = [];
    const changes: TenantChange[] = [];
    const unchanged: string[] = [];
    const before = new Map((base?.tenants ?? []).map((t) => [t.id, t]));

    for (const tenant of head.tenants) {
        const was = before.get(tenant.id);
        if (!was) {
            changes.push({ id: tenant.id, kind: "added", target: tenant.target.name, details: [addedDetails(tenant)] });
            outboundRisk(tenant, exceptionsOf(tenant), risks);
            versionRisk(tenant, risks);
            communityPackagesRisk(tenant, undefined, risks);
            continue;
        }
        const details = compareTenant(was, tenant, risks, blocked);
        if (was.n8nVersion !== tenant.n8nVersion) versionRisk(tenant, risks);
        if (details.length > 0) changes.push({ id: tenant.id, kind: "changed", target: tenant.target.name, details });
        else unchanged.push(tenant.id);
    }
    const remaining = new Set(head.tenants.map((t) => t.id));
    for (const tenant of base?.tenants ?? []) {
        if (remaining.has(tenant.id)) continue;
        changes.push({ id: tenant.id, kind: "removed", target: tenant.target.name, details: [] });
        if (tenant.status === "archived") {
            risks.push({
                tenant: tenant.id,
                what: "leaves the stack: its volumes and backups stay on the host, no longer managed, and its key leaves the stack's outputs.",
                todo: `Check the key is escrowed; delete its volumes by hand only when the contract says so (${OFFBOARDING_DOCS}).`,
            });
        } else {
            blocked.push({
                tenant: tenant.id,
                what: `is removed while ${tenant.status}: only an archived tenant may leave tenants.json (its data is protected, so \`pulumi up\` would stop).`,
                todo: `Put it back with "status": "archived" and deploy (a final backup is taken, its containers removed), then remove it in a later change (${OFFBOARDING_DOCS}).`,
            });
        }
    }

    sharedRdsHostRisks(base, head, risks);
    const targets = targetLoads(base, head);
    for (const row of targets) {
        for (const [what, l] of [["CPU", row.cpus], ["memory", row.memoryGb]] as const) {
            if (l.after !== undefined && l.capacity !== undefined && l.after > l.capacity) {
                risks.push({
                    tenant: `target ${row.target}`,
                    what: `is overcommitted on ${what}: its tenants are promised ${l.after} of ${l.capacity}${what === "memory" ? " GB" : ""} (overcommit allows ${l.allowance}).`,
                    todo: what === "memory" ? "Memory overcommit lets the kernel kill tenants under load; move tenants to another target or add memory." : "Tenants will slow each other down at peak; move tenants or add CPU if that is not intended.",
                });
            }
        }
    }
    return { changes, unchanged, blocked, risks, targets };
}
