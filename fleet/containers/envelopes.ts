/**
 * One resource envelope per tenant: a cgroup on the Docker host that is the parent of every
 * container of the tenant (Docker's `cgroupParent`) and holds the tenant's whole budget (CPU,
 * memory, PIDs, a block-I/O weight). The per-target keeper container of
 * fleet/containers/envelopes.sh writes those limits and keeps them in place; every tenant
 * container waits for it.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TenantPlan } from "../tenants/plan";
import { Healthcheck, Tmpfs, shellHealthcheckWith } from "./containerSpec";
import { PINNED_HOST_GUARD_IMAGE } from "../tenants/versions";

/** fleet/containers/envelopes.sh, given in the keeper's environment (its root file system is read-only). */
export const ENVELOPES_SCRIPT = readFileSync(join(__dirname, "envelopes.sh"), "utf8");

/** Where the keeper sees the host's cgroup file system. */
export const ENVELOPE_ROOT = "/host/sys/fs/cgroup";

/** The CFS period the quotas are per, in µs (the kernel's default). */
export const CFS_PERIOD_US = 100_000;

/**
 * The fleet's folder in the host's cgroup tree, per fleet and target: `n8n-fleet-<10 hex>`, so
 * two fleets (stacks) on one host never share one, and a name the keeper can `mkdir` on either
 * cgroup version.
 */
export function envelopeParent(fleet: string, target: string): string {
    return `n8n-fleet-${createHash("sha256").update(`${fleet}\n${target}`).digest("hex").slice(0, 10)}`;
}

/** A tenant's cgroup parent as Docker takes it (the cgroupfs driver: an absolute path). */
export function tenantCgroupParent(fleet: string, plan: TenantPlan): string {
    return `/${envelopeParent(fleet, plan.target.name)}/${plan.id}`;
}

/** One line per tenant: id, CPU quota (µs per period), memory (bytes), PIDs, I/O weight. */
export function envelopeRules(plans: readonly TenantPlan[]): string {
    return [...plans]
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((plan) => {
            const envelope = plan.sizing.envelope;
            return `${plan.id} ${Math.round(envelope.cpus * CFS_PERIOD_US)} ${envelope.memoryMb * 1024 * 1024} ${envelope.pidsMax} ${envelope.ioWeight}`;
        })
        .join("\n");
}

/** The keeper container of one target, fully decided. */
export interface EnvelopeKeeperSpec {
    /** Docker name: follows the limits, so a new keeper applies them before the old one goes. */
    name: string;
    image: string;
    command: string[];
    environment: Record<string, string>;
    tmpfs: Tmpfs[];
    /** The host's cgroup file system, bound read-write: what the keeper writes. */
    mounts: { type: "bind"; source: string; target: string }[];
    addCapabilities: string[];
    healthcheck: Healthcheck;
    memoryMb: number;
    cpus: number;
}

export function envelopeKeeperContainer(fleet: string, target: string, plans: readonly TenantPlan[]): EnvelopeKeeperSpec {
    const environment = {
        ENVELOPE_ROOT,
        ENVELOPE_PARENT: envelopeParent(fleet, target),
        ENVELOPE_RULES: envelopeRules(plans),
        // Run as `sh -c "$ENVELOPES_SCRIPT" envelopes <mode>`, by the command and by the health check.
        ENVELOPES_SCRIPT,
    };
    const digest = createHash("sha256").update(JSON.stringify(environment)).digest("hex").slice(0, 10);
    return {
        name: `n8n-fleet-envelopes-${digest}`,
        // The guard's image: a shell is all the keeper needs.
        image: PINNED_HOST_GUARD_IMAGE,
        command: ["sh", "-c", 'exec sh -c "$ENVELOPES_SCRIPT" envelopes run'],
        environment,
        tmpfs: [{ path: "/tmp", sizeMb: 1 }],
        mounts: [{ type: "bind", source: "/sys/fs/cgroup", target: ENVELOPE_ROOT }],
        // A cgroup v1 hierarchy's root folder is mode 0555 even for root: creating the fleet's folder in it
        // takes DAC_OVERRIDE. Nothing else: no network, no other capability.
        addCapabilities: ["CAP_DAC_OVERRIDE"],
        healthcheck: shellHealthcheckWith(`sh -c "$ENVELOPES_SCRIPT" envelopes check`, { intervalSeconds: 10, timeoutSeconds: 10, startPeriodSeconds: 30, retries: 3 }),
        memoryMb: 32,
        cpus: 0.1,
    };
}
