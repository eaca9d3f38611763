/**
 * The n8n environment of a tenant, built once and shared by the main and every worker, and the
 * commands and health checks of those processes.
 */
import type { TenantPlan } from "./plan";
import { Healthcheck, PORTS, TenantSecrets, httpHealthcheck } from "./containerSpec";
import { SERVICE_HOSTS } from "./names";

/** n8n's data folder in the image (user `node`, uid 1000): config file, logs, nodes. */
export const N8N_USER_FOLDER = "/home/node/.n8n";
export const N8N_UID = "1000:1000";

export function n8nEnvironment(
    plan: TenantPlan,
    secrets: Pick<TenantSecrets, "databasePassword" | "redisPassword" | "encryptionKey" | "runnerToken">,
): Record<string, string> {
    const url = new URL(plan.url);
    return {
        ...plan.env,

        // Its own PostgreSQL, with the least-privilege role.
        DB_TYPE: "postgresdb",
        DB_POSTGRESDB_HOST: SERVICE_HOSTS.postgres,
        DB_POSTGRESDB_PORT: String(PORTS.postgres),
        DB_POSTGRESDB_DATABASE: plan.names.database,
        DB_POSTGRESDB_USER: plan.names.databaseUser,
        DB_POSTGRESDB_PASSWORD: secrets.databasePassword,

        // Queue mode on its own Redis; manual runs go to workers too, so the main needs no runner.
        EXECUTIONS_MODE: "queue",
        QUEUE_BULL_REDIS_HOST: SERVICE_HOSTS.redis,
        QUEUE_BULL_REDIS_PORT: String(PORTS.redis),
        QUEUE_BULL_REDIS_PASSWORD: secrets.redisPassword,
        OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: "true",
        QUEUE_HEALTH_CHECK_ACTIVE: "true",
        QUEUE_HEALTH_CHECK_PORT: String(PORTS.n8n),

        // One key for every process of the tenant; a worker with another key cannot read credentials.
        N8N_ENCRYPTION_KEY: secrets.encryptionKey,

        // External task runners: one sidecar per worker, reachable on the internal network only.
        N8N_RUNNERS_MODE: "external",
        N8N_RUNNERS_AUTH_TOKEN: secrets.runnerToken,
        N8N_RUNNERS_BROKER_LISTEN_ADDRESS: "0.0.0.0",
        N8N_RUNNERS_BROKER_PORT: String(PORTS.broker),

        N8N_PORT: String(PORTS.n8n),
        N8N_HOST: url.hostname,
        N8N_PROTOCOL: url.protocol.replace(":", ""),
        N8N_EDITOR_BASE_URL: plan.url,
        N8N_WEBHOOK_URL: plan.url,
        // Secure cookies only work over https; a plain-http editor would refuse every login.
        N8N_SECURE_COOKIE: String(url.protocol === "https:"),

        GENERIC_TIMEZONE: plan.timezone,
        TZ: plan.timezone,

        N8N_DIAGNOSTICS_ENABLED: "false",
        N8N_VERSION_NOTIFICATIONS_ENABLED: "false",
        N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: "true",
        N8N_USER_FOLDER: "/home/node",
        NODE_OPTIONS: `--max-old-space-size=${plan.sizing.n8nHeapMb}`,
    };
}

/** Arguments to the image's `n8n` entrypoint. */
export function mainCommand(): string[] {
    return ["start"];
}

export function workerCommand(plan: TenantPlan): string[] {
    return ["worker", `--concurrency=${plan.concurrency}`];
}

/**
 * Main and workers answer the same readiness endpoint on the same port (the worker through its
 * health server, QUEUE_HEALTH_CHECK_ACTIVE): ready once the database is connected and migrated,
 * and for a worker, once Redis answers too.
 */
export function n8nHealthcheck(): Healthcheck {
    return httpHealthcheck(`http://127.0.0.1:${PORTS.n8n}/healthz/readiness`, "120s");
}
