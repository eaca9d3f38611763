/**
 * What Docker and the kernel report about a running fleet, in the forms the checks compare with the
 * declarations: the values the Docker provider would read back into its state from `docker
 * inspect` (so a difference is what a second `pulumi up` would show), and what a container's main
 * process and cgroup really have (user, no_new_privs, capability bounding set, memory and CPU
 * limits, peak memory).
 */
import { existsSync, readFileSync } from "node:fs";
import { cgroupTree, safeRead } from "./daemon";
import { join } from "node:path";
import type Docker from "dockerode";
import { cpusReadBack } from "../../fleet/forms/dockerForms";
import { MIB, goDurationString } from "./engine";

/** `docker inspect` of a container, with the fields dockerode's types leave out. */
export type ContainerInspect = Docker.ContainerInspectInfo & {
    Config: Docker.ContainerInspectInfo["Config"] & { StopTimeout?: number };
};

/** A container's inspect, typed with the fields the checks read. */
export async function inspectContainer(docker: Docker, name: string): Promise<ContainerInspect> {
    return (await docker.getContainer(name).inspect()) as ContainerInspect;
}

function strings(value: unknown): string[] {
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** A published port in the provider's input form. */
export interface PortForm {
    internal: number;
    external: number;
    ip: string;
    protocol: string;
}

/** `{ "5678/tcp": [{ HostIp, HostPort }] }` -> the provider's `ports` list, in a stable order. */
function portsOf(bindings: unknown): PortForm[] {
    if (typeof bindings !== "object" || bindings === null) return [];
    const ports: PortForm[] = [];
    for (const [key, list] of Object.entries(bindings)) {
        const [internal, protocol = "tcp"] = key.split("/");
        if (!Array.isArray(list)) continue;
        for (const binding of list as { HostIp?: unknown; HostPort?: unknown }[]) {
            ports.push({ internal: Number(internal), external: Number(binding.HostPort), ip: String(binding.HostIp ?? ""), protocol });
        }
    }
    return ports.sort((a, b) => a.internal - b.internal || a.external - b.external || a.ip.localeCompare(b.ip));
}

/** Every host port a container publishes, running (NetworkSettings) or not (HostConfig). */
export function publishedPorts(info: ContainerInspect): PortForm[] {
    const all = [...portsOf(info.NetworkSettings.Ports), ...portsOf(info.HostConfig.PortBindings)];
    return all.filter((port, i) => all.findIndex((other) => JSON.stringify(other) === JSON.stringify(port)) === i);
}

/** The declared `ports` with the provider's defaults applied, in the same order. */
function declaredPorts(value: unknown): PortForm[] {
    if (!Array.isArray(value)) return [];
    return portsOf(
        Object.fromEntries(
            value.map((port: { internal?: unknown; external?: unknown; ip?: unknown; protocol?: unknown }) => [
                `${String(port.internal)}/${String(port.protocol ?? "tcp")}`,
                [{ HostIp: port.ip ?? "0.0.0.0", HostPort: port.external }],
            ]),
        ),
    );
}

/** The declared `capabilities` in the form read back: both lists, sorted. */
function capabilitiesForm(adds: unknown, drops: unknown): { adds: string[]; drops: string[] } | undefined {
    const form = { adds: strings(adds).sort(), drops: strings(drops).sort() };
    return form.adds.length === 0 && form.drops.length === 0 ? undefined : form;
}

/**
 * One input the provider reads back: its value from `docker inspect`, and the declared value in the
 * same form. `undefined` from `declared` means "not compared": the input is optional and computed,
 * so an undeclared value (the image's user or command) is not a difference.
 */
interface ReadBackField {
    read: (info: ContainerInspect) => unknown;
    declared: (inputs: Record<string, unknown>) => unknown;
}

function healthField(field: "Interval" | "Timeout" | "StartPeriod", input: string): ReadBackField {
    return {
        read: (info) => goDurationString(BigInt(info.Config.Healthcheck?.[field] ?? 0)),
        declared: (inputs) => (inputs.healthcheck as Record<string, unknown> | undefined)?.[input],
    };
}

/**
 * The container inputs the provider reads back from Docker after create and on every refresh
 * (kreuzwerker/terraform-provider-docker, resourceDockerContainerRead), with how it reads each.
 * Environment and labels are not read back (the image adds its own), nor are networks.
 */
const READ_BACK: Record<string, ReadBackField> = {
    name: { read: (info) => info.Name.replace(/^\//, ""), declared: (inputs) => inputs.name },
    command: { read: (info) => info.Config.Cmd, declared: (inputs) => inputs.command },
    user: { read: (info) => info.Config.User, declared: (inputs) => inputs.user },
    // Read back only when Docker has a quota (NanoCPUs > 0); the provider leaves the state's value otherwise.
    cpus: { read: (info) => ((info.HostConfig.NanoCpus ?? 0) > 0 ? cpusReadBack(BigInt(info.HostConfig.NanoCpus ?? 0)) : undefined), declared: (inputs) => inputs.cpus },
    // Always read back; 0 when none is set, which the provider's state holds for an undeclared one too.
    cpuShares: { read: (info) => info.HostConfig.CpuShares ?? 0, declared: (inputs) => inputs.cpuShares ?? 0 },
    // Integer MB, as Go divides; swap only when positive (-1 stays -1).
    memory: { read: (info) => Math.trunc((info.HostConfig.Memory ?? 0) / MIB), declared: (inputs) => inputs.memory },
    memorySwap: {
        read: (info) => ((info.HostConfig.MemorySwap ?? 0) > 0 ? Math.trunc((info.HostConfig.MemorySwap ?? 0) / MIB) : info.HostConfig.MemorySwap),
        declared: (inputs) => inputs.memorySwap,
    },
    stopTimeout: { read: (info) => info.Config.StopTimeout, declared: (inputs) => inputs.stopTimeout },
    securityOpts: { read: (info) => strings(info.HostConfig.SecurityOpt).sort(), declared: (inputs) => (inputs.securityOpts === undefined ? undefined : strings(inputs.securityOpts).sort()) },
    capabilities: {
        read: (info) => capabilitiesForm(info.HostConfig.CapAdd, info.HostConfig.CapDrop),
        declared: (inputs) => {
            const declared = inputs.capabilities as { adds?: unknown; drops?: unknown } | undefined;
            return capabilitiesForm(declared?.adds, declared?.drops) ?? null;
        },
    },
    // The provider reads published ports from NetworkSettings.Ports, which Docker fills only while the
    // container runs. A container that never ran (a suspended tenant's) has them in HostConfig only:
    // providers before kreuzwerker/terraform-provider-docker#842 (2026) read none there and replace
    // it on every update (issue #77); the check reads them where Docker keeps them.
    ports: {
        read: (info) => portsOf(info.State.Running ? info.NetworkSettings.Ports : info.HostConfig.PortBindings),
        declared: (inputs) => declaredPorts(inputs.ports),
    },
    // As Docker keeps the create request's mounts (getDockerContainerMounts): bind options only when given.
    mounts: {
        read: (info) => mountsForm((info.HostConfig.Mounts ?? []).map((m) => ({ type: m.Type, source: m.Source, target: m.Target, readOnly: m.ReadOnly, propagation: m.BindOptions?.Propagation }))),
        declared: (inputs) =>
            inputs.mounts === undefined
                ? undefined
                : mountsForm((inputs.mounts as { type: string; source?: string; target: string; readOnly?: boolean; bindOptions?: { propagation?: string } }[]).map((m) => ({ ...m, propagation: m.bindOptions?.propagation }))),
    },
    restart: { read: (info) => info.HostConfig.RestartPolicy?.Name, declared: (inputs) => inputs.restart },
    logDriver: { read: (info) => info.HostConfig.LogConfig?.Type, declared: (inputs) => inputs.logDriver },
    logOpts: { read: (info) => info.HostConfig.LogConfig?.Config, declared: (inputs) => inputs.logOpts },
    "healthcheck.tests": { read: (info) => info.Config.Healthcheck?.Test, declared: (inputs) => (inputs.healthcheck as Record<string, unknown> | undefined)?.tests },
    "healthcheck.interval": healthField("Interval", "interval"),
    "healthcheck.timeout": healthField("Timeout", "timeout"),
    "healthcheck.startPeriod": healthField("StartPeriod", "startPeriod"),
    "healthcheck.retries": { read: (info) => info.Config.Healthcheck?.Retries, declared: (inputs) => (inputs.healthcheck as Record<string, unknown> | undefined)?.retries },
};

/** Key order does not matter in Docker's maps (log options). */
function canonical(value: unknown): string {
    return JSON.stringify(value, (_, v: unknown) =>
        v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
    );
}

/**
 * Every input whose value the provider would read back from Docker differently from its
 * declaration (`inputs`), one sentence each naming the container, the input, both values.
 */
export function readBackDifferences(name: string, inputs: Record<string, unknown>, info: ContainerInspect): string[] {
    const differences: string[] = [];
    for (const [field, { read, declared }] of Object.entries(READ_BACK)) {
        const expected = declared(inputs);
        if (expected === undefined) continue;
        const actual = read(info) ?? null;
        if (canonical(actual) !== canonical(expected)) {
            differences.push(`${name}: ${field} is declared ${canonical(expected)}, but the provider would read back ${canonical(actual)} from Docker`);
        }
    }
    return differences;
}

/** What the kernel says about a container's main process (/proc/<pid>/status). */
export interface ProcessView {
    /** Real, effective, saved and filesystem uid. */
    uids: number[];
    noNewPrivileges: boolean;
    /** Capability bounding set: what the process and its children could ever gain. */
    boundingCapabilities: bigint;
    effectiveCapabilities: bigint;
}

/** The status of process `pid` as the host's /proc shows it. */
export function processView(pid: number): ProcessView {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => {
        const value = new RegExp(`^${name}:\\s*(.+)$`, "m").exec(status)?.[1];
        if (value === undefined) throw new Error(`/proc/${pid}/status has no ${name}`);
        return value.trim();
    };
    return {
        uids: field("Uid").split(/\s+/).map(Number),
        noNewPrivileges: field("NoNewPrivs") === "1",
        boundingCapabilities: BigInt(`0x${field("CapBnd")}`),
        effectiveCapabilities: BigInt(`0x${field("CapEff")}`),
    };
}

/** Where a cgroup v1 controller's hierarchy is mounted (from /proc/self/mountinfo). */
function controllerMount(controller: string): string {
    for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
        const [mountFields, superFields] = line.split(" - ");
        if (!superFields) continue;
        const [fsType, , options = ""] = superFields.split(" ");
        if (fsType === "cgroup" && options.split(",").includes(controller)) return mountFields.split(" ")[4];
    }
    throw new Error(`no cgroup v1 hierarchy with the ${controller} controller is mounted; the Docker test reads limits from cgroup v1 (tests/docker/inspect.ts)`);
}

/** The folder of process `pid`'s cgroup for `controller` in the host's cgroup file system. */
function cgroupFolder(pid: number, controller: string): string {
    for (const line of readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n")) {
        const [, controllers = "", path = ""] = line.split(":");
        if (controllers.split(",").includes(controller)) return join(controllerMount(controller), path);
    }
    throw new Error(`process ${pid} is in no ${controller} cgroup`);
}

/** What a container's cgroup enforces and has counted. */
export interface CgroupView {
    /** memory.limit_in_bytes */
    memoryLimit: bigint;
    /** memory.memsw.limit_in_bytes: memory and swap together. */
    memoryAndSwapLimit: bigint;
    /** memory.max_usage_in_bytes: the peak, page cache included, as the kernel charges it. */
    peakMemory: bigint;
    /** memory.stat rss: anonymous memory now (heaps, stacks), what a process cannot give back without dying. */
    rss: bigint;
    /** memory.stat cache: page cache now (files read, such as n8n's node_modules), reclaimed under pressure. */
    cache: bigint;
    /** memory.failcnt: how often the limit was hit (reclaim, not necessarily a kill). */
    limitHits: bigint;
    /**
     * Processes the kernel killed for lack of memory in this cgroup (memory.oom_control's oom_kill):
     * also a child process, such as a runner the launcher restarts, which State.OOMKilled misses.
     */
    oomKills: bigint;
    /** cpu.cfs_quota_us (-1: none of its own) */
    cpuQuotaMicros: bigint;
    /** cpu.shares: its weight among its siblings */
    cpuShares: bigint;
    /** Its cpu cgroup's folder relative to the hierarchy's root, such as `/n8n-fleet-0123456789/acme/<container id>`. */
    cpuPath: string;
    /** cpu.cfs_period_us */
    cpuPeriodMicros: bigint;
    /** cpuacct.usage: CPU time used since the container started, in ns. */
    cpuUsedNanos: bigint;
    /** cpu.stat nr_throttled: CFS periods in which the quota ran out. */
    throttledPeriods: bigint;
}

/** The cgroup (v1) view of the container whose main process is `pid`. */
export function cgroupView(pid: number): CgroupView {
    const memory = cgroupFolder(pid, "memory");
    const cpu = cgroupFolder(pid, "cpu");
    const value = (folder: string, file: string) => BigInt(readFileSync(join(folder, file), "utf8").trim());
    const statLine = (folder: string, file: string, key: string) => BigInt(new RegExp(`^${key} (\\d+)$`, "m").exec(readFileSync(join(folder, file), "utf8"))?.[1] ?? "0");
    return {
        memoryLimit: value(memory, "memory.limit_in_bytes"),
        memoryAndSwapLimit: value(memory, "memory.memsw.limit_in_bytes"),
        peakMemory: value(memory, "memory.max_usage_in_bytes"),
        rss: statLine(memory, "memory.stat", "rss"),
        cache: statLine(memory, "memory.stat", "cache"),
        limitHits: value(memory, "memory.failcnt"),
        oomKills: statLine(memory, "memory.oom_control", "oom_kill"),
        cpuQuotaMicros: value(cpu, "cpu.cfs_quota_us"),
        cpuShares: value(cpu, "cpu.shares"),
        cpuPath: cpu.slice(controllerMount("cpu").length),
        cpuPeriodMicros: value(cpu, "cpu.cfs_period_us"),
        cpuUsedNanos: value(cgroupFolder(pid, "cpuacct"), "cpuacct.usage"),
        throttledPeriods: statLine(cpu, "cpu.stat", "nr_throttled"),
    };
}

/** What a tenant's envelope (its cgroup parent, fleet/containers/envelopes.ts) enforces and has counted; cgroup v1. */
export interface EnvelopeView {
    cpuQuotaMicros: bigint;
    cpuPeriodMicros: bigint;
    /** cpuacct.usage of every container of the tenant together, in ns. */
    cpuUsedNanos: bigint;
    /** cpu.stat nr_throttled: periods in which the tenant's whole quota ran out. */
    throttledPeriods: bigint;
    memoryLimit: bigint;
    /** memory.max_usage_in_bytes of the whole tenant. */
    peakMemory: bigint;
    pidsMax: string;
    pidsCurrent: bigint;
    /** pids.events "max": how often a fork or clone was refused at pids.max. */
    pidsRefused: bigint;
    /** Processes the kernel killed for lack of memory anywhere in the tenant. */
    oomKills: bigint;
}

/** The envelope at `cgroupParent` (as declared: `/n8n-fleet-<digest>/<tenant>`). */
export function envelopeView(cgroupParent: string): EnvelopeView {
    const folder = (controller: string) => join(controllerMount(controller), cgroupParent);
    const text = (controller: string, file: string) => readFileSync(join(folder(controller), file), "utf8").trim();
    const statLine = (controller: string, file: string, key: string) => BigInt(new RegExp(`^${key} (\\d+)$`, "m").exec(text(controller, file))?.[1] ?? "0");
    return {
        cpuQuotaMicros: BigInt(text("cpu", "cpu.cfs_quota_us")),
        cpuPeriodMicros: BigInt(text("cpu", "cpu.cfs_period_us")),
        // cpuacct may be a hierarchy of its own, where only a started container makes the folder.
        cpuUsedNanos: existsSync(folder("cpuacct")) ? BigInt(text("cpuacct", "cpuacct.usage")) : 0n,
        throttledPeriods: statLine("cpu", "cpu.stat", "nr_throttled"),
        memoryLimit: BigInt(text("memory", "memory.limit_in_bytes")),
        peakMemory: BigInt(text("memory", "memory.max_usage_in_bytes")),
        pidsMax: text("pids", "pids.max"),
        pidsCurrent: BigInt(text("pids", "pids.current")),
        // The kernel counts a refused fork in the cgroup of the task that forked (a container's), which
        // kernels before 6.x do not add up to the parent whose pids.max refused it: summed over the tree.
        pidsRefused: cgroupTree(folder("pids")).reduce((sum, dir) => sum + BigInt(/^max (\d+)$/m.exec(safeRead(join(dir, "pids.events")))?.[1] ?? "0"), 0n),
        oomKills: statLine("memory", "memory.oom_control", "oom_kill"),
    };
}

/** Mounts in one comparable form, by target: an absent read-only flag is false, as the provider's state holds it. */
function mountsForm(mounts: { type?: string; source?: string; target?: string; readOnly?: boolean; propagation?: string }[]): string[] {
    return mounts.map((m) => JSON.stringify([m.type, m.source ?? "", m.target, m.readOnly ?? false, m.propagation ?? null])).sort();
}
