/**
 * What every check of a tenants file works on: the file and its stack's targets, each entry with
 * its settings resolved, and where in the file a resolved setting was written.
 */
import type { JsonPath } from "../forms/problems";
import type { TenantEntry, TenantSettings } from "../tenants/tenantsSchema";
import type { ResolvedSettings } from "../tenants/plan";
import type { Targets } from "../targets/targets";

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

/** A tenant entry that passed the schema (its failing fields left out), with its settings resolved. */
export interface Candidate {
    index: number;
    entry: TenantEntry;
    settings: ResolvedSettings;
}

/** Reports a problem at a path of the file. */
export type Report = (path: JsonPath, message: string) => void;

/** Where a setting was written: the tenant, else `defaults`, else the tenant as a whole (built-in default). */
export function origin(index: number, entry: TenantEntry, defaults: TenantSettings, field: keyof TenantSettings, sub?: string): JsonPath {
    const has = (owner: Record<string, unknown> | undefined) =>
        owner !== undefined && owner[field] !== undefined && (sub === undefined || (owner[field] as Record<string, unknown>)[sub] !== undefined);
    const tail = sub === undefined ? [field] : [field, sub];
    if (has(entry)) return ["tenants", index, ...tail];
    if (has(defaults)) return ["defaults", ...tail];
    return ["tenants", index];
}
