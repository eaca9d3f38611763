/**
 * The host guard of a target: one container per Docker host that runs tenants, on the host's
 * network namespace with NET_ADMIN and NET_RAW only, that keeps the firewall rules of
 * fleet/containers/host-guard.sh in place. It is what makes the network itself refuse a tenant's
 * connections to the host, the metadata service and private ranges: n8n's SSRF protection covers
 * its HTTP helpers only, never a database, SSH or SMTP node, a community package or escaped code.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TenantPlan } from "../tenants/plan";
import { Healthcheck, Tmpfs, shellHealthcheckWith } from "./containerSpec";
import { PINNED_HOST_GUARD_IMAGE } from "../tenants/versions";

/**
 * What no tenant reaches unless its `outbound.allowIpRanges` names it: "this" network, the private
 * ranges (the provider's network, other hosts, Docker's own bridges), carrier-grade NAT (where
 * clouds put internal services), loopback, link-local (the cloud metadata service at
 * 169.254.169.254), the IETF protocol block, benchmarking, multicast and reserved space.
 */
export const GUARD_BLOCKED_RANGES = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "224.0.0.0/4",
    "240.0.0.0/4",
] as const;

/** fleet/containers/host-guard.sh: given to the guard in its environment (it holds no secret), so its root file system can be read-only. */
export const HOST_GUARD_SCRIPT = readFileSync(join(__dirname, "host-guard.sh"), "utf8");

/** The iptables chains of one fleet's guard on one target: stable, so a new guard replaces the rules of the old one. */
export function guardChains(fleet: string, target: string): { forward: string; input: string } {
    const id = createHash("sha256").update(`${fleet}\n${target}`).digest("hex").slice(0, 10).toUpperCase();
    return { forward: `N8F-FWD-${id}`, input: `N8F-IN-${id}` };
}

/** One line per tenant bridge: the bridge and the ranges the tenant's allow list names. */
export function guardRules(plans: readonly TenantPlan[]): string {
    const lines: string[] = [];
    for (const plan of [...plans].sort((a, b) => a.id.localeCompare(b.id))) {
        const allowed = plan.outbound.allowIpRanges.length > 0 ? plan.outbound.allowIpRanges.join(",") : "-";
        // An archived tenant keeps its internal network, where its final backup ran.
        const bridges = plan.status === "archived" ? [plan.names.bridges.backend] : [plan.names.bridges.backend, plan.names.bridges.egress];
        for (const bridge of bridges) lines.push(`${bridge} ${allowed}`);
        // Behind an edge: the main's network with the edge, which routes nowhere; its allow list does not apply there.
        if (plan.status !== "archived" && plan.domain !== undefined) lines.push(`${plan.names.bridges.edge} -`);
    }
    return lines.join("\n");
}

/** The guard container of one target, fully decided. */
export interface HostGuardSpec {
    /** Docker name: changes with the rules, so a new guard starts before the old one goes (no gap). */
    name: string;
    image: string;
    command: string[];
    environment: Record<string, string>;
    tmpfs: Tmpfs[];
    addCapabilities: string[];
    healthcheck: Healthcheck;
    memoryMb: number;
    cpus: number;
}

export function hostGuardContainer(fleet: string, target: string, plans: readonly TenantPlan[]): HostGuardSpec {
    const chains = guardChains(fleet, target);
    const environment = {
        GUARD_FORWARD_CHAIN: chains.forward,
        GUARD_INPUT_CHAIN: chains.input,
        GUARD_RULES: guardRules(plans),
        GUARD_BLOCKED: GUARD_BLOCKED_RANGES.join(" "),
        // Run as `sh -c "$GUARD_SCRIPT" host-guard <mode>`, by the command and by the health check.
        GUARD_SCRIPT: HOST_GUARD_SCRIPT,
    };
    const digest = createHash("sha256").update(JSON.stringify(environment)).digest("hex").slice(0, 10);
    return {
        name: `n8n-fleet-host-guard-${digest}`,
        image: PINNED_HOST_GUARD_IMAGE,
        // The script is in the environment (GUARD_SCRIPT), not uploaded: the root file system is read-only.
        command: ["sh", "-c", 'exec sh -c "$GUARD_SCRIPT" host-guard run'],
        // Marked in the chains, so that a guard being replaced stops re-applying its rules.
        environment: { ...environment, GUARD_DIGEST: digest },
        // iptables' lock file (XTABLES_LOCKFILE); the root file system is read-only.
        tmpfs: [{ path: "/tmp", sizeMb: 1 }],
        addCapabilities: ["CAP_NET_ADMIN", "CAP_NET_RAW"],
        healthcheck: shellHealthcheckWith(`sh -c "$GUARD_SCRIPT" host-guard check`, { intervalSeconds: 10, timeoutSeconds: 10, startPeriodSeconds: 30, retries: 3 }),
        memoryMb: 64,
        cpus: 0.1,
    };
}
