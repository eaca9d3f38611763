/**
 * Ports, URLs and host names: a host port used once per target without an edge, a public URL
 * used once in the file, and a host name of its own per tenant, with or without an edge, never under or above another
 * tenant's (browsers scope cookies by host name, and a page may set cookies for its parents).
 */
import { isIP } from "node:net";
import type { JsonPath } from "../forms/problems";
import { tenantDomain, tenantUrl } from "../tenants/plan";
import type { Candidate, FleetSource, Report } from "./candidates";

/** `a.acme.example` lies under `acme.example`: a page of the first may set cookies for the second. */
export function domainUnder(domain: string, parent: string): boolean {
    return domain.endsWith(`.${parent}`);
}

/** Ports unique per target, URLs (default ones included) unique across the file; `free` is a port no entry uses, for the fix. */
export function checkPortsAndUrls(placed: Candidate[], source: FleetSource, at: Report, free: number): void {
    const byTargetPort = new Map<string, Candidate>();
    const byUrl = new Map<string, Candidate>();
    // Every tenant's host name, behind an edge or not: cookies follow host names, whatever serves them.
    const hosts: HostName[] = [];
    for (const candidate of placed) {
        const target = source.targets.get(candidate.settings.target ?? "");
        if (!target) continue;
        const { index, entry } = candidate;
        if (target.edge) {
            if (!edgeEntryIsComplete(candidate, target.name, source, at)) continue;
            const domain = tenantDomain(entry, target);
            if (domain === undefined) continue;
            const path: JsonPath = entry.domain === undefined ? ["tenants", index] : ["tenants", index, "domain"];
            const same = hosts.find((h) => h.host === domain);
            const over = hosts.find((h) => overlaps(domain, h.host));
            if (same) {
                at(path, `host name ${domain} is already ${whoseHost(same)}'s. Fix: give every tenant a host name of its own ("domain").`);
            } else if (over) {
                at(path, `host name ${domain} lies ${domainUnder(domain, over.host) ? "under" : "above"} ${over.host}, the host name of ${whoseHost(over)}: a page of one may set cookies the other's browser sessions receive. Fix: give each tenant a host name that is neither a subdomain nor a parent of another's, such as siblings under one base domain.`);
            } else {
                hosts.push({ host: domain, candidate, accepted: false, url: `https://${domain}/` });
            }
            continue;
        }
        if (entry.domain !== undefined) {
            at(["tenants", index, "domain"], `target "${target.name}" has no edge, so nothing serves ${entry.domain}. Fix: add an edge to target "${target.name}" in ${source.stackFile} (n8n-fleet:targets.${target.name}.edge), or remove "domain" and write "url".`);
        }
        const key = `${candidate.settings.target}:${entry.port}`;
        const first = byTargetPort.get(key);
        if (first) {
            at(["tenants", index, "port"], `port ${entry.port} is already published by "${first.entry.id}" (tenants[${first.index}]) on target "${candidate.settings.target}". Fix: choose a port no other tenant on this target uses, such as ${free}.`);
            // Its default URL is the other tenant's too; one message says it.
            continue;
        }
        byTargetPort.set(key, candidate);
        // Default URLs take part too: a tenant's own url may be another tenant's default one.
        const url = tenantUrl(entry, target);
        const sameUrl = byUrl.get(url);
        const urlPath: JsonPath = entry.url === undefined ? ["tenants", index, "port"] : ["tenants", index, "url"];
        const whose = (c: Candidate) => (c.entry.url === undefined ? `the default URL of "${c.entry.id}" (tenants[${c.index}], from its target's publicHost and its port)` : `the URL of "${c.entry.id}" (tenants[${c.index}])`);
        if (sameUrl) {
            at(urlPath, `${url} is already ${whose(sameUrl)}. Fix: give every tenant its own public URL.`);
            continue;
        }
        byUrl.set(url, candidate);
        // Browsers scope cookies by host name, never by port: one host name for two tenants is one cookie jar.
        const host = new URL(url).hostname;
        const accepted = target.acceptSharedCookies === true;
        // Allowed only where both sides accept it; the first that does not is the one to name.
        const sharing = hosts.find((h) => (h.host === host || overlaps(host, h.host)) && !(accepted && h.accepted));
        if (sharing) {
            const how = sharing.host === host ? `shares its host name ${host} with` : `has host name ${host}, ${domainUnder(host, sharing.host) ? "under" : "above"} ${sharing.host} of`;
            const examples = [siblingUrl(sharing.candidate.entry.id, sharing.url), siblingUrl(entry.id, url)];
            const ownUrls = examples.every((e) => e !== undefined)
                ? `or give both a "url" whose host name is their own and neither under nor above another's, such as ${examples[0]} and ${examples[1]}`
                : "or give each tenant a \"url\" with a DNS name of its own (an IP address is one host for all)";
            const acceptance = accepted ? `acceptSharedCookies: true on target "${sharing.candidate.settings.target}" too` : `acceptSharedCookies: true on target "${target.name}"${sharing.accepted ? "" : ` and on target "${sharing.candidate.settings.target}"`}`;
            at(urlPath, `${url} ${how} ${whoseHost(sharing)}: browsers scope cookies by host name, not by port, so each tenant's sign-in cookie would be sent to the other's n8n. Fix: add an edge to target "${target.name}" (n8n-fleet:targets.${target.name}.edge in ${source.stackFile}; every tenant then gets a host name of its own), ${ownUrls}. Only where no one but the operator signs in (local use, tests): ${acceptance}.`);
            continue;
        }
        hosts.push({ host, candidate, accepted, url });
    }
}

/** A tenant's host name, whose URL it is in, and whether its target accepts shared cookies (never behind an edge). */
interface HostName {
    host: string;
    candidate: Candidate;
    accepted: boolean;
    url: string;
}

function overlaps(a: string, b: string): boolean {
    return domainUnder(a, b) || domainUnder(b, a);
}

function whoseHost({ candidate: c, url }: HostName): string {
    if (c.entry.url !== undefined) return `the URL of "${c.entry.id}" (tenants[${c.index}])`;
    if (url.startsWith("https://")) return `"${c.entry.id}" (tenants[${c.index}]${c.entry.domain === undefined ? ", its default from edge.baseDomain" : ""})`;
    return `the default URL of "${c.entry.id}" (tenants[${c.index}], from its target's publicHost and its port)`;
}

/** `url` with `<id>.` before its host name: scheme, port and path kept; none for an IP address. */
function siblingUrl(id: string, url: string): string | undefined {
    const parsed = new URL(url);
    if (isIP(parsed.hostname.replace(/^\[|\]$/g, "")) !== 0) return undefined;
    parsed.hostname = `${id}.${parsed.hostname}`;
    return parsed.href;
}

/** Behind an edge a tenant has a host name, an owner, and no `url`; false when it lacks a host name. */
function edgeEntryIsComplete({ index, entry }: Candidate, targetName: string, source: FleetSource, at: Report): boolean {
    if (entry.url !== undefined) {
        at(["tenants", index, "url"], `target "${targetName}" has an edge, which serves every tenant at https://<its host name>/. Fix: remove "url" and write the host name as "domain" (${safeHost(entry.url) ?? "such as acme.n8n.example.com"}).`);
    }
    if (entry.owner === undefined) {
        at(["tenants", index], `tenant "${entry.id}" behind the edge of target "${targetName}" has no owner: its owner-setup page would be open to whoever reaches it first. Fix: add "owner": { "email": "owner@client.example", "firstName": "...", "lastName": "..." }; its password is generated (pulumi stack output ownerPasswords --show-secrets).`);
    }
    const target = source.targets.get(targetName);
    if (entry.domain === undefined && target?.edge?.baseDomain === undefined) {
        at(["tenants", index], `tenant "${entry.id}" has no host name: it sets no "domain" and target "${targetName}" has no edge.baseDomain. Fix: add "domain": "${entry.id}.n8n.example.com" to the tenant, or baseDomain to n8n-fleet:targets.${targetName}.edge in ${source.stackFile}.`);
        return false;
    }
    return true;
}

function safeHost(url: string): string | undefined {
    return URL.parse(url)?.hostname || undefined;
}
