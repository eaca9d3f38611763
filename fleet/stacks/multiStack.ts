/**
 * A fleet split over several stacks (one per region, say), each with its own tenants file and
 * targets: what no single stack can see. A tenant id in two stacks would give two instances the
 * same RDS identifiers and offboarding commands; a Docker host in two stacks would have two
 * programs deleting each other's containers; a host port used twice on one host fails at deploy.
 */
import { parseTree } from "jsonc-parser";
import type { TenantPlan } from "../tenants/plan";
import { Problem, locate } from "../forms/problems";
import { domainUnder } from "../validation/portsAndUrls";

/** One valid stack of the repository. */
export interface StackFleet {
    stack: string;
    stackFile: string;
    /** The tenants file as messages name it. */
    tenantsFile: string;
    /** Its text, for line numbers. */
    tenantsText: string;
    /** In file order: `tenants[i]` of a valid file. */
    tenants: readonly TenantPlan[];
}

/** `unix:///var/run/docker.sock` and `unix:/var/run/docker.sock/` are one host. */
function hostKey(dockerHost: string): string {
    return dockerHost.replace(/\/+$/, "").replace(/^unix:\/+/, "unix:///").toLowerCase();
}

export function crossStackProblems(stacks: readonly StackFleet[]): Problem[] {
    const problems: Problem[] = [];
    const trees = new Map(stacks.map((s) => [s.stack, parseTree(s.tenantsText)]));
    const at = (s: StackFleet, index: number, field: string, message: string) => {
        const path = ["tenants", index, field];
        problems.push({ file: s.tenantsFile, path, message, ...locate(s.tenantsText, trees.get(s.stack), path) });
    };
    const where = (s: StackFleet, index: number) => `${s.tenantsFile} tenants[${index}], stack ${s.stack}`;

    const ids = new Map<string, { stack: StackFleet; index: number }>();
    for (const s of stacks) {
        s.tenants.forEach((tenant, index) => {
            const first = ids.get(tenant.id);
            if (first) at(s, index, "id", `tenant "${tenant.id}" is also in ${where(first.stack, first.index)}. Fix: a tenant belongs to one stack; remove it from one of them (offboard it there first if it is deployed).`);
            else ids.set(tenant.id, { stack: s, index });
        });
    }

    const hosts = new Map<string, { stack: StackFleet; target: string }>();
    for (const s of stacks) {
        const targets = new Map(s.tenants.map((t) => [t.target.name, t.target]));
        for (const target of targets.values()) {
            const key = hostKey(target.dockerHost);
            const first = hosts.get(key);
            if (!first) {
                hosts.set(key, { stack: s, target: target.name });
            } else if (first.stack !== s) {
                problems.push({
                    file: s.stackFile,
                    path: [`n8n-fleet:targets`, target.name, "dockerHost"],
                    message: `${target.dockerHost} is also target "${first.target}" of stack ${first.stack.stack} (${first.stack.stackFile}). Fix: a Docker host belongs to one stack; move its tenants into that stack, or split hosts between stacks.`,
                });
            }
        }
    }

    // Host names are global: one DNS, one browser cookie jar per name, whatever the stack.
    const domains: { domain: string; stack: StackFleet; index: number }[] = [];
    for (const s of stacks) {
        s.tenants.forEach((tenant, index) => {
            if (tenant.domain === undefined) return;
            const domain = tenant.domain;
            const clash = domains.find((d) => d.stack !== s && (d.domain === domain || domainUnder(domain, d.domain) || domainUnder(d.domain, domain)));
            if (clash) {
                const other = `"${clash.stack.tenants[clash.index].id}" (${where(clash.stack, clash.index)})`;
                const how = clash.domain === domain ? `is also the host name of ${other}` : `lies ${domainUnder(domain, clash.domain) ? "under" : "above"} ${clash.domain}, the host name of ${other}: a page of one may set cookies the other's sessions receive`;
                at(s, index, "domain", `host name ${domain} ${how}. Fix: give every tenant of every stack a host name of its own, neither a subdomain nor a parent of another's.`);
            } else {
                domains.push({ domain, stack: s, index });
            }
        });
    }

    const ports = new Map<string, { stack: StackFleet; index: number }>();
    for (const s of stacks) {
        s.tenants.forEach((tenant, index) => {
            // Behind an edge a tenant publishes no port.
            if (tenant.target.edge) return;
            const key = `${hostKey(tenant.target.dockerHost)} ${tenant.port}`;
            const first = ports.get(key);
            if (first && first.stack !== s) {
                at(s, index, "port", `port ${tenant.port} on ${tenant.target.dockerHost} is also published by "${first.stack.tenants[first.index].id}" (${where(first.stack, first.index)}). Fix: choose a port no tenant of any stack uses on that host.`);
            } else if (!first) {
                ports.set(key, { stack: s, index });
            }
        });
    }
    return problems;
}
