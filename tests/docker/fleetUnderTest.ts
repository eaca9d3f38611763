/**
 * The fleets the Docker tests deploy, as the program declares them: tenants.json and the stack's
 * target go through the whole program under the mock monitor (runFleetInChild), and the tests get
 * every registration exactly as the engine would, secrets revealed.
 */
import type { Registration } from "../harness/recordingMocks";
import { TYPES, runFleetInChild } from "../harness/runFleet";
import assert from "node:assert/strict";
import { LABELS } from "../../fleet/containers/labels";
import { tenantNames } from "../../fleet/tenants/names";
import { minimumCpus, minimumMemoryMb } from "../../fleet/tenants/sizing";
import { MIB_PER_GIB } from "../../fleet/tenants/plan";
import type { DeployedContainer, Deployment } from "./deploy";
import { parseGoDuration } from "./engine";
import { indexStagedFiles, replaceStagedSetting } from "./n8nInContainer";

/**
 * One target, published on all addresses as a fleet host would be (so rewrite 1 shows). Its Docker
 * host is never dialled: the test applies the registrations to its private daemon (DOCKER_HOST).
 */
export const DOCKER_TEST_TARGETS = {
    local: { dockerHost: "ssh://deploy@docker-test.invalid", publicHost: "localhost", acceptSharedCookies: true, publishAddress: "0.0.0.0", capacity: { cpus: 16, memoryGb: 32 } },
};

/** Two active tenants, one with two workers, and a suspended one, at the default budget: what the fleet test proves things on. */
export const FLEET = {
    tenants: [
        { id: "alpha", port: 5811, workers: 2 },
        // beta may call private ranges (the Docker host's bridge addresses among them); alpha may not.
        { id: "beta", port: 5812, outbound: { allowIpRanges: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] } },
        { id: "gamma", port: 5813, status: "suspended" },
    ],
} as const;

/** One tenant with one worker at the smallest budget the sizing accepts: what the figures are measured on. */
export const MINIMUM_BUDGET_FLEET = {
    tenants: [{ id: "floor", port: 5821, workers: 1, resources: { cpus: minimumCpus(1), memoryGb: minimumMemoryMb(1) / MIB_PER_GIB } }],
};

/** Every registration the program makes for `tenants` on {@link DOCKER_TEST_TARGETS}; throws with the program's error. */
export async function registrationsFor(tenants: unknown): Promise<Registration[]> {
    const outcome = await runFleetInChild({ tenants, targets: DOCKER_TEST_TARGETS, defaultTarget: "local" });
    if (!outcome.ok) throw new Error(`the program failed for the test fleet: ${outcome.error}`);
    indexStagedFiles(outcome.run.resources);
    return outcome.run.resources;
}

function containerNamed(registrations: Registration[], name: string): Registration {
    const found = registrations.find((r) => r.type === TYPES.container && r.inputs.name === name);
    if (!found) throw new Error(`N8N_FLEET_BREAK: no container ${name} in the test fleet`);
    return found;
}

/**
 * Faults a reviewer can put into the declarations to see the fleet test catch them
 * (`N8N_FLEET_BREAK=<name> npm run test:docker -- tests/docker/fleet.test.ts`). Each edits the
 * recorded registrations of {@link FLEET} the way a bug in the program would. CI never sets it.
 */
const BREAKS: Record<string, (registrations: Registration[]) => void> = {
    /** alpha's PostgreSQL also joins beta's backend network. */
    "postgres-on-another-backend": (registrations) => {
        const postgres = containerNamed(registrations, "alpha-postgres");
        postgres.inputs.networksAdvanced = [...(postgres.inputs.networksAdvanced as unknown[]), { name: "beta-backend", aliases: ["postgres"] }];
    },
    /** alpha's first runner presents a token its broker did not issue. */
    "wrong-runner-token": (registrations) => {
        const runner = containerNamed(registrations, "alpha-n8n-worker-1-runner");
        replaceStagedSetting(runner, "N8N_RUNNERS_AUTH_TOKEN", "not-the-broker-token");
    },
};

/** {@link registrationsFor} {@link FLEET}, with the fault N8N_FLEET_BREAK names, if any. */
export async function fleetRegistrations(): Promise<Registration[]> {
    const registrations = await registrationsFor(FLEET);
    const name = process.env.N8N_FLEET_BREAK;
    if (!name) return registrations;
    const fault = BREAKS[name];
    if (!fault) throw new Error(`N8N_FLEET_BREAK=${name}: not a known fault; use one of ${Object.keys(BREAKS).join(", ")}`);
    fault(registrations);
    process.stderr.write(`N8N_FLEET_BREAK=${name}: the declarations are broken on purpose\n`);
    return registrations;
}

/** The value of a `{ label, value }` label a registration declares. */
export function labelOf(registration: Registration, label: string): string | undefined {
    const labels: unknown = registration.inputs.labels;
    if (!Array.isArray(labels)) return undefined;
    const found = labels.find((entry: { label?: unknown }) => entry.label === label);
    return typeof found?.value === "string" ? found.value : undefined;
}

/** One tenant of a deployment, read from the labels its resources declare. */
export interface Tenant {
    id: string;
    active: boolean;
    /** Its deployed containers, in declaration order. */
    containers: DeployedContainer[];
    /** Containers it declares that a failed deployment did not create. */
    missing: string[];
    /** Docker names of its networks, by role label (`backend`, `egress`). */
    networks: Map<string, string>;
    /** Docker names of its volumes. */
    volumes: string[];
}

/** A container's role label (`postgres`, `redis`, `main`, `worker`, `runner`). */
export function roleOf(c: DeployedContainer): string | undefined {
    return labelOf(c.declared, LABELS.role);
}

/** What a container declares about who it runs as and what it may use, typed. */
export interface DeclaredLimits {
    user: string | undefined;
    memoryMb: number;
    memorySwapMb: number;
    /** A CPU quota of its own: the host agents only (a tenant's containers share their envelope's). */
    cpus: string | undefined;
    /** CPU weight inside its tenant's envelope. */
    cpuShares: number | undefined;
    /** Its tenant's envelope (fleet/containers/envelopes.ts). */
    cgroupParent: string | undefined;
    capabilityDrops: string[];
    capabilityAdds: string[];
    securityOpts: string[];
}

/** The declared user, privileges and limits of a container; throws naming a missing or malformed input. */
export function declaredLimits(c: DeployedContainer): DeclaredLimits {
    const inputs = c.registration.inputs;
    const number = (key: string): number => {
        if (typeof inputs[key] !== "number") throw new Error(`${c.plan.name} declares no numeric ${key}`);
        return inputs[key];
    };
    const texts = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : []);
    if (typeof inputs.cpus !== "string" && typeof inputs.cpuShares !== "number") throw new Error(`${c.plan.name} declares neither cpus nor cpuShares`);
    return {
        user: typeof inputs.user === "string" ? inputs.user : undefined,
        memoryMb: number("memory"),
        memorySwapMb: number("memorySwap"),
        cpus: typeof inputs.cpus === "string" ? inputs.cpus : undefined,
        cpuShares: typeof inputs.cpuShares === "number" ? inputs.cpuShares : undefined,
        cgroupParent: typeof inputs.cgroupParent === "string" ? inputs.cgroupParent : undefined,
        capabilityDrops: texts(inputs.capabilities?.drops),
        capabilityAdds: texts(inputs.capabilities?.adds),
        securityOpts: texts(inputs.securityOpts),
    };
}

/** A container's declared health check timing, as declared and in ms. */
export interface DeclaredHealth {
    startPeriod: string;
    interval: string;
    retries: number;
    startPeriodMs: number;
    intervalMs: number;
}

/** The declared health check timing of a container; throws when it declares none. */
export function declaredHealth(c: DeployedContainer): DeclaredHealth {
    const healthcheck: unknown = c.registration.inputs.healthcheck;
    if (typeof healthcheck !== "object" || healthcheck === null) throw new Error(`${c.plan.name} declares no health check`);
    const { startPeriod, interval, retries } = healthcheck as Record<string, unknown>;
    if (typeof startPeriod !== "string" || typeof interval !== "string" || typeof retries !== "number") throw new Error(`${c.plan.name}: its health check lacks startPeriod, interval or retries`);
    const ms = (duration: string) => Number(parseGoDuration(duration) / 1_000_000n);
    return { startPeriod, interval, retries, startPeriodMs: ms(startPeriod), intervalMs: ms(interval) };
}

/** The containers of a tenant with this role label (`postgres`, `redis`, `main`, `worker`, `runner`). */
export function withRole(tenant: Tenant, role: string): DeployedContainer[] {
    return tenant.containers.filter((c) => roleOf(c) === role);
}

/** The single container of a tenant with this role; throws when there is not exactly one. */
export function theOne(tenant: Tenant, role: string): DeployedContainer {
    const found = withRole(tenant, role);
    if (found.length !== 1) {
        const missing = tenant.missing.length > 0 ? ` (not deployed: ${tenant.missing.join(", ")})` : "";
        throw new Error(`tenant ${tenant.id} has ${found.length} deployed ${role} containers, expected one${missing}`);
    }
    return found[0];
}

/** A tenant's backup sidecar; its other "backup" containers are one-shots (before an upgrade, at archiving). */
export function backupSidecar(tenant: Tenant): DeployedContainer {
    const name = tenantNames(tenant.id).backup;
    return tenant.containers.find((c) => c.plan.name === name) ?? assert.fail(`tenant ${tenant.id} has no deployed ${name}`);
}

/** The tenants of a deployment, by id, in the order the program declared them. */
export function tenantsOf(registrations: readonly Registration[], deployment: Deployment): Map<string, Tenant> {
    const tenants = new Map<string, Tenant>();
    const tenantFor = (id: string) => {
        let tenant = tenants.get(id);
        if (!tenant) {
            tenant = { id, active: true, containers: [], missing: [], networks: new Map(), volumes: [] };
            tenants.set(id, tenant);
        }
        return tenant;
    };
    for (const r of registrations) {
        const id = labelOf(r, LABELS.tenant);
        if (id === undefined) continue;
        const name = String(r.inputs.name ?? r.name);
        if (r.type === TYPES.network) tenantFor(id).networks.set(labelOf(r, LABELS.role) ?? name, name);
        if (r.type === TYPES.volume) tenantFor(id).volumes.push(name);
        if (r.type === TYPES.container) {
            const tenant = tenantFor(id);
            const deployed = deployment.containers.get(name);
            if (deployed) tenant.containers.push(deployed);
            else tenant.missing.push(name);
            if (labelOf(r, LABELS.status) === "suspended") tenant.active = false;
        }
    }
    return tenants;
}
