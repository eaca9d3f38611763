/**
 * tenants.json -> a validated, fully resolved plan of every tenant, or every problem at once.
 * Plain TypeScript: `npm run validate`, `pulumi preview` and the tests all call this. Each check
 * is a file of this folder named for what it checks.
 */
import { z } from "zod";
import { JsonPath, Problem, issueToProblems, locate } from "../forms/problems";
import { TenantSettings, defaultsSchema, tenantSchema, tenantsFileSchema } from "../tenants/tenantsSchema";
import { isolationKeyReason } from "../tenants/reservedEnv";
import { TenantPlan, planTenant, resolveSettings } from "../tenants/plan";
import { Candidate, FleetSource } from "./candidates";
import { HINTS, allowedKeys } from "./fieldHints";
import { duplicateKeys, parseJson } from "./tenantsFile";
import { checkIds } from "./ids";
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
