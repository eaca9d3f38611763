/**
 * The tenant's PostgreSQL container: superuser for the image's init, a least-privilege role for n8n.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TenantPlan } from "./plan";
import { Healthcheck, TenantSecrets, shellHealthcheck } from "./containerSpec";

export const POSTGRES_SUPERUSER = "postgres";
export const POSTGRES_DATA_DIR = "/var/lib/postgresql/data";
export const POSTGRES_INIT_DIR = "/docker-entrypoint-initdb.d";

/** The script the image runs on first start; env names match {@link postgresEnvironment}. */
export const POSTGRES_INIT_SCRIPT = {
    path: `${POSTGRES_INIT_DIR}/10-n8n-role.sh`,
    content: readFileSync(join(__dirname, "postgres-init.sh"), "utf8"),
};

export function postgresEnvironment(plan: TenantPlan, secrets: Pick<TenantSecrets, "postgresPassword" | "databasePassword">): Record<string, string> {
    return {
        POSTGRES_USER: POSTGRES_SUPERUSER,
        POSTGRES_PASSWORD: secrets.postgresPassword,
        POSTGRES_DB: plan.names.database,
        N8N_DB_USER: plan.names.databaseUser,
        N8N_DB_PASSWORD: secrets.databasePassword,
        PGDATA: POSTGRES_DATA_DIR,
    };
}

/** Server settings sized to the container's memory limit. */
export function postgresCommand(plan: TenantPlan): string[] {
    return ["postgres", "-c", `shared_buffers=${plan.sizing.postgres.sharedBuffersMb}MB`, "-c", "max_connections=100"];
}

export function postgresHealthcheck(): Healthcheck {
    return shellHealthcheck('pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"', "30s");
}
