/**
 * The program's Docker registrations, as the engine receives them under the mock monitor, turned
 * into Docker Engine API requests the way the Docker provider (kreuzwerker/terraform-provider-docker,
 * under @pulumi/docker) makes them: one translation per resource type, one handler per input. An
 * input without a handler throws, naming it, so a new declaration can never be skipped silently.
 *
 * Pure: nothing here talks to a daemon (tests/docker/deploy.ts does), so `npm test` checks the
 * translation of every container the program declares without Docker.
 */
import type Docker from "dockerode";
import type { Registration } from "../harness/recordingMocks";
import { TYPES } from "../harness/runFleet";
import { parseCpus } from "../../fleet/forms/dockerForms";

/** One mebibyte: the provider's `memory` and `memorySwap` are MB of 1024 * 1024 bytes. */
export const MIB = 1024 * 1024;

/** A file the provider writes into the container after create and network connect, before start. */
export interface Upload {
    /** Absolute path in the container, as declared; it is also the tar entry's name. */
    path: string;
    content: Buffer;
    /** File mode: `permissions` (octal) when declared, else 0744 when `executable`, else 0644. */
    mode: number;
    /** Numeric owner and group (`owner`, `group`); root when not declared, as the provider's archive leaves it. */
    uid: number;
    gid: number;
}

/** What the provider does around create: start, wait for healthy, insist on running, stop on delete. */
export interface Lifecycle {
    start: boolean;
    /** The provider fails the create when the container is not running afterwards. */
    mustRun: boolean;
    /** Poll until healthy before dependents are created; undefined when `wait` is off. */
    waitTimeoutMs: number | undefined;
    /** Stop timeout used on delete and replace (the provider stops with 0 s, i.e. kills, when unset). */
    destroyGraceSeconds: number;
    /** A one-shot: the provider waits for it to exit before its dependents are created (whatever its exit code). */
    attach: boolean;
    /** With `attach`, the provider keeps what it printed (its `containerLogs` output). */
    logs: boolean;
}

/** Everything needed to create one container as the provider would. */
export interface ContainerPlan {
    /** Docker name (also the Pulumi resource name). */
    name: string;
    /** POST /containers/create body; the first declared network is in its NetworkingConfig. */
    create: Docker.ContainerCreateOptions;
    /** Further declared networks, connected after create, each with its aliases. */
    connect: { network: string; aliases: string[] }[];
    uploads: Upload[];
    lifecycle: Lifecycle;
}

/** POST /networks/create body. */
export type NetworkPlan = Docker.NetworkCreateOptions & { Name: string };

/** POST /volumes/create body. */
export interface VolumePlan {
    Name: string;
    Labels: Record<string, string>;
}

/** Nanoseconds per Go duration unit (time.ParseDuration). */
const GO_UNITS: Record<string, bigint> = {
    ns: 1n,
    us: 1_000n,
    "µs": 1_000n,
    "μs": 1_000n,
    ms: 1_000_000n,
    s: 1_000_000_000n,
    m: 60_000_000_000n,
    h: 3_600_000_000_000n,
};

/**
 * Go's `time.ParseDuration` in nanoseconds ("2m0s", "1.5s", "300ms"), exact. The provider ignores
 * a parse error and sends 0 (no interval, Docker's default); this throws instead, so a malformed
 * declaration is noticed.
 */
export function parseGoDuration(text: string): bigint {
    const whole = /^((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
    if (text === "0") return 0n;
    if (!whole.test(text)) throw new Error(`"${text}" is not a Go duration (such as "30s" or "2m0s")`);
    let total = 0n;
    for (const [, integer = "", fraction = "", unit] of text.matchAll(/(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/g)) {
        const scale = GO_UNITS[unit];
        total += BigInt(integer || "0") * scale;
        // Go keeps the fraction's digits exactly and truncates below a nanosecond.
        if (fraction) total += (BigInt(fraction) * scale) / 10n ** BigInt(fraction.length);
    }
    return total;
}

/** `value / unit` with the remainder as decimals, trailing zeros trimmed: Go's fmtFrac and fmtInt. */
function decimal(value: bigint, unit: bigint): string {
    const whole = value / unit;
    const rest = value % unit;
    if (rest === 0n) return String(whole);
    const digits = String(unit).length - 1;
    return `${whole}.${String(rest).padStart(digits, "0").replace(/0+$/, "")}`;
}

/**
 * Go's `time.Duration.String()` for nanoseconds, which is how the provider writes health check
 * durations back into its state after reading them from Docker: "15s", "2m0s", "1h0m0s", "1.5s",
 * "300ms".
 */
export function goDurationString(nanoseconds: bigint): string {
    if (nanoseconds === 0n) return "0s";
    const sign = nanoseconds < 0n ? "-" : "";
    const ns = nanoseconds < 0n ? -nanoseconds : nanoseconds;
    if (ns < 1_000n) return `${sign}${ns}ns`;
    if (ns < 1_000_000n) return `${sign}${decimal(ns, 1_000n)}µs`;
    if (ns < 1_000_000_000n) return `${sign}${decimal(ns, 1_000_000n)}ms`;
    const hours = ns / GO_UNITS.h;
    const minutes = (ns / GO_UNITS.m) % 60n;
    const seconds = `${decimal(ns % GO_UNITS.m, GO_UNITS.s)}s`;
    if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}`;
    if (minutes > 0n) return `${sign}${minutes}m${seconds}`;
    return `${sign}${seconds}`;
}

/** Reads one input with its expected shape; every failure names the resource and the input's path. */
class InputReader {
    constructor(private readonly owner: string) {}

    fail(path: string, expected: string, value: unknown): never {
        throw new Error(`${this.owner}: input ${path} must be ${expected}, got ${JSON.stringify(value)}`);
    }

    text(value: unknown, path: string): string {
        return typeof value === "string" ? value : this.fail(path, "a string", value);
    }

    integer(value: unknown, path: string): number {
        return typeof value === "number" && Number.isInteger(value) ? value : this.fail(path, "a whole number", value);
    }

    flag(value: unknown, path: string): boolean {
        return typeof value === "boolean" ? value : this.fail(path, "true or false", value);
    }

    texts(value: unknown, path: string): string[] {
        if (!Array.isArray(value)) return this.fail(path, "a list of strings", value);
        return value.map((item, i) => this.text(item, `${path}[${i}]`));
    }

    list(value: unknown, path: string): unknown[] {
        return Array.isArray(value) ? value : this.fail(path, "a list", value);
    }

    /**
     * An object whose keys must all be among `known`: a nested field the translator does not handle
     * (say `healthcheck.startInterval`) is as much an unknown input as a top-level one.
     */
    fields(value: unknown, path: string, known: readonly string[]): Record<string, unknown> {
        if (typeof value !== "object" || value === null || Array.isArray(value)) return this.fail(path, "an object", value);
        const record = value as Record<string, unknown>;
        for (const key of Object.keys(record)) {
            if (!known.includes(key)) throw unknownInput(this.owner, `${path}.${key}`);
        }
        return record;
    }

    stringMap(value: unknown, path: string): Record<string, string> {
        if (typeof value !== "object" || value === null || Array.isArray(value)) return this.fail(path, "an object of strings", value);
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.text(item, `${path}.${key}`)]));
    }

    /** The provider's `labels`: a set of `{ label, value }`. */
    labels(value: unknown, path: string): Record<string, string> {
        return Object.fromEntries(
            this.list(value, path).map((item, i) => {
                const entry = this.fields(item, `${path}[${i}]`, ["label", "value"]);
                return [this.text(entry.label, `${path}[${i}].label`), this.text(entry.value, `${path}[${i}].value`)];
            }),
        );
    }
}

function unknownInput(owner: string, path: string): Error {
    return new Error(
        `${owner}: the Docker translator does not know input "${path}"; add it to tests/docker/engine.ts from the provider's source (kreuzwerker/terraform-provider-docker), so that the Docker test applies it as \`pulumi up\` would`,
    );
}

/**
 * Keys the SDK adds to the wire form of inputs (such as `__defaults`); they are engine metadata,
 * not inputs of the resource.
 */
function isEngineMetadata(key: string): boolean {
    return key.startsWith("__");
}

/** Runs `handlers[key]` for every input; an input without a handler throws. */
function applyInputs<T>(owner: string, inputs: Record<string, unknown>, handlers: Record<string, (value: unknown, target: T) => void>, target: T): void {
    for (const [key, value] of Object.entries(inputs)) {
        if (isEngineMetadata(key)) continue;
        const handler = handlers[key];
        if (!handler) throw unknownInput(owner, key);
        handler(value, target);
    }
}

function requireType(registration: Registration, type: string): void {
    if (registration.type !== type) throw new Error(`${registration.name} is a ${registration.type}, not a ${type}`);
}

/** A container plan under construction: `create` with its HostConfig present, `wait` apart from its timeout. */
interface Draft extends ContainerPlan {
    create: Docker.ContainerCreateOptions & { HostConfig: Docker.HostConfig };
    wait: boolean;
    waitTimeoutSeconds: number;
}

/** The provider's `waitTimeout` default. */
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 60;

type ContainerHandler = (value: unknown, draft: Draft) => void;

function containerHandlers(read: InputReader, imageReference: string): Record<string, ContainerHandler> {
    return {
        name: (value, draft) => {
            draft.name = read.text(value, "name");
            draft.create.name = draft.name;
        },
        // The program declares the RemoteImage's id; the provider would use the pulled image's id,
        // which here is the image the reference names (resolved by the caller).
        image: (value, draft) => {
            read.text(value, "image");
            draft.create.Image = imageReference;
        },
        envs: (value, draft) => {
            draft.create.Env = read.texts(value, "envs");
        },
        command: (value, draft) => {
            const command = read.texts(value, "command");
            // The provider refuses an empty argument rather than passing it on.
            command.forEach((arg, i) => arg === "" && read.fail(`command[${i}]`, "a non-empty string", arg));
            draft.create.Cmd = command;
        },
        user: (value, draft) => {
            draft.create.User = read.text(value, "user");
        },
        networksAdvanced: (value, draft) => {
            const networks = read.list(value, "networksAdvanced").map((item, i) => {
                const path = `networksAdvanced[${i}]`;
                const entry = read.fields(item, path, ["name", "aliases"]);
                return { network: read.text(entry.name, `${path}.name`), aliases: entry.aliases === undefined ? [] : read.texts(entry.aliases, `${path}.aliases`) };
            });
            const [first, ...rest] = networks;
            if (!first) return;
            // The container is created on its first network only (not on Docker's default bridge);
            // the others are connected before it starts, each with its own aliases.
            draft.create.NetworkingConfig = { EndpointsConfig: { [first.network]: { Aliases: first.aliases } } };
            draft.connect = rest;
        },
        volumes: (value, draft) => {
            const binds: string[] = [];
            const anonymous: Record<string, Record<string, never>> = {};
            read.list(value, "volumes").forEach((item, i) => {
                const path = `volumes[${i}]`;
                const entry = read.fields(item, path, ["volumeName", "containerPath", "readOnly"]);
                const containerPath = read.text(entry.containerPath, `${path}.containerPath`);
                // The provider's volumeSetToDockerVolumes: every path is in Config.Volumes; a named
                // volume is also bound ("<volume>:<path>:<rw|ro>"); a path alone is an anonymous volume.
                if (entry.volumeName === undefined) {
                    anonymous[containerPath] = {};
                    return;
                }
                const mode = entry.readOnly === undefined || !read.flag(entry.readOnly, `${path}.readOnly`) ? "rw" : "ro";
                binds.push(`${read.text(entry.volumeName, `${path}.volumeName`)}:${containerPath}:${mode}`);
            });
            draft.create.HostConfig.Binds = binds;
            if (Object.keys(anonymous).length > 0) draft.create.Volumes = anonymous;
        },
        readOnly: (value, draft) => {
            draft.create.HostConfig.ReadonlyRootfs = read.flag(value, "readOnly");
        },
        tmpfs: (value, draft) => {
            draft.create.HostConfig.Tmpfs = read.stringMap(value, "tmpfs");
        },
        networkMode: (value, draft) => {
            draft.create.HostConfig.NetworkMode = read.text(value, "networkMode");
        },
        mounts: (value, draft) => {
            draft.create.HostConfig.Mounts = read.list(value, "mounts").map((item, i) => {
                const path = `mounts[${i}]`;
                const entry = read.fields(item, path, ["type", "source", "target", "readOnly"]);
                const type = read.text(entry.type, `${path}.type`);
                if (type !== "bind" && type !== "volume" && type !== "tmpfs") read.fail(`${path}.type`, '"bind", "volume" or "tmpfs"', type);
                return {
                    Type: type,
                    Source: entry.source === undefined ? "" : read.text(entry.source, `${path}.source`),
                    Target: read.text(entry.target, `${path}.target`),
                    ReadOnly: entry.readOnly === undefined ? false : read.flag(entry.readOnly, `${path}.readOnly`),
                };
            });
        },
        uploads: (value, draft) => {
            draft.uploads = read.list(value, "uploads").map((item, i) => upload(read, item, `uploads[${i}]`));
        },
        ports: (value, draft) => {
            const exposed: Record<string, Record<string, never>> = {};
            const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
            read.list(value, "ports").forEach((item, i) => {
                const path = `ports[${i}]`;
                const entry = read.fields(item, path, ["internal", "external", "ip", "protocol"]);
                const key = `${read.integer(entry.internal, `${path}.internal`)}/${entry.protocol === undefined ? "tcp" : read.text(entry.protocol, `${path}.protocol`)}`;
                exposed[key] = {};
                (bindings[key] ??= []).push({
                    // The provider's defaults: all addresses, and a port Docker picks.
                    HostIp: entry.ip === undefined ? "0.0.0.0" : read.text(entry.ip, `${path}.ip`),
                    HostPort: entry.external === undefined ? "" : String(read.integer(entry.external, `${path}.external`)),
                });
            });
            draft.create.ExposedPorts = exposed;
            draft.create.HostConfig.PortBindings = bindings;
        },
        memory: (value, draft) => {
            draft.create.HostConfig.Memory = read.integer(value, "memory") * MIB;
        },
        memorySwap: (value, draft) => {
            const swap = read.integer(value, "memorySwap");
            // -1 (unlimited) and 0 go to Docker as they are; only a positive value is in MB.
            draft.create.HostConfig.MemorySwap = swap > 0 ? swap * MIB : swap;
        },
        cpus: (value, draft) => {
            draft.create.HostConfig.NanoCpus = Number(parseCpus(read.text(value, "cpus")));
        },
        cpuShares: (value, draft) => {
            draft.create.HostConfig.CpuShares = read.integer(value, "cpuShares");
        },
        cgroupParent: (value, draft) => {
            draft.create.HostConfig.CgroupParent = read.text(value, "cgroupParent");
        },
        healthcheck: (value, draft) => {
            const entry = read.fields(value, "healthcheck", ["tests", "interval", "timeout", "startPeriod", "retries"]);
            const duration = (field: string) => {
                const text = read.text(entry[field], `healthcheck.${field}`);
                try {
                    return Number(parseGoDuration(text));
                } catch (error) {
                    return read.fail(`healthcheck.${field}`, `a Go duration (${(error as Error).message})`, text);
                }
            };
            // An unset duration or retry count is 0 on the wire: Docker's default.
            draft.create.Healthcheck = {
                Test: read.texts(entry.tests, "healthcheck.tests"),
                Interval: entry.interval === undefined ? 0 : duration("interval"),
                Timeout: entry.timeout === undefined ? 0 : duration("timeout"),
                StartPeriod: entry.startPeriod === undefined ? 0 : duration("startPeriod"),
                Retries: entry.retries === undefined ? 0 : read.integer(entry.retries, "healthcheck.retries"),
            };
        },
        restart: (value, draft) => {
            draft.create.HostConfig.RestartPolicy = { Name: read.text(value, "restart"), MaximumRetryCount: 0 };
        },
        start: (value, draft) => {
            draft.lifecycle.start = read.flag(value, "start");
        },
        mustRun: (value, draft) => {
            draft.lifecycle.mustRun = read.flag(value, "mustRun");
        },
        wait: (value, draft) => {
            draft.wait = read.flag(value, "wait");
        },
        waitTimeout: (value, draft) => {
            draft.waitTimeoutSeconds = read.integer(value, "waitTimeout");
        },
        stopTimeout: (value, draft) => {
            draft.create.StopTimeout = read.integer(value, "stopTimeout");
        },
        destroyGraceSeconds: (value, draft) => {
            draft.lifecycle.destroyGraceSeconds = read.integer(value, "destroyGraceSeconds");
        },
        attach: (value, draft) => {
            draft.lifecycle.attach = read.flag(value, "attach");
        },
        logs: (value, draft) => {
            draft.lifecycle.logs = read.flag(value, "logs");
        },
        securityOpts: (value, draft) => {
            draft.create.HostConfig.SecurityOpt = read.texts(value, "securityOpts");
        },
        capabilities: (value, draft) => {
            const entry = read.fields(value, "capabilities", ["adds", "drops"]);
            draft.create.HostConfig.CapAdd = entry.adds === undefined ? [] : read.texts(entry.adds, "capabilities.adds");
            draft.create.HostConfig.CapDrop = entry.drops === undefined ? [] : read.texts(entry.drops, "capabilities.drops");
        },
        logDriver: (value, draft) => {
            draft.create.HostConfig.LogConfig = { Type: read.text(value, "logDriver"), Config: draft.create.HostConfig.LogConfig?.Config ?? {} };
        },
        logOpts: (value, draft) => {
            draft.create.HostConfig.LogConfig = { Type: draft.create.HostConfig.LogConfig?.Type ?? "", Config: read.stringMap(value, "logOpts") };
        },
        labels: (value, draft) => {
            draft.create.Labels = read.labels(value, "labels");
        },
    };
}

function upload(read: InputReader, item: unknown, path: string): Upload {
    const entry = read.fields(item, path, ["file", "content", "contentBase64", "executable", "permissions", "owner", "group"]);
    const sources = [entry.content, entry.contentBase64].filter((source) => source !== undefined && source !== "");
    if (sources.length !== 1) read.fail(path, "exactly one of content and contentBase64", entry);
    const content =
        entry.content !== undefined && entry.content !== ""
            ? Buffer.from(read.text(entry.content, `${path}.content`), "utf8")
            : Buffer.from(read.text(entry.contentBase64, `${path}.contentBase64`), "base64");
    let mode = entry.executable !== undefined && read.flag(entry.executable, `${path}.executable`) ? 0o744 : 0o644;
    if (entry.permissions !== undefined) {
        const permissions = read.text(entry.permissions, `${path}.permissions`);
        if (!/^0?[0-7]{3}$/.test(permissions)) read.fail(`${path}.permissions`, 'an octal mode such as "0755"', permissions);
        mode = parseInt(permissions, 8);
    }
    // The provider resolves a name on the machine that runs Pulumi; the program declares numeric ids only.
    const id = (value: unknown, field: string) => {
        if (value === undefined) return 0;
        const text = read.text(value, `${path}.${field}`);
        if (!/^\d+$/.test(text)) read.fail(`${path}.${field}`, "a numeric id", text);
        return Number(text);
    };
    return { path: read.text(entry.file, `${path}.file`), content, mode, uid: id(entry.owner, "owner"), gid: id(entry.group, "group") };
}

/**
 * The container as the provider would create it. `imageReference` is the image the declared image
 * id stands for (see {@link imageOf}).
 */
export function translateContainer(registration: Registration, imageReference: string): ContainerPlan {
    requireType(registration, TYPES.container);
    const read = new InputReader(`container ${registration.name}`);
    const draft: Draft = {
        name: registration.name,
        // The provider sets these explicitly on every create (its schema defaults).
        create: {
            Tty: false,
            OpenStdin: false,
            HostConfig: { Privileged: false, PublishAllPorts: false, AutoRemove: false, ReadonlyRootfs: false, Init: false },
        },
        connect: [],
        uploads: [],
        // The provider's defaults: started, must keep running, no wait, killed on delete, not attached.
        lifecycle: { start: true, mustRun: true, waitTimeoutMs: undefined, destroyGraceSeconds: 0, attach: false, logs: false },
        wait: false,
        waitTimeoutSeconds: DEFAULT_WAIT_TIMEOUT_SECONDS,
    };
    applyInputs(`container ${registration.name}`, registration.inputs, containerHandlers(read, imageReference), draft);
    if (draft.create.Image === undefined) throw new Error(`container ${registration.name} declares no image`);
    const { name, create, connect, uploads, lifecycle } = draft;
    return { name, create, connect, uploads, lifecycle: { ...lifecycle, waitTimeoutMs: draft.wait ? draft.waitTimeoutSeconds * 1000 : undefined } };
}

/** The network as the provider would create it. */
export function translateNetwork(registration: Registration): NetworkPlan {
    requireType(registration, TYPES.network);
    const read = new InputReader(`network ${registration.name}`);
    // The provider's defaults for what the program leaves unset.
    const plan: NetworkPlan = { Name: registration.name, CheckDuplicate: true, Driver: "bridge", Internal: false, Labels: {} };
    applyInputs(`network ${registration.name}`, registration.inputs, {
        name: (value, target: NetworkPlan) => (target.Name = read.text(value, "name")),
        internal: (value, target: NetworkPlan) => (target.Internal = read.flag(value, "internal")),
        options: (value, target: NetworkPlan) => (target.Options = read.stringMap(value, "options")),
        labels: (value, target: NetworkPlan) => (target.Labels = read.labels(value, "labels")),
    }, plan);
    return plan;
}

/** The volume as the provider would create it. */
export function translateVolume(registration: Registration): VolumePlan {
    requireType(registration, TYPES.volume);
    const read = new InputReader(`volume ${registration.name}`);
    const plan: VolumePlan = { Name: registration.name, Labels: {} };
    applyInputs(`volume ${registration.name}`, registration.inputs, {
        name: (value, target: VolumePlan) => (target.Name = read.text(value, "name")),
        labels: (value, target: VolumePlan) => (target.Labels = read.labels(value, "labels")),
    }, plan);
    return plan;
}

/**
 * The image reference a RemoteImage registration pulls. `keepLocally` only matters on delete;
 * any other input is unknown.
 */
export function translateRemoteImage(registration: Registration): string {
    requireType(registration, TYPES.image);
    const read = new InputReader(`image ${registration.name}`);
    let reference = "";
    applyInputs(`image ${registration.name}`, registration.inputs, {
        name: (value) => (reference = read.text(value, "name")),
        keepLocally: (value) => read.flag(value, "keepLocally"),
    }, undefined);
    if (reference === "") throw new Error(`image ${registration.name} declares no name`);
    return reference;
}

/**
 * The image reference behind a container's declared image: the container declares the mocked id
 * of a RemoteImage it depends on, and the provider would run the image that RemoteImage pulled.
 * This resolves through the declared dependency, so it never guesses from the id.
 */
export function imageOf(container: Registration, registrations: readonly Registration[]): string {
    const images = registrations.filter((r) => r.type === TYPES.image && container.dependencies.includes(r.urn));
    if (images.length !== 1) {
        throw new Error(`container ${container.name} must depend on exactly one RemoteImage for its image ${JSON.stringify(container.inputs.image)}; it depends on ${images.length}`);
    }
    return translateRemoteImage(images[0]);
}
