/**
 * tenants.json -> a validated, fully resolved plan of every tenant, or every problem at once.
 * Plain TypeScript: `npm run validate`, `pulumi preview` and the tests all call this. Each check
 * is a file of this folder named for what it checks.
 */
import { z } from "zod";
import { JsonPath, Problem, issueToProblems, locate } from "../forms/problems";
import { TenantEntry, TenantSettings, defaultsSchema, tenantSchema, tenantsFileSchema } from "../tenants/tenantsSchema";
import { isolationKeyReason } from "../tenants/reservedEnv";
import { TenantPlan, planTenant, resolveSettings } from "../tenants/plan";
import { Candidate, FleetSource } from "./candidates";
import { allowedKeys, freePort, hintsFor, portsIn } from "./fieldHints";
import { duplicateKeys, parseJson } from "./tenantsFile";
import { checkIds } from "./ids";
import { checkDefaults } from "./defaults";
import { checkTarget } from "./target";
import { checkDatabase } from "./database";
import { checkBudget } from "./budget";
import { checkPortsAndUrls } from "./portsAndUrls";
import { checkCapacity } from "./capacity";

export type FleetResult = { ok: true; tenants: TenantPlan[] } | { ok: false; problems: Problem[] };

export function loadFleet(source: FleetSource): FleetResult {
    const parsed = parseJson(source);
    if (Array.isArray(parsed)) return { ok: false, problems: parsed };

    const problems: Problem[] = duplicateKeys(source, parsed.tree);
    const at = (path: JsonPath, message: string) => problems.push({ file: source.file, path, message, ...locate(parsed.text, parsed.tree, path) });
    const raw = parsed.data as { tenants?: unknown; defaults?: unknown } | undefined;
    const rawTenants: unknown[] = raw && Array.isArray(raw.tenants) ? raw.tenants : [];
    // Examples in fixes name an id and a port this file does not use yet.
    const context = { file: source.file, text: parsed.text, tree: parsed.tree, data: parsed.data, hints: hintsFor(rawTenants), allowedKeys, isolationHint: isolationKeyReason };

    const schemaResult = tenantsFileSchema.safeParse(parsed.data);
    if (!schemaResult.success) problems.push(...schemaResult.error.issues.flatMap((issue) => issueToProblems(issue, context)));
    const defaults: TenantSettings = salvage(defaultsSchema, raw?.defaults ?? {}) ?? {};

    checkDefaults(defaults, at);
    checkIds(rawTenants, at);

    // Entries are checked further without the fields already reported, so one run reports every problem.
    const candidates: Candidate[] = [];
    rawTenants.forEach((rawEntry, index) => {
        const entry = salvageTenant(rawEntry);
        if (entry) candidates.push({ index, entry, settings: resolveSettings(entry, defaults, source.defaultTarget) });
    });

    const placed = candidates.filter((candidate) => checkTarget(candidate, defaults, source, at) && checkDatabase(candidate, defaults, source, at));
    candidates.forEach((candidate) => checkBudget(candidate, defaults, at));
    checkPortsAndUrls(placed, source, at, freePort(portsIn(rawTenants)));
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
 * The value without the fields that fail the schema (already reported), at any depth, when what
 * is left is valid: an RDS block with a wrong engine version still has its storage checked.
 * Undefined when a required field such as `id` or `port` is among them.
 */
function salvage<T>(schema: z.ZodType<T>, value: unknown): T | undefined {
    let current = value;
    // Each round removes at least one failing field; a required one ends it.
    for (let round = 0; round < 8; round++) {
        const result = schema.safeParse(current);
        if (result.success) return result.data;
        const paths = result.error.issues.flatMap((issue): PropertyKey[][] =>
            issue.code === "unrecognized_keys" ? issue.keys.map((key) => [...issue.path, key]) : [issue.path],
        );
        if (paths.some((path) => path.length === 0)) return undefined;
        const next = structuredClone(current);
        if (!paths.map((path) => removeAt(next, path)).some(Boolean)) return undefined;
        current = next;
    }
    return undefined;
}

/** Deletes the key at `path`, or the list that holds a failing item; false when there was nothing to delete. */
function removeAt(root: unknown, fullPath: readonly PropertyKey[]): boolean {
    const lastKey = fullPath.findLastIndex((key) => typeof key === "string");
    if (lastKey < 0) return false;
    const path = fullPath.slice(0, lastKey + 1);
    let node = root;
    for (const key of path.slice(0, -1)) {
        if (node === null || typeof node !== "object") return false;
        node = (node as Record<PropertyKey, unknown>)[key];
    }
    const last = path[path.length - 1];
    if (node === null || typeof node !== "object" || Array.isArray(node) || !(last in node)) return false;
    delete (node as Record<PropertyKey, unknown>)[last];
    return true;
}

/**
 * A tenant entry for the checks: with an invalid id (already reported), the rest is still checked
 * under that id, so a port clash is not held back until the id is fixed. Such an entry never
 * reaches a plan: the id's problem stops the run.
 */
function salvageTenant(rawEntry: unknown): TenantEntry | undefined {
    if (rawEntry === null || typeof rawEntry !== "object" || Array.isArray(rawEntry)) return undefined;
    const id = (rawEntry as { id?: unknown }).id;
    if (typeof id !== "string" || id === "" || tenantSchema.shape.id.safeParse(id).success) return salvage(tenantSchema, rawEntry);
    const entry = salvage(tenantSchema, { ...rawEntry, id: "invalid-id" });
    return entry && { ...entry, id };
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
