/**
 * The n8n environment of a tenant, built once and shared by the main and every worker, and the
 * commands and health checks of those processes.
 */
import type { TenantPlan } from "../tenants/plan";
import { ContainerSpec, Healthcheck, PORTS, TenantRuntime, Tmpfs, httpHealthcheck, secretFile } from "./containerSpec";
import { diskBounds } from "../tenants/sizing";
import { rdsCaBundle } from "../tenants/database";
import { SERVICE_HOSTS } from "../tenants/names";
import { OWNER_PASSWORD_HASH_FILE, ownerEnvironment, urlEnvironment } from "./n8nUrls";

/**
 * How long n8n waits, on SIGTERM, for running executions to finish before it exits
 * (N8N_GRACEFUL_SHUTDOWN_TIMEOUT). Docker gets a margin on top before it kills.
 */
export const N8N_GRACEFUL_SHUTDOWN_SECONDS = 30;
export const N8N_STOP_GRACE_SECONDS = N8N_GRACEFUL_SHUTDOWN_SECONDS + 15;

/** n8n's data folder in the image (user `node`, uid 1000): config file, logs, nodes. */
export const N8N_USER_FOLDER = "/home/node/.n8n";
export const N8N_UID = "1000:1000";

/**
 * Every secret n8n needs, as files owned by its user: n8n reads any setting from `<NAME>_FILE`
 * (@n8n/config), so none is in the environment. n8n itself still writes the key into the `config`
 * file of its data folder (on the tenant's volume), as it does whatever the source of the key.
 */
export const N8N_SECRET_FILES = {
    databasePassword: secretFile("n8n-database-password", "1000", (runtime) => runtime.databasePassword),
    redisPassword: secretFile("redis-password", "1000", (runtime) => runtime.redisPassword),
    encryptionKey: secretFile("encryption-key", "1000", (runtime) => runtime.encryptionKey),
    runnerToken: secretFile("runner-token", "1000", (runtime) => runtime.runnerToken),
};

/**
 * n8n's own blocked ranges (2.41.1's `default`: private, loopback, link-local, documentation), plus
 * what n8n 3 adds to them: the carrier-grade NAT range, where cloud providers put internal
 * services, and IPv6 transition ranges (NAT64, 6to4, Teredo) and IPv4-mapped addresses, through
 * which an IPv6 address can lead to an IPv4 one the default would block.
 */
export const SSRF_BLOCKED_IP_RANGES = ["default", "100.64.0.0/10", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32", "::ffff:0:0/96"].join(",");

/** Nodes n8n 2.41.1 leaves out by default (`@n8n/config` NodesConfig), named here so that no default can bring them back. */
export const EXCLUDED_NODES = ["n8n-nodes-base.executeCommand", "n8n-nodes-base.localFileTrigger"];

/**
 * Where the tenant's workflows may read and write files (Read/Write Files from Disk, ...): n8n 2.x's
 * own default folder, on the tenant's `files` volume rather than in the container's file system.
 */
export const N8N_FILES_FOLDER = "/home/node/.n8n-files";

/**
 * Where n8n writes outside its volumes, each capped and memory-backed: temporary files (multipart
 * uploads go there first, up to N8N_FORMDATA_FILE_SIZE_MAX each), and the cache folder the main
 * writes the editor's static files into at start (`~/.cache/n8n/public`) and npm uses while it
 * installs a community package.
 */
export function n8nTmpfs(plan: TenantPlan): Tmpfs[] {
    return [
        { path: "/tmp", sizeMb: diskBounds(plan.budget.diskGb).formDataFileMaxMb + 64 },
        // Not in the image: owned by n8n's user, or a restarted main could not write it (Tmpfs.owner).
        { path: "/home/node/.cache", sizeMb: plan.communityPackages === "off" ? 64 : 256, mode: "0700", owner: N8N_UID.split(":")[0] },
    ];
}

/**
 * n8n's own bounds on what normal use leaves on disk, from the tenant's disk budget: executions
 * pruned by age and count, and the size of what one request brings in.
 */
function diskUse(plan: TenantPlan): Record<string, string> {
    const bounds = diskBounds(plan.budget.diskGb);
    return {
        EXECUTIONS_DATA_PRUNE: "true",
        EXECUTIONS_DATA_MAX_AGE: String(bounds.executionsMaxAgeHours),
        EXECUTIONS_DATA_PRUNE_MAX_COUNT: String(bounds.executionsMaxCount),
        N8N_PAYLOAD_SIZE_MAX: String(bounds.payloadMaxMb),
        N8N_FORMDATA_FILE_SIZE_MAX: String(bounds.formDataFileMaxMb),
    };
}

/**
 * What a tenant's workflow code may do inside n8n, decided here rather than by n8n's defaults,
 * which change between versions (read from `@n8n/config` 2.41.1: SecurityConfig, NodesConfig, and
 * the community-packages module's config). A tenant changes one only through a named field of
 * tenants.json (`communityPackages`), never through `env` (fleet/tenants/reservedEnv.ts).
 */
function hardening(plan: TenantPlan): Record<string, string> {
    return {
        // Community packages run unsandboxed in main and workers: off unless the tenant buys them.
        N8N_COMMUNITY_PACKAGES_ENABLED: String(plan.communityPackages !== "off"),
        N8N_VERIFIED_PACKAGES_ENABLED: String(plan.communityPackages !== "off"),
        N8N_UNVERIFIED_PACKAGES_ENABLED: String(plan.communityPackages === "any"),
        NODES_EXCLUDE: JSON.stringify(EXCLUDED_NODES),
        // Expressions and Code nodes see no environment variable (the container's settings).
        N8N_BLOCK_ENV_ACCESS_IN_NODE: "true",
        N8N_RESTRICT_FILE_ACCESS_TO: N8N_FILES_FOLDER,
        N8N_BLOCK_FILE_ACCESS_TO_N8N_FILES: "true",
        // The git node: no bare repositories, no hooks, no config keys that run commands.
        N8N_GIT_NODE_DISABLE_BARE_REPOS: "true",
        N8N_GIT_NODE_ENABLE_HOOKS: "false",
        N8N_GIT_NODE_ENABLE_ALL_CONFIG_KEYS: "false",
        // Only the JavaScript runner runs beside each worker.
        N8N_PYTHON_ENABLED: "false",
        // Never the host's own cloud credentials (an instance role), never HTML served unsandboxed.
        N8N_AWS_SYSTEM_CREDENTIALS_ACCESS_ENABLED: "false",
        N8N_INSECURE_DISABLE_WEBHOOK_IFRAME_SANDBOX: "false",
        N8N_INSECURE_DISABLE_FORM_HTML_SANDBOX: "false",
    };
}

export function n8nEnvironment(
    plan: TenantPlan,
    runtime: Pick<TenantRuntime, "databaseHost">,
): Record<string, string> {
    return {
        ...plan.env,

        // Its own PostgreSQL, with the least-privilege role.
        DB_TYPE: "postgresdb",
        DB_POSTGRESDB_HOST: runtime.databaseHost,
        DB_POSTGRESDB_PORT: String(PORTS.postgres),
        DB_POSTGRESDB_DATABASE: plan.names.database,
        DB_POSTGRESDB_USER: plan.names.databaseUser,
        DB_POSTGRESDB_PASSWORD_FILE: N8N_SECRET_FILES.databasePassword.path,
        // RDS forces TLS; its certificate authority is not in Node's store, so verify against the bundle n8n-fleet ships.
        ...(plan.database.kind === "rds"
            ? { DB_POSTGRESDB_SSL_ENABLED: "true", DB_POSTGRESDB_SSL_CA_FILE: rdsCaBundle().path, DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED: "true" }
            : {}),

        // Queue mode on its own Redis; manual runs go to workers too, so the main needs no runner.
        EXECUTIONS_MODE: "queue",
        QUEUE_BULL_REDIS_HOST: SERVICE_HOSTS.redis,
        QUEUE_BULL_REDIS_PORT: String(PORTS.redis),
        QUEUE_BULL_REDIS_PASSWORD_FILE: N8N_SECRET_FILES.redisPassword.path,
        OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: "true",
        QUEUE_HEALTH_CHECK_ACTIVE: "true",
        QUEUE_HEALTH_CHECK_PORT: String(PORTS.n8n),

        // One key for every process of the tenant; a worker with another key cannot read credentials.
        N8N_ENCRYPTION_KEY_FILE: N8N_SECRET_FILES.encryptionKey.path,

        // External task runners: one sidecar per worker, reachable on the internal network only.
        N8N_RUNNERS_MODE: "external",
        N8N_RUNNERS_AUTH_TOKEN_FILE: N8N_SECRET_FILES.runnerToken.path,
        N8N_RUNNERS_BROKER_LISTEN_ADDRESS: "0.0.0.0",
        N8N_RUNNERS_BROKER_PORT: String(PORTS.broker),

        N8N_PORT: String(PORTS.n8n),
        ...urlEnvironment(plan),
        ...ownerEnvironment(plan),

        // Workflows may not call private, loopback, link-local (the cloud metadata service) or
        // documentation addresses: n8n's own protection, checked on every redirect and at connect time.
        N8N_SSRF_PROTECTION_ENABLED: "true",
        N8N_SSRF_BLOCKED_IP_RANGES: SSRF_BLOCKED_IP_RANGES,
        ...(plan.outbound.allowHostnames.length > 0 ? { N8N_SSRF_ALLOWED_HOSTNAMES: plan.outbound.allowHostnames.join(",") } : {}),
        ...(plan.outbound.allowIpRanges.length > 0 ? { N8N_SSRF_ALLOWED_IP_RANGES: plan.outbound.allowIpRanges.join(",") } : {}),

        ...hardening(plan),
        ...diskUse(plan),

        GENERIC_TIMEZONE: plan.timezone,
        TZ: plan.timezone,

        N8N_GRACEFUL_SHUTDOWN_TIMEOUT: String(N8N_GRACEFUL_SHUTDOWN_SECONDS),

        N8N_DIAGNOSTICS_ENABLED: "false",
        N8N_VERSION_NOTIFICATIONS_ENABLED: "false",
        N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: "true",
        N8N_USER_FOLDER: "/home/node",
        // npm's cache (community packages) in the capped cache folder: the root file system is read-only.
        npm_config_cache: "/home/node/.cache/npm",
        NODE_OPTIONS: `--max-old-space-size=${plan.sizing.n8nHeapMb}`,
    };
}

/** What main and workers share: one image, one environment, one data volume, one user. */
function n8nProcess(plan: TenantPlan): Pick<ContainerSpec, "image" | "environment" | "user" | "volumes" | "tmpfs" | "files" | "secretFiles" | "healthcheck" | "dropCapabilities" | "stopGraceSeconds" | "waitForHealthy"> {
    return {
        image: plan.images.n8n,
        // Built once: main and workers must agree on database, queue, key and URLs.
        environment: (secrets) => n8nEnvironment(plan, secrets),
        user: N8N_UID,
        volumes: [
            { volume: "n8n", containerPath: N8N_USER_FOLDER },
            { volume: "files", containerPath: N8N_FILES_FOLDER },
        ],
        tmpfs: n8nTmpfs(plan),
        files: plan.database.kind === "rds" ? [rdsCaBundle()] : [],
        secretFiles: [...Object.values(N8N_SECRET_FILES), ...(plan.owner !== undefined ? [OWNER_PASSWORD_HASH_FILE] : [])],
        healthcheck: n8nHealthcheck(),
        dropCapabilities: true,
        stopGraceSeconds: N8N_STOP_GRACE_SECONDS,
        waitForHealthy: true,
    };
}

/** The main: editor, REST API and webhooks on the tenant's host port; it runs the migrations. */
export function mainContainer(plan: TenantPlan): ContainerSpec {
    return {
        ...n8nProcess(plan),
        name: plan.names.containers.main,
        role: "main",
        limits: plan.sizing.main,
        command: ["start"],
        networks: [
            { network: "backend", aliases: [SERVICE_HOSTS.main] },
            { network: "egress", aliases: [] },
            // Behind an edge: a network of its own with the edge, and no host port at all.
            ...(plan.domain !== undefined ? [{ network: "edge" as const, aliases: [] }] : []),
        ],
        ports: plan.domain !== undefined ? [] : [{ internal: PORTS.n8n, external: plan.port, ip: plan.target.publishAddress }],
        after: [...databaseContainers(plan), plan.names.containers.redis],
    };
}

/**
 * What must be done before n8n starts: for an RDS tenant, the one-shot that prepares its database;
 * otherwise its PostgreSQL and the backup taken before this n8n version first touches the data.
 */
function databaseContainers(plan: TenantPlan): string[] {
    // The volume owners first: the workflows' files volume is n8n's once they ran.
    return [plan.names.volumeOwners, ...(plan.database.kind === "rds" ? [plan.names.databaseInit] : [plan.names.containers.postgres, plan.names.backupBefore(plan.n8nVersion)])];
}

/** Queue worker `index` (1-based). Created once the main is healthy, as n8n-hosting's compose file does: the main has migrated the database by then. */
export function workerContainer(plan: TenantPlan, index: number): ContainerSpec {
    return {
        ...n8nProcess(plan),
        name: plan.names.worker(index),
        role: "worker",
        limits: plan.sizing.worker,
        command: ["worker", `--concurrency=${plan.concurrency}`],
        networks: [
            { network: "backend", aliases: [plan.names.workerHost(index)] },
            { network: "egress", aliases: [] },
        ],
        ports: [],
        after: [...databaseContainers(plan), plan.names.containers.redis, plan.names.containers.main],
    };
}

/**
 * Main and workers answer the same readiness endpoint on the same port (the worker through its
 * health server, QUEUE_HEALTH_CHECK_ACTIVE): ready once the database is connected and migrated,
 * and for a worker, once Redis answers too.
 */
export function n8nHealthcheck(): Healthcheck {
    // At its CPU floor a main needs about 80 s to migrate and serve; 3 minutes leave slower hosts room.
    return httpHealthcheck(`http://127.0.0.1:${PORTS.n8n}/healthz/readiness`, 180);
}
