/**
 * What the real providers do with a changed input, which the mock monitor cannot say: replace the
 * resource, update it in place, only record the new value, or (a health check on a container)
 * record it without ever applying it. Read from the providers' schemas and update functions
 * (kreuzwerker/terraform-provider-docker resource_docker_container*.go, resource_docker_network.go,
 * resource_docker_volume.go; terraform-provider-random), so that a test can say what `pulumi up`
 * would do to each resource after an edit of tenants.json.
 */
import type { Registration } from "./recordingMocks";
import type { FleetRun } from "./runFleet";

export type Change = "create" | "delete" | "replace" | "update" | "none";

type Effect = "replace" | "update" | "record";

/** Container inputs by what a change does. Any input not listed fails the comparison. */
const CONTAINER_INPUTS: Record<string, Effect> = {
    // ForceNew in the schema.
    name: "replace",
    image: "replace",
    command: "replace",
    envs: "replace",
    user: "replace",
    labels: "replace",
    networksAdvanced: "replace",
    volumes: "replace",
    uploads: "replace",
    ports: "replace",
    cpus: "replace",
    capabilities: "replace",
    securityOpts: "replace",
    logDriver: "replace",
    logOpts: "replace",
    stopTimeout: "replace",
    // Applied to the running container by ContainerUpdate.
    memory: "update",
    memorySwap: "update",
    restart: "update",
    // Only kept in state: a running container is not stopped by start=false, nor re-probed by a new health check.
    start: "record",
    mustRun: "record",
    wait: "record",
    waitTimeout: "record",
    destroyGraceSeconds: "record",
    healthcheck: "record",
    attach: "record",
    logs: "record",
};

const EFFECTS: Record<string, Record<string, Effect>> = {
    "docker:index/container:Container": CONTAINER_INPUTS,
    // Neither has an update function: every input is ForceNew.
    "docker:index/network:Network": { name: "replace", internal: "replace", labels: "replace" },
    "docker:index/volume:Volume": { name: "replace", labels: "replace" },
    "docker:index/remoteImage:RemoteImage": { name: "replace", keepLocally: "update" },
    "random:index/randomPassword:RandomPassword": { length: "replace", special: "replace" },
};

function same(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

/** What the provider does when `before`'s inputs become `after`'s. Throws on an input this model does not know. */
export function changeOf(before: Registration, after: Registration): Change {
    const effects = EFFECTS[after.type];
    if (!effects) return same(before.inputs, after.inputs) ? "none" : "update";
    const keys = new Set([...Object.keys(before.inputs), ...Object.keys(after.inputs)]);
    let change: Change = "none";
    for (const key of keys) {
        if (key.startsWith("__") || same(before.inputs[key], after.inputs[key])) continue;
        const effect = effects[key];
        if (effect === undefined) throw new Error(`the provider model does not know ${after.type} input "${key}"; add it to tests/harness/providerModel.ts from the provider's source`);
        if (effect === "replace") return "replace";
        if (effect === "update") change = "update";
    }
    return change;
}

/** Inputs of `after` the provider would record but never apply to the running object. */
export function unappliedChanges(before: Registration, after: Registration): string[] {
    const effects = EFFECTS[after.type] ?? {};
    if (changeOf(before, after) === "replace") return [];
    return Object.keys(after.inputs).filter((key) => effects[key] === "record" && !same(before.inputs[key], after.inputs[key]));
}

/** Per resource name: what `pulumi up` of `after` would do to a stack deployed from `before`. */
export function changesBetween(before: FleetRun, after: FleetRun): Map<string, Change> {
    const key = (r: Registration) => r.urn;
    const old = new Map(before.resources.map((r) => [key(r), r]));
    const changes = new Map<string, Change>();
    for (const r of after.resources) {
        const was = old.get(key(r));
        changes.set(r.name, was ? changeOf(was, r) : "create");
        old.delete(key(r));
    }
    for (const r of old.values()) changes.set(r.name, "delete");
    return changes;
}
