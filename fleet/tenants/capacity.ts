/**
 * What the tenants on each target ask for, against what the target declares it has.
 */
import type { Target, Targets } from "../targets/targets";
import type { TenantBudget } from "./plan";
import { MIB_PER_GIB } from "./plan";

export interface TargetUsage {
    target: Target;
    tenantIds: string[];
    cpus: number;
    memoryGb: number;
    diskGb: number;
    /** Most CPU the tenants may ask for: capacity times the overcommit ratio. */
    cpuAllowance: number;
    memoryGbAllowance: number;
}

export interface BudgetedTenant {
    id: string;
    target: string;
    budget: TenantBudget;
}

function round2(value: number): number {
    return Math.round(value * 100) / 100;
}

/** One row per declared target, in declaration order, including targets with no tenant. */
export function capacityUsage(tenants: readonly BudgetedTenant[], targets: Targets): TargetUsage[] {
    return [...targets.values()].map((target) => {
        const onTarget = tenants.filter((tenant) => tenant.target === target.name);
        return {
            target,
            tenantIds: onTarget.map((tenant) => tenant.id),
            cpus: round2(onTarget.reduce((sum, t) => sum + t.budget.cpus, 0)),
            memoryGb: round2(onTarget.reduce((sum, t) => sum + t.budget.memoryMb, 0) / MIB_PER_GIB),
            diskGb: round2(onTarget.reduce((sum, t) => sum + t.budget.diskGb, 0)),
            cpuAllowance: round2(target.capacity.cpus * target.overcommit.cpu),
            memoryGbAllowance: round2(target.capacity.memoryGb * target.overcommit.memory),
        };
    });
}
