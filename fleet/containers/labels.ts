/**
 * Docker labels of a tenant's objects: what monitoring and operators filter on
 * (`docker ps --filter label=n8n-fleet.tenant=acme`), in the provider's `{ label, value }` form.
 */
import { createHash } from "node:crypto";
import type { TenantPlan } from "../tenants/plan";
import type { ContainerSpec, TenantNetwork, TenantVolume } from "./containerSpec";

export interface Label {
    label: string;
    value: string;
}

export const LABELS = {
    tenant: "n8n-fleet.tenant",
    fleet: "n8n-fleet.fleet",
    role: "n8n-fleet.role",
    status: "n8n-fleet.status",
    diskBudget: "n8n-fleet.disk-budget-gb",
    healthcheck: "n8n-fleet.healthcheck",
    /** A digest of the files a container gets through its run volume (fleet/containers/filesWriter.ts). */
    files: "n8n-fleet.files",
} as const;

/**
 * Labels force the replacement of a container when they change (the provider's schema marks them
 * ForceNew), and two labels rely on it for what the provider would otherwise only record in its
 * state without touching the running container:
 * - the status: suspending or resuming replaces the containers by stopped or running ones (a change
 *   of `start` alone neither stops nor starts an existing container);
 * - a digest of the health check, which the provider's update never applies either.
 */
export function containerLabels(plan: TenantPlan, fleet: string, spec: Pick<ContainerSpec, "role" | "healthcheck">): Label[] {
    return [
        { label: LABELS.tenant, value: plan.id },
        { label: LABELS.fleet, value: fleet },
        { label: LABELS.role, value: spec.role },
        { label: LABELS.status, value: plan.status },
        { label: LABELS.healthcheck, value: createHash("sha256").update(JSON.stringify(spec.healthcheck ?? null)).digest("hex").slice(0, 12) },
        // Docker's local volumes cannot be capped; the budget is declared where monitoring can read it.
        { label: LABELS.diskBudget, value: String(plan.budget.diskGb) },
    ];
}

export function networkLabels(plan: TenantPlan, fleet: string, network: TenantNetwork): Label[] {
    return [
        { label: LABELS.tenant, value: plan.id },
        { label: LABELS.fleet, value: fleet },
        { label: LABELS.role, value: network },
    ];
}

/**
 * Only the tenant id decides a volume's labels (not even the stack's name): a volume whose labels
 * change is replaced, and its data with it.
 */
export function volumeLabels(plan: TenantPlan, volume: TenantVolume): Label[] {
    return [
        { label: LABELS.tenant, value: plan.id },
        { label: LABELS.role, value: `${volume}-data` },
    ];
}

/** A container's run volume (its files, written by the tenant's files writer): no data, replaced freely. */
export function runVolumeLabels(plan: TenantPlan, containerName: string): Label[] {
    return [
        { label: LABELS.tenant, value: plan.id },
        { label: LABELS.role, value: "run" },
        { label: "n8n-fleet.container", value: containerName },
    ];
}
