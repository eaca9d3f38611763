/**
 * Applies the program's registrations to the test's Docker daemon the way `pulumi up` would with the
 * Docker provider: every Network, Volume and Container through the Engine API, in the order the
 * declared dependencies give (independent resources in parallel, as the engine does), a container
 * with `wait` blocking its dependents until Docker calls it healthy. Also removes containers as the
 * provider deletes them (dependents first, stopped with their declared grace period).
 */
import type Docker from "dockerode";
import { pack } from "tar-stream";
import type { Registration } from "../harness/recordingMocks";
import { TYPES } from "../harness/runFleet";
import { ContainerPlan, DEFAULT_WAIT_TIMEOUT_SECONDS, Upload, imageOf, translateContainer, translateNetwork, translateRemoteImage, translateVolume } from "./engine";
import { N8nInstall, rewriteForThisMachine } from "./rewrites";
import { Created, logsOf, pause } from "./client";
import { LABELS } from "../../fleet/containers/labels";
import { removeGuardRules } from "./hostRules";
import { killAndRemoveCgroups } from "./daemon";

/** One health probe Docker ran, times in ms since the epoch. */
export interface HealthProbe {
    start: number;
    end: number;
    exitCode: number;
    output: string;
}

/** How a container became healthy: when it started, every probe seen meanwhile, when it passed. */
export interface HealthRecord {
    startedAt: number;
    /** Oldest first; Docker keeps only the last five, so they are collected while waiting. */
    probes: HealthProbe[];
    /** End of the first passing probe. */
    healthyAt: number;
}

/** A container as declared, as run on this machine, and how it came up. */
export interface DeployedContainer {
    /** The registration exactly as the program made it. */
    declared: Registration;
    /** The same after {@link rewriteForThisMachine}: what was applied and what read-back is compared with. */
    registration: Registration;
    /** The image reference its declared image id stands for. */
    image: string;
    plan: ContainerPlan;
    /** Set when the container was waited on (`wait: true`) or waited on again after a restart. */
    health?: HealthRecord;
    /** For a one-shot (`attach: true`): how it ended, and what it printed when it declares `logs`. */
    ran?: { exitCode: number; logs: string };
}

/** What one {@link deploy} created. */
export interface Deployment {
    /** By Docker name. */
    containers: Map<string, DeployedContainer>;
    /** Every rewrite applied, one sentence each (see rewriteForThisMachine). */
    rewrites: string[];
}

/** Options of {@link deploy}. */
export interface DeployOptions {
    /** Records what is created, for the test's cleanup. */
    created: Created;
    /**
     * Only these registrations are applied; the others of an applied type must already exist, as
     * in an update that replaces containers only. Default: all.
     */
    only?: (registration: Registration) => boolean;
    /** Where the n8n install mounts come from (rewrite 2); the default is the machine's install. */
    n8nInstall?: N8nInstall;
    /** Receives one line per created resource and per rewrite. */
    log?: (line: string) => void;
}

/**
 * A deployment that did not complete: the message lists every failure, `deployment` holds what was
 * created, so the checks can still say what is wrong with it.
 */
export class DeploymentFailed extends Error {
    constructor(
        message: string,
        readonly deployment: Deployment,
    ) {
        super(message);
    }
}

/** Registration types this module creates in Docker. */
const APPLIED = new Set<string>([TYPES.container, TYPES.network, TYPES.volume, TYPES.image]);

/**
 * Custom resources that need nothing in the daemon: generated passwords are already resolved into
 * the containers' inputs, and the Docker provider is replaced by the test's own daemon.
 */
const RESOLVED_ELSEWHERE = new Set<string>([TYPES.password, TYPES.dockerProvider]);

/** Docker's timestamps carry nanoseconds, which `Date.parse` does not take. */
function dockerTime(text: string): number {
    const time = Date.parse(text.replace(/(\.\d{3})\d+/, "$1"));
    if (Number.isNaN(time)) throw new Error(`"${text}" is not a Docker timestamp`);
    return time;
}

/** The dependencies of each applied registration among the applied ones, by URN. */
function dependencyGraph(registrations: readonly Registration[]): Map<string, string[]> {
    const applied = registrations.filter((r) => APPLIED.has(r.type));
    const urns = new Set(applied.map((r) => r.urn));
    // A container names its networks and volumes; the edge is kept even when the name is a plain string.
    const byName = new Map(applied.filter((r) => r.type === TYPES.network || r.type === TYPES.volume).map((r) => [`${r.type}:${String(r.inputs.name ?? r.name)}`, r.urn]));
    const named = (r: Registration): string[] => {
        if (r.type !== TYPES.container) return [];
        const networks = Array.isArray(r.inputs.networksAdvanced) ? r.inputs.networksAdvanced.map((n: { name?: unknown }) => byName.get(`${TYPES.network}:${String(n.name)}`)) : [];
        const volumes = Array.isArray(r.inputs.volumes) ? r.inputs.volumes.map((v: { volumeName?: unknown }) => byName.get(`${TYPES.volume}:${String(v.volumeName)}`)) : [];
        return [...networks, ...volumes].filter((urn): urn is string => urn !== undefined);
    };
    const graph = new Map(applied.map((r) => [r.urn, [...new Set([...r.dependencies.filter((d) => urns.has(d)), ...named(r)])]]));
    const state = new Map<string, "visiting" | "done">();
    const visit = (urn: string, path: string[]) => {
        if (state.get(urn) === "done") return;
        if (state.get(urn) === "visiting") throw new Error(`the registrations depend on each other in a cycle: ${[...path, urn].join(" -> ")}`);
        state.set(urn, "visiting");
        for (const dependency of graph.get(urn) ?? []) visit(dependency, [...path, urn]);
        state.set(urn, "done");
    };
    for (const urn of graph.keys()) visit(urn, []);
    return graph;
}

/** Fails, naming the registration, for a custom resource this module cannot apply. */
function checkTypes(registrations: readonly Registration[]): void {
    for (const r of registrations) {
        if (r.custom && !APPLIED.has(r.type) && !RESOLVED_ELSEWHERE.has(r.type)) {
            throw new Error(`the Docker test does not know how to apply ${r.type} (${r.name}); add it to tests/docker/deploy.ts`);
        }
    }
}

export async function tarOf(upload: Upload): Promise<Buffer> {
    const archive = pack();
    const chunks: Buffer[] = [];
    archive.on("data", (chunk: unknown) => {
        if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    });
    const ended = new Promise<void>((resolve, reject) => {
        archive.on("end", resolve);
        archive.on("error", reject);
    });
    archive.entry({ name: upload.path, mode: upload.mode, size: upload.content.length, uid: upload.uid, gid: upload.gid }, upload.content);
    archive.finalize();
    await ended;
    return Buffer.concat(chunks);
}

/** Last log lines and health probes of a container: what every failure about it shows. */
async function diagnosis(docker: Docker, name: string): Promise<string> {
    const parts: string[] = [];
    try {
        const info = await docker.getContainer(name).inspect();
        const probes = info.State.Health?.Log ?? [];
        if (probes.length > 0) {
            parts.push(`its last health probes:\n${probes.map((p) => `  exit ${p.ExitCode}: ${p.Output.trim().slice(0, 300)}`).join("\n")}`);
        }
    } catch (error) {
        parts.push(`(inspect failed: ${(error as Error).message})`);
    }
    try {
        parts.push(`its last log lines:\n${(await logsOf(docker, name, 30)).trimEnd()}`);
    } catch (error) {
        parts.push(`(logs unavailable: ${(error as Error).message})`);
    }
    return parts.join("\n");
}

/**
 * Polls until Docker calls the container healthy, as the provider's `wait` does, and returns the
 * probes seen on the way. Fails when the container stops for good (not restarting) or when
 * `timeoutMs` passes, with its health probes and last log lines.
 */
export async function waitUntilHealthy(docker: Docker, name: string, timeoutMs: number): Promise<HealthRecord> {
    const deadline = Date.now() + timeoutMs;
    const probes = new Map<string, HealthProbe>();
    for (;;) {
        const info = await docker.getContainer(name).inspect();
        const health = info.State.Health;
        if (!health) throw new Error(`${name} is waited on but declares no health check`);
        const startedAt = dockerTime(info.State.StartedAt);
        for (const entry of health.Log ?? []) {
            const probe = { start: dockerTime(entry.Start), end: dockerTime(entry.End), exitCode: entry.ExitCode, output: entry.Output };
            if (probe.start >= startedAt) probes.set(entry.Start, probe);
        }
        if (health.Status === "healthy") {
            const seen = [...probes.values()].sort((a, b) => a.start - b.start);
            const passed = seen.find((p) => p.exitCode === 0);
            return { startedAt, probes: seen, healthyAt: passed?.end ?? Date.now() };
        }
        if (!info.State.Running && !info.State.Restarting) {
            const oom = info.State.OOMKilled ? ", killed by the kernel for lack of memory (OOMKilled)" : "";
            throw new Error(`${name} stopped (exit code ${info.State.ExitCode}${oom}) before it became healthy\n${await diagnosis(docker, name)}`);
        }
        if (Date.now() > deadline) {
            throw new Error(
                `${name} did not become healthy within ${timeoutMs / 1000} s (its declared waitTimeout): health "${health.Status}", ${health.FailingStreak} failing probes in a row, restarted ${info.RestartCount} times\n${await diagnosis(docker, name)}`,
            );
        }
        await pause(500);
    }
}

/** The envelope keeper's cgroup folder, from its environment (ENVELOPE_PARENT). */
function envelopeParentOf(env: readonly string[]): string | undefined {
    const line = env.find((e) => e.startsWith("ENVELOPE_PARENT="));
    return line === undefined ? undefined : line.slice("ENVELOPE_PARENT=".length);
}

/**
 * The provider's create, up to the start: create on the first network, connect the others with
 * their aliases, write the uploads.
 */
export async function createFromPlan(docker: Docker, plan: ContainerPlan, created: Created): Promise<Docker.Container> {
    const container = await docker.createContainer(plan.create);
    created.container(plan.name);
    // The host guard's rules outlive it on purpose (a replaced guard leaves no gap): the test removes them.
    if (plan.create.Labels?.[LABELS.role] === "host-guard") {
        const env = plan.create.Env ?? [];
        created.hostChange(`the host guard's rules of ${plan.name}`, () => removeGuardRules(env));
    }
    // The tenants' envelopes (fleet/containers/envelopes.ts) are cgroups of the host, outside the daemon's parent: removed once their containers are gone.
    const cgroupTop = plan.create.HostConfig?.CgroupParent?.split("/").find((part) => part !== "") ?? envelopeParentOf(plan.create.Env ?? []);
    if (cgroupTop !== undefined) created.hostChange(`the cgroup ${cgroupTop}`, () => killAndRemoveCgroups(cgroupTop));
    for (const { network, aliases } of plan.connect) {
        await docker.getNetwork(network).connect({ Container: container.id, EndpointConfig: { Aliases: aliases } });
    }
    for (const upload of plan.uploads) await container.putArchive(await tarOf(upload), { path: "/" });
    return container;
}

/**
 * How long a one-shot may run. The provider waits without a limit; a test cannot, and a one-shot
 * that runs this long is broken.
 */
const ONE_SHOT_LIMIT_MS = 15 * 60_000;

/** Waits for an attached one-shot to exit, as the provider does (it does not judge the exit code). */
export async function runToItsEnd(docker: Docker, name: string, keepLogs: boolean): Promise<{ exitCode: number; logs: string }> {
    const deadline = Date.now() + ONE_SHOT_LIMIT_MS;
    for (;;) {
        const state = (await docker.getContainer(name).inspect()).State;
        if (!state.Running) return { exitCode: state.ExitCode, logs: keepLogs ? await logsOf(docker, name) : "" };
        if (Date.now() > deadline) throw new Error(`${name} (attach: true) still runs after ${ONE_SHOT_LIMIT_MS / 60_000} minutes\n${await diagnosis(docker, name)}`);
        await pause(500);
    }
}

async function createContainer(docker: Docker, registrations: readonly Registration[], declared: Registration, options: DeployOptions, deployment: Deployment): Promise<void> {
    const image = imageOf(declared, registrations);
    const { registration, applied } = rewriteForThisMachine(declared, image, options.n8nInstall);
    for (const line of applied) options.log?.(`rewrite: ${line}`);
    deployment.rewrites.push(...applied);
    const plan = translateContainer(registration, image);
    const deployed: DeployedContainer = { declared, registration, image, plan };
    deployment.containers.set(plan.name, deployed);

    const container = await createFromPlan(docker, plan, options.created);
    if (!plan.lifecycle.start) {
        options.log?.(`created ${plan.name} (not started)`);
        return;
    }
    await container.start();
    if (plan.lifecycle.attach) {
        deployed.ran = await runToItsEnd(docker, plan.name, plan.lifecycle.logs);
        options.log?.(`ran ${plan.name} to its end: exit code ${deployed.ran.exitCode}`);
        return;
    }
    if (plan.lifecycle.waitTimeoutMs !== undefined) deployed.health = await waitUntilHealthy(docker, plan.name, plan.lifecycle.waitTimeoutMs);
    if (plan.lifecycle.mustRun && !(await container.inspect()).State.Running) {
        throw new Error(`${plan.name} is not running after its start, and it declares mustRun\n${await diagnosis(docker, plan.name)}`);
    }
    options.log?.(`started ${plan.name}${deployed.health ? `, healthy after ${((deployed.health.healthyAt - deployed.health.startedAt) / 1000).toFixed(1)} s` : ""}`);
}

async function applyOne(docker: Docker, registrations: readonly Registration[], r: Registration, options: DeployOptions, deployment: Deployment): Promise<void> {
    const selected = options.only?.(r) ?? true;
    switch (r.type) {
        case TYPES.image: {
            // Nothing can be pulled here: the stand-in images must already be in the daemon.
            const reference = translateRemoteImage(r);
            await docker.getImage(reference).inspect().catch((error: Error) => {
                throw new Error(`image ${reference} (${r.name}) is not in the test daemon: ${error.message}; npm run test:docker builds or loads the stand-in images first`);
            });
            return;
        }
        case TYPES.network: {
            const plan = translateNetwork(r);
            if (!selected) {
                await docker.getNetwork(plan.Name).inspect();
                return;
            }
            await docker.createNetwork(plan);
            options.created.network(plan.Name);
            options.log?.(`created network ${plan.Name}${plan.Internal ? " (internal)" : ""}`);
            return;
        }
        case TYPES.volume: {
            const plan = translateVolume(r);
            if (!selected) {
                await docker.getVolume(plan.Name).inspect();
                return;
            }
            await docker.createVolume(plan);
            options.created.volume(plan.Name);
            return;
        }
        case TYPES.container:
            if (selected) await createContainer(docker, registrations, r, options, deployment);
            return;
        default:
            throw new Error(`internal: ${r.type} is not applied here`);
    }
}

/**
 * Creates everything the registrations declare, each resource once all it depends on is done.
 * When something fails, what depends on it is not created (as with `pulumi up`), the rest is, and
 * the error lists every failure with its cause.
 */
export async function deploy(docker: Docker, registrations: readonly Registration[], options: DeployOptions): Promise<Deployment> {
    checkTypes(registrations);
    const graph = dependencyGraph(registrations);
    const byUrn = new Map(registrations.map((r) => [r.urn, r]));
    const deployment: Deployment = { containers: new Map(), rewrites: [] };
    const failures = new Map<string, Error>();
    const running = new Map<string, Promise<void>>();

    const apply = (urn: string): Promise<void> => {
        const existing = running.get(urn);
        if (existing) return existing;
        const r = byUrn.get(urn);
        if (!r) throw new Error(`internal: no registration ${urn}`);
        const work = (async () => {
            const results = await Promise.allSettled((graph.get(urn) ?? []).map(apply));
            const failed = (graph.get(urn) ?? []).filter((_, i) => results[i].status === "rejected").map((d) => byUrn.get(d)?.name ?? d);
            if (failed.length > 0) throw new Error(`${r.name} was not created because ${failed.join(", ")} failed`);
            await applyOne(docker, registrations, r, options, deployment);
        })();
        work.catch((error: Error) => failures.set(urn, error));
        running.set(urn, work);
        return work;
    };
    await Promise.allSettled([...graph.keys()].map(apply));

    if (failures.size > 0) {
        const messages = [...failures.values()].map((error) => error.message);
        // Root causes first: the "was not created because" lines only follow from them.
        messages.sort((a, b) => Number(a.includes(" was not created because ")) - Number(b.includes(" was not created because ")));
        throw new DeploymentFailed(`the deployment failed:\n- ${messages.join("\n- ")}`, deployment);
    }
    return deployment;
}

/**
 * {@link deploy}, logging each step with the time since it began, and returning what was created
 * also when it failed, with the failure, so that checks can still say what is wrong with it.
 */
export async function deployLogged(docker: Docker, registrations: readonly Registration[], options: Omit<DeployOptions, "log">): Promise<{ deployment: Deployment; failure?: DeploymentFailed }> {
    const started = Date.now();
    const log = (line: string) => console.log(`[deploy +${((Date.now() - started) / 1000).toFixed(1)} s] ${line}`);
    try {
        return { deployment: await deploy(docker, registrations, { ...options, log }) };
    } catch (error) {
        if (!(error instanceof DeploymentFailed)) throw error;
        return { deployment: error.deployment, failure: error };
    }
}

/**
 * `docker restart` of every running container at once (each stopped with its declared stop timeout,
 * as Docker does when the request names none), then waits until each with a health check is healthy
 * again, within its declared waitTimeout (the provider's default when it declares none).
 */
export async function restartContainers(docker: Docker, deployment: Deployment): Promise<void> {
    const containers = [...deployment.containers.values()];
    const running = await Promise.all(containers.map(async (c) => (await docker.getContainer(c.plan.name).inspect()).State.Running));
    const started = containers.filter((_, i) => running[i]);
    await Promise.all(started.map((c) => docker.getContainer(c.plan.name).restart()));
    await Promise.all(
        started
            .filter((c) => c.plan.create.Healthcheck !== undefined)
            .map(async (c) => {
                c.health = await waitUntilHealthy(docker, c.plan.name, c.plan.lifecycle.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_SECONDS * 1000);
            }),
    );
}

/**
 * Deletes the deployment's containers as the provider does on delete or replace: a container only
 * after everything that depends on it, stopped with its `destroyGraceSeconds` (none: killed), then
 * removed. Independent containers go in parallel.
 */
export async function removeContainers(docker: Docker, deployment: Deployment): Promise<void> {
    const containers = [...deployment.containers.values()];
    const removing = new Map<string, Promise<void>>();
    const remove = (c: DeployedContainer): Promise<void> => {
        const existing = removing.get(c.plan.name);
        if (existing) return existing;
        const work = (async () => {
            await Promise.all(containers.filter((other) => other.declared.dependencies.includes(c.declared.urn)).map(remove));
            const container = docker.getContainer(c.plan.name);
            if (c.plan.lifecycle.destroyGraceSeconds > 0 && (await container.inspect()).State.Running) {
                await container.stop({ t: c.plan.lifecycle.destroyGraceSeconds });
            }
            await container.remove({ force: true, v: true });
        })();
        removing.set(c.plan.name, work);
        return work;
    };
    await Promise.all(containers.map(remove));
}
