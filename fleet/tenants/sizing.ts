/**
 * The one sizing function: the tenant's envelope (the cgroup all its containers share: CPU,
 * memory, PIDs, block-I/O weight; fleet/containers/envelopes.ts) and, inside it, each container's
 * CPU weight and memory limit. CPU is shared by weight only, so an idle sidecar's share is the
 * worker's; memory keeps a limit per container, which protects the tenant from itself: a worker's
 * runaway allocation is stopped in the worker, instead of the envelope's OOM killer choosing
 * among all the tenant's processes, PostgreSQL included. The memory limits never add up to more
 * than the budget.
 */

export interface Budget {
    cpus: number;
    memoryMb: number;
}

export interface Limits {
    /** Hard memory limit in MiB (Docker's `memory`, swap included). */
    memoryMb: number;
    /**
     * CPU weight among the tenant's containers (Docker's `cpuShares`, 1024 being Docker's default):
     * what a container gets when its siblings want CPU too. No quota of its own: the envelope's is the limit.
     */
    cpuShares: number;
}

/** What all of a tenant's containers share: its cgroup parent's limits. */
export interface Envelope {
    /** CPU quota of the whole tenant, in cores: its budget. */
    cpus: number;
    /** Memory of the whole tenant, in MiB: its budget (the containers' limits add up to no more). */
    memoryMb: number;
    /** Processes and threads of the whole tenant: a fork loop stops here (EAGAIN), not at the host's limit. */
    pidsMax: number;
    /** Block-I/O weight (1 to 1000; 100 per CPU of the budget), where the host's I/O scheduler shares by weight. */
    ioWeight: number;
}

/** Where a tenant's PostgreSQL runs: decides what the sizing gives the database side. */
export type DatabaseKind = "container" | "rds";

export interface TenantSizing {
    envelope: Envelope;
    /**
     * The PostgreSQL container; for an RDS tenant, the one-shot container that prepares its
     * database (PostgreSQL itself runs outside the host's budget).
     */
    postgres: Limits & {
        /** `shared_buffers`: a quarter of PostgreSQL's memory, the usual starting point. */
        sharedBuffersMb: number;
    };
    redis: Limits & {
        /** `maxmemory`: leaves room under the container limit for Redis's own overhead and rewrite forks. */
        maxMemoryMb: number;
    };
    /** The n8n main process. */
    main: Limits;
    /** Each queue worker (main and workers get the same size, so they share one environment). */
    worker: Limits;
    /** Each task-runner sidecar. */
    runner: Limits;
    /** Each backup container of a container tenant: the sidecar, and the one that takes the set before an upgrade. */
    backup: Limits;
    /** V8 old-space limit of every n8n process: under the container limit, so Node collects before the kernel kills. */
    n8nHeapMb: number;
}

/**
 * Smallest memory each process starts and idles in, in MiB, with headroom over the resident sizes
 * the end-to-end test measured (README, "Capacity"). A budget below their sum is rejected.
 */
export const MEMORY_FLOOR_MB = {
    postgres: 256,
    /** psql, once, for an RDS tenant. */
    databaseInit: 64,
    /** pg_dump and gzip: the sidecar on the tenant's schedule, and the set before an upgrade (container tenants; RDS keeps its own backups). */
    backup: 128,
    redis: 64,
    n8n: 640,
    runner: 192,
} as const;

/** Relative CPU weights (x 256 = Docker CPU shares): n8n processes do the work, PostgreSQL serves them, Redis only queues. */
const CPU_WEIGHT = {
    postgres: 2,
    databaseInit: 0,
    backup: 1,
    redis: 1,
    n8n: 4,
    runner: 2,
} as const;

/** What an idle process of the tenant needs of the envelope's CPU; the smallest envelope covers every floor. */
export const MIN_CPUS_PER_CONTAINER = 0.1;

/**
 * CPU each process needs when all want it at once, summed into the smallest budget a tenant may
 * have. n8n's start is CPU-bound: on a real Docker daemon a main limited to 0.1 CPU took 185 to
 * 206 s to become ready (its migrations included), past what its health check allows, and a
 * worker at 0.1 CPU ran about one Code-node execution a second (tests/docker/figures.test.ts).
 * Every other process idles at 0.1.
 */
export const CPU_FLOOR = {
    postgres: MIN_CPUS_PER_CONTAINER,
    databaseInit: MIN_CPUS_PER_CONTAINER,
    backup: MIN_CPUS_PER_CONTAINER,
    redis: MIN_CPUS_PER_CONTAINER,
    n8n: 0.25,
    runner: MIN_CPUS_PER_CONTAINER,
} as const;

/**
 * Processes and threads per container of the tenant, summed into its envelope's cap: n8n runs
 * about a dozen threads, PostgreSQL a process per connection (n8n's pools hold a few) and per
 * background worker, a runner a handful; several times what they use, and far below a host's
 * limit (the kernel's default pid_max is 32,768 on small hosts). A fork loop must meet this cap
 * before its processes' memory meets its container's limit: 896 processes of a shell take about
 * 170 MiB, under any n8n container's limit.
 */
export const PIDS_PER_CONTAINER = 128;

/** Docker's smallest CPU weight. */
const MIN_CPU_SHARES = 2;

/** Below this a tenant's n8n answers too slowly to be usable; more a sanity bound than a measurement. */
export const MIN_TENANT_CPUS = 0.5;

type Process = keyof typeof MEMORY_FLOOR_MB;

function containerCounts(workers: number, database: DatabaseKind): Record<Process, number> {
    const container = database === "container" ? 1 : 0;
    // Backups: the sidecar and the gate before an upgrade; an RDS tenant's sidecar only (its files).
    return { postgres: container, databaseInit: 1 - container, backup: 1 + container, redis: 1, n8n: 1 + workers, runner: workers };
}

/** Containers of a tenant with this many workers: the database side, Redis, main, and a worker and a runner per worker. */
export function containerCount(workers: number, database: DatabaseKind = "container"): number {
    return Object.values(containerCounts(workers, database)).reduce((sum, n) => sum + n, 0);
}

/** CPU below which a tenant with this many workers is refused: every process's floor. */
export function minimumCpus(workers: number, database: DatabaseKind = "container"): number {
    const counts = containerCounts(workers, database);
    const floors = (Object.keys(CPU_FLOOR) as Process[]).reduce((sum, kind) => sum + CPU_FLOOR[kind] * counts[kind], 0);
    return Math.max(MIN_TENANT_CPUS, Math.round(floors * 100) / 100);
}

/** Memory, in MiB, below which a tenant with this many workers cannot start. */
export function minimumMemoryMb(workers: number, database: DatabaseKind = "container"): number {
    const counts = containerCounts(workers, database);
    return (Object.keys(MEMORY_FLOOR_MB) as Process[]).reduce((sum, kind) => sum + MEMORY_FLOOR_MB[kind] * counts[kind], 0);
}

/**
 * The envelope is the budget; memory is split in proportion to each process's floor, rounding
 * down, so the sum stays within the budget; CPU is weighted, never split. Callers validate first:
 * the budget must cover the floors.
 */
export function sizeTenant(budget: Budget, workers: number, database: DatabaseKind = "container"): TenantSizing {
    const memoryScale = budget.memoryMb / minimumMemoryMb(workers, database);
    const memory = (kind: Process) => Math.floor(MEMORY_FLOOR_MB[kind] * memoryScale);

    const cpuShares = (kind: Process) => Math.max(MIN_CPU_SHARES, CPU_WEIGHT[kind] * 256);

    const n8n: Limits = { memoryMb: memory("n8n"), cpuShares: cpuShares("n8n") };
    const databaseSide: Process = database === "container" ? "postgres" : "databaseInit";
    const postgresMemory = memory(databaseSide);
    const redisMemory = memory("redis");
    return {
        envelope: {
            cpus: budget.cpus,
            memoryMb: budget.memoryMb,
            pidsMax: PIDS_PER_CONTAINER * containerCount(workers, database),
            ioWeight: Math.min(1000, Math.max(10, Math.round(100 * budget.cpus))),
        },
        postgres: { memoryMb: postgresMemory, cpuShares: cpuShares(databaseSide), sharedBuffersMb: Math.floor(postgresMemory / 4) },
        redis: { memoryMb: redisMemory, cpuShares: cpuShares("redis"), maxMemoryMb: Math.floor(redisMemory * 0.75) },
        main: n8n,
        worker: n8n,
        runner: { memoryMb: memory("runner"), cpuShares: cpuShares("runner") },
        backup: { memoryMb: memory("backup"), cpuShares: cpuShares("backup") },
        n8nHeapMb: Math.floor(n8n.memoryMb * 0.75),
    };
}

/**
 * What keeps a tenant's n8n within its disk budget by normal use, where the host cannot enforce a
 * hard quota (README, "Isolation"): executions pruned by age and count, and caps on what one
 * request may bring in.
 */
export interface DiskBounds {
    /** EXECUTIONS_DATA_MAX_AGE: executions older than this are pruned (hours). */
    executionsMaxAgeHours: number;
    /** EXECUTIONS_DATA_PRUNE_MAX_COUNT: at most this many executions are kept. */
    executionsMaxCount: number;
    /** N8N_PAYLOAD_SIZE_MAX: the largest request body (MiB). */
    payloadMaxMb: number;
    /** N8N_FORMDATA_FILE_SIZE_MAX: the largest file of a multipart upload (MiB). */
    formDataFileMaxMb: number;
}

/** Executions kept per GiB of the disk budget: n8n's default of 10,000 at 10 GiB. */
export const EXECUTIONS_PER_DISK_GB = 1_000;

export function diskBounds(diskGb: number): DiskBounds {
    return {
        executionsMaxAgeHours: 14 * 24,
        executionsMaxCount: Math.min(100_000, Math.max(1_000, Math.floor(diskGb * EXECUTIONS_PER_DISK_GB))),
        payloadMaxMb: 16,
        formDataFileMaxMb: 64,
    };
}
