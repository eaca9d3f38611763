/**
 * tenants.json text -> validated plans, the way the program gets them, for tests of the pure parts.
 */
import { FleetResult, loadFleet } from "../../fleet/validation/loadFleet";
import { formatProblems } from "../../fleet/forms/problems";
import { parseStackSettings } from "../../fleet/targets/stackSettings";
import type { TenantPlan } from "../../fleet/tenants/plan";
import type { Targets } from "../../fleet/targets/targets";

/** One local Docker host the size of the architecture notes' example server. */
export const LOCAL_TARGETS = { local: { dockerHost: "unix:///var/run/docker.sock", publicHost: "localhost", acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32 } } };

/** Targets as the stack config would declare them; throws on a broken declaration. */
export function targetsOf(raw: unknown = LOCAL_TARGETS): Targets {
    const parsed = parseStackSettings({ targets: raw }, "Pulumi.test.yaml");
    if (!parsed.ok) throw new Error(formatProblems(parsed.problems));
    return parsed.settings.targets;
}

/** Validates a tenants file; with a single target, that target is the default. */
export function validate(text: string, options: { targets?: Targets; defaultTarget?: string } = {}): FleetResult {
    const targets = options.targets ?? targetsOf();
    return loadFleet({
        file: "tenants.json",
        text,
        targets,
        defaultTarget: options.defaultTarget ?? (targets.size === 1 ? [...targets.keys()][0] : undefined),
        stackFile: "Pulumi.test.yaml",
    });
}

/** The plan of one valid tenant entry; throws with the problems when it is not valid. */
export function planOf(tenant: Record<string, unknown>, targets: Targets = targetsOf()): TenantPlan {
    const result = validate(JSON.stringify({ tenants: [tenant] }), { targets });
    if (!result.ok) throw new Error(formatProblems(result.problems));
    return result.tenants[0];
}
