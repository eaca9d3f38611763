/**
 * Each tenant's target: named, or the stack's default, and declared in the stack.
 */
import { distance } from "fastest-levenshtein";
import { didYouMean } from "../forms/problems";
import type { TenantSettings } from "../tenants/tenantsSchema";
import { Candidate, FleetSource, Report, origin } from "./candidates";

/** The tenant's target exists in the stack; false when it does not (the tenant cannot be placed). */
export function checkTarget({ index, entry, settings }: Candidate, defaults: TenantSettings, source: FleetSource, at: Report): boolean {
    const declared = [...source.targets.keys()].join(", ");
    if (settings.target === undefined) {
        at(["tenants", index], `tenant "${entry.id}" has no target and ${source.stackFile} sets no n8n-fleet:defaultTarget. Fix: add "target" (one of: ${declared}) to the tenant or to "defaults".`);
        return false;
    }
    if (!source.targets.has(settings.target)) {
        // A typo or the wrong case; names that differ in their digits ("eu-2", "eu-1") are other hosts.
        const suggestion = didYouMean(settings.target, [...source.targets.keys()], (written, nearest) => distance(written, nearest) <= 2 && (written === nearest || written.replace(/\d/g, "") !== nearest.replace(/\d/g, "")));
        at(origin(index, entry, defaults, "target"), `"${settings.target}" is not a target of this stack. Fix: ${suggestion}use one of: ${declared}, or declare it under n8n-fleet:targets in ${source.stackFile}.`);
        return false;
    }
    return true;
}
