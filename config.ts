/**
 * Every stack config read of the program, and the tenants file it points to. Fails the run, with
 * every problem listed, before a single resource is registered.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, parseStackSettings } from "./fleet/stackSettings";
import { loadFleet } from "./fleet/loadFleet";
import { Problem, formatProblems } from "./fleet/problems";
import type { TenantPlan } from "./fleet/plan";
import type { Targets } from "./fleet/targets";

export interface StackFleet {
    targets: Targets;
    tenants: TenantPlan[];
    /** Label value naming this fleet on every container: `<project>/<stack>`. */
    fleet: string;
}

function fail(problems: readonly Problem[], what: string): never {
    throw new pulumi.RunError(`n8n-fleet found ${problems.length} problem(s) in ${what}; nothing was deployed.\n${formatProblems(problems)}`);
}

export function loadStackFleet(): StackFleet {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const stackFile = `Pulumi.${pulumi.getStack()}.yaml`;
    const stack = parseStackSettings(
        { tenantsFile: config.get("tenantsFile"), targets: config.getObject<unknown>("targets"), defaultTarget: config.get("defaultTarget") },
        stackFile,
    );
    if (!stack.ok) fail(stack.problems, stackFile);

    const { tenantsFile, targets, defaultTarget } = stack.settings;
    let text: string;
    try {
        text = readFileSync(resolve(__dirname, tenantsFile), "utf8");
    } catch (error) {
        fail([{ file: stackFile, path: [`${CONFIG_NAMESPACE}:tenantsFile`], message: `cannot read ${tenantsFile} (${(error as Error).message}). Fix: create it or point ${CONFIG_NAMESPACE}:tenantsFile at the tenants file.` }], stackFile);
    }
    const fleet = loadFleet({ file: tenantsFile, text, targets, defaultTarget, stackFile });
    if (!fleet.ok) fail(fleet.problems, tenantsFile);
    return { targets, tenants: fleet.tenants, fleet: `${pulumi.getProject()}/${pulumi.getStack()}` };
}
