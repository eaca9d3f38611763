/**
 * Ports and URLs: a host port used once per target, a public URL used once in the file.
 */
import type { JsonPath } from "../forms/problems";
import { tenantUrl } from "../tenants/plan";
import type { Candidate, FleetSource, Report } from "./candidates";

/** Ports unique per target, URLs (default ones included) unique across the file; `free` is a port no entry uses, for the fix. */
export function checkPortsAndUrls(placed: Candidate[], source: FleetSource, at: Report, free: number): void {
    const byTargetPort = new Map<string, Candidate>();
    const byUrl = new Map<string, Candidate>();
    for (const candidate of placed) {
        const key = `${candidate.settings.target}:${candidate.entry.port}`;
        const first = byTargetPort.get(key);
        if (first) {
            at(["tenants", candidate.index, "port"], `port ${candidate.entry.port} is already published by "${first.entry.id}" (tenants[${first.index}]) on target "${candidate.settings.target}". Fix: choose a port no other tenant on this target uses, such as ${free}.`);
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
