/**
 * What a container runs, decided in plain TypeScript so that the component only declares it and
 * the end-to-end tests can run the very same command and environment.
 */
import type { Limits } from "../tenants/sizing";
import { goDuration } from "../forms/dockerForms";

/** Ports inside the containers; only the editor is ever published on the host. */
export const PORTS = {
    postgres: 5432,
    redis: 6379,
    n8n: 5678,
    /** n8n's task broker, which each worker's runner sidecar dials. */
    broker: 5679,
    /** Health endpoint of the runner launcher in n8nio/runners. */
    launcherHealth: 5680,
} as const;

/** The generated secrets of one tenant. Never written to tenants.json, logs or plain outputs. */
export interface TenantSecrets {
    /** PostgreSQL superuser: the image's initialisation and an operator's maintenance; never given to n8n. */
    postgresPassword: string;
    /** The least-privilege role n8n logs in with. */
    databasePassword: string;
    redisPassword: string;
    encryptionKey: string;
    runnerToken: string;
    /** bcrypt hash of the owner's generated password (n8n takes the owner from its environment). */
    ownerPasswordHash: string;
}

/** Durations as the Docker provider reads them back: Go duration strings (see {@link goDuration}). */
export interface Healthcheck {
    /** Docker's test: `["CMD", ...]` or `["CMD-SHELL", "..."]`. */
    tests: string[];
    interval: string;
    timeout: string;
    startPeriod: string;
    retries: number;
}

/** How often and how long Docker probes, and how long a container may take to start before failures count. */
export interface ProbeTiming {
    intervalSeconds: number;
    timeoutSeconds: number;
    startPeriodSeconds: number;
    retries: number;
}

function healthcheck(tests: string[], timing: ProbeTiming): Healthcheck {
    return {
        tests,
        interval: goDuration(timing.intervalSeconds),
        timeout: goDuration(timing.timeoutSeconds),
        startPeriod: goDuration(timing.startPeriodSeconds),
        retries: timing.retries,
    };
}

/**
 * A probe run with the image's own Node.js (the n8n and runner images both ship it, not all ship
 * wget): `script` is the body of an async function that throws when the container is not ready.
 */
export function nodeHealthcheck(script: string, startPeriodSeconds: number): Healthcheck {
    const program = `(async () => { ${script} })().then(() => process.exit(0), (e) => { console.error(String(e && e.message || e)); process.exit(1); })`;
    return healthcheck(["CMD", "node", "-e", program], { intervalSeconds: 15, timeoutSeconds: 5, startPeriodSeconds, retries: 5 });
}

/** A probe that passes when `url` answers with a 2xx status. */
export function httpHealthcheck(url: string, startPeriodSeconds: number): Healthcheck {
    return nodeHealthcheck(`const r = await fetch(${JSON.stringify(url)}); if (!r.ok) throw new Error("HTTP " + r.status);`, startPeriodSeconds);
}

export function shellHealthcheck(script: string, startPeriodSeconds: number): Healthcheck {
    return shellHealthcheckWith(script, { intervalSeconds: 10, timeoutSeconds: 5, startPeriodSeconds, retries: 5 });
}

export function shellHealthcheckWith(script: string, timing: ProbeTiming): Healthcheck {
    return healthcheck(["CMD-SHELL", script], timing);
}

/**
 * What a container's environment may need that exists only once resources do: the generated
 * secrets, and where the tenant's PostgreSQL answers (the container's alias, or an RDS endpoint).
 */
export interface TenantRuntime extends TenantSecrets {
    databaseHost: string;
}

/**
 * Where the files n8n-fleet gives a container are, secrets and scripts alike: its own volume
 * (`<container>-run`), mounted read-only. Every root file system is read-only, and Docker writes no
 * upload into one (`container rootfs is marked read-only`, also for the Docker provider's uploads,
 * which it always writes at `/`), so one one-shot per tenant writes every container's files into
 * its volume before the container starts (fleet/containers/filesWriter.ts).
 */
export const RUN_DIR = "/run/n8n-fleet";
/** Secret files, each readable by its process's user only. */
export const SECRETS_DIR = RUN_DIR;
/** Scripts and other files. */
export const FLEET_FILES_DIR = RUN_DIR;

/**
 * The folders where a container may see the files n8n-fleet gives it: its run volume is mounted
 * read-only at each one it uses (PostgreSQL's image runs the scripts of its init folder).
 */
export const FILE_DIRS = [RUN_DIR, "/docker-entrypoint-initdb.d"] as const;

/** The folders of a container where its run volume is mounted, from the paths of its files. */
export function fileDirs(spec: Pick<ContainerSpec, "name" | "files" | "secretFiles">): string[] {
    const dirs = new Set<string>();
    const names = new Set<string>();
    for (const { path } of [...spec.files, ...spec.secretFiles]) {
        const slash = path.lastIndexOf("/");
        const dir = path.slice(0, slash);
        const name = path.slice(slash + 1);
        if (!(FILE_DIRS as readonly string[]).includes(dir)) throw new Error(`internal: ${spec.name} gets ${path}, outside the folders of its run volume (${FILE_DIRS.join(", ")})`);
        // One volume holds them all, by name.
        if (names.has(name)) throw new Error(`internal: ${spec.name} gets two files named ${name}`);
        names.add(name);
        dirs.add(dir);
    }
    return [...dirs].sort();
}

/**
 * A size-capped, memory-backed folder where a process must write outside its volumes (its root
 * file system is read-only). `noexec`: nothing written there runs. Its pages count against the
 * container's memory limit.
 */
export interface Tmpfs {
    path: string;
    sizeMb: number;
    /** Octal; 1777 (anyone, sticky) unless the folder belongs to one user. */
    mode?: string;
    /**
     * Numeric uid (and gid) that owns the folder. Needed for a folder the image does not have:
     * when a container restarts, Docker gives its tmpfs the mode of the folder it mounted onto
     * (755, root's, made at the first start), and only an owner set here survives that.
     */
    owner?: string;
}

/** Docker's tmpfs options, as `HostConfig.Tmpfs` keeps them and the provider reads them back. */
export function tmpfsOptions(tmpfs: Tmpfs): string {
    const owner = tmpfs.owner === undefined ? "" : `,uid=${tmpfs.owner},gid=${tmpfs.owner}`;
    return `rw,noexec,nosuid,nodev,size=${tmpfs.sizeMb}m,mode=${tmpfs.mode ?? "1777"}${owner}`;
}

export interface SecretFile {
    /** Absolute path in the container. */
    path: string;
    /** The file's text, from the tenant's secrets. */
    content(runtime: TenantRuntime): string;
    /** Numeric uid (and gid) of the process that reads it: names would be resolved on the machine running Pulumi. */
    owner: string;
}

/** A secret file under {@link SECRETS_DIR}, readable by `owner` only. */
export function secretFile(name: string, owner: string, content: (runtime: TenantRuntime) => string): SecretFile {
    return { path: `${SECRETS_DIR}/${name}`, content, owner };
}

/**
 * The networks of a tenant: `backend` is internal (no route out), `egress` reaches the internet,
 * `edge` (internal, only on a target with an edge) holds the main and the target's edge.
 */
export type TenantNetwork = "backend" | "egress" | "edge";

/** The tenant's volumes, by what they hold. */
export type TenantVolume = "postgres" | "redis" | "n8n" | "files" | "backups";

/** What each container of a tenant is there for; also its `n8n-fleet.role` label. */
export type ContainerRole = "postgres" | "database-init" | "redis" | "main" | "worker" | "runner" | "backup" | "volume-owners" | "files-writer";

/**
 * One container of a tenant, fully decided: the component turns it into a `docker.Container`
 * without adding any rule of its own.
 */
export interface ContainerSpec {
    /** Docker name, also the Pulumi resource name. */
    name: string;
    role: ContainerRole;
    /** Image reference, pinned by exact tag. */
    image: string;
    limits: Limits;
    /** Arguments to the image's entrypoint. */
    command?: string[];
    /** The environment, given the tenant's generated secrets and its database's address. */
    environment(runtime: TenantRuntime): Record<string, string>;
    /** `uid:gid` or a user name of the image; the image's default user when absent. */
    user?: string;
    networks: { network: TenantNetwork; aliases: string[] }[];
    /** `none` for a container that needs no network at all; absent, it is on `networks` only. */
    networkMode?: "none";
    volumes: { volume: TenantVolume; containerPath: string; readOnly?: boolean }[];
    /**
     * Memory-backed folders where the process must write; everything else outside its volumes is
     * read-only (every container but the files writer runs with a read-only root file system).
     */
    tmpfs: Tmpfs[];
    /**
     * Files the container sees (under {@link FILE_DIRS}), written into its run volume by the tenant's
     * files writer before it starts; `mode` in octal, as the provider takes it.
     */
    files: { path: string; content: string; mode: string }[];
    /**
     * Secrets delivered as files (mode 0400, owned by the numeric `owner` the process runs as) and
     * referenced by `*_FILE` variables or a config file path, so that no secret is in the
     * container's environment or command line, which `docker inspect` shows to anyone with the
     * Docker API.
     */
    secretFiles: SecretFile[];
    /**
     * Only the files writer: it receives every container's files as uploads (its root file system is
     * writable, and it runs no tenant code) and mounts their run volumes at `/out/<container>`.
     */
    writesFilesOf?: string[];
    /** Host ports; only the editor is ever published. */
    ports: { internal: number; external: number; ip: string }[];
    /** Absent for a container that runs once and exits. */
    healthcheck?: Healthcheck;
    /** Runs once to completion before what comes after is created, and never restarts. */
    runsOnce?: boolean;
    /** For a one-shot: what its non-zero exit means, said when `pulumi up` stops on it. */
    failureMeans?: string;
    /** Runs whatever the tenant's status: the gate that holds an archived tenant's final backup. */
    alwaysRuns?: boolean;
    /** Drop every Linux capability; only images whose entrypoint must change users as root keep them. */
    dropCapabilities: boolean;
    /** Capabilities given back after dropping all, in the `CAP_` form Docker reads back. */
    addCapabilities?: string[];
    /**
     * Seconds Docker waits after the stop signal before it kills the process, when the container
     * is stopped, replaced or deleted: longer than the process's own clean shutdown.
     */
    stopGraceSeconds: number;
    /** `pulumi up` waits until the health check passes before it creates what comes after. */
    waitForHealthy: boolean;
    /** How long it waits; 300 s unless a container declares more (a backup before an upgrade). */
    waitTimeoutSeconds?: number;
    /** Containers of the same tenant (by name) that are created, started and healthy first. */
    after: string[];
}

/** `{ A: "1" }` -> `["A=1"]`, the form Docker takes. */
export function envList(env: Readonly<Record<string, string>>): string[] {
    return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}
