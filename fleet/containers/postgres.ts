/**
 * The tenant's PostgreSQL container: superuser for the image's init, a least-privilege role for n8n.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TenantPlan } from "../tenants/plan";
import { SERVICE_HOSTS } from "../tenants/names";
import { ContainerSpec, Healthcheck, SecretFile, secretFile, shellHealthcheck } from "./containerSpec";

export const POSTGRES_SUPERUSER = "postgres";
export const POSTGRES_DATA_DIR = "/var/lib/postgresql/data";
export const POSTGRES_INIT_DIR = "/docker-entrypoint-initdb.d";

/**
 * The script the image runs on first start; env names match {@link postgresEnvironment}. The
 * image's entrypoint runs as `postgres` by then and executes a `*.sh` only when that user may
 * execute it (otherwise it sources it into its own shell): hence 0755 on a root-owned file.
 */
export const POSTGRES_INIT_SCRIPT = {
    path: `${POSTGRES_INIT_DIR}/10-n8n-role.sh`,
    content: readFileSync(join(__dirname, "postgres-init.sh"), "utf8"),
    mode: "0755",
};

/**
 * The image stops PostgreSQL with SIGINT (fast shutdown: clients are disconnected, then a
 * checkpoint is written). The checkpoint grows with shared_buffers; a minute covers it.
 */
export const POSTGRES_STOP_GRACE_SECONDS = 60;

/** The postgres image's `postgres` user: the init script runs as it, and reads the password files. */
export const POSTGRES_UID = "999";

/**
 * The superuser's password (read by the image's entrypoint, POSTGRES_PASSWORD_FILE, or by the
 * RDS init as the master password) and the password of n8n's role (read by the init script).
 */
export const POSTGRES_SECRET_FILES = {
    superuser: secretFile("postgres-password", POSTGRES_UID, (runtime) => runtime.postgresPassword),
    n8nRole: secretFile("n8n-database-password", POSTGRES_UID, (runtime) => runtime.databasePassword),
} satisfies Record<string, SecretFile>;

/** The variables that point the image and the init script at those files. */
export const POSTGRES_SECRET_ENV = {
    POSTGRES_PASSWORD_FILE: POSTGRES_SECRET_FILES.superuser.path,
    N8N_DB_PASSWORD_FILE: POSTGRES_SECRET_FILES.n8nRole.path,
};

export function postgresEnvironment(plan: TenantPlan): Record<string, string> {
    return {
        POSTGRES_USER: POSTGRES_SUPERUSER,
        POSTGRES_DB: plan.names.database,
        N8N_DB_USER: plan.names.databaseUser,
        PGDATA: POSTGRES_DATA_DIR,
        ...POSTGRES_SECRET_ENV,
    };
}

/** Server settings sized to the container's memory limit. */
export function postgresCommand(plan: TenantPlan): string[] {
    return ["postgres", "-c", `shared_buffers=${plan.sizing.postgres.sharedBuffersMb}MB`, "-c", "max_connections=100"];
}

export function postgresContainer(plan: TenantPlan): ContainerSpec {
    return {
        name: plan.names.containers.postgres,
        role: "postgres",
        image: plan.images.postgres,
        limits: plan.sizing.postgres,
        command: postgresCommand(plan),
        environment: () => postgresEnvironment(plan),
        networks: [{ network: "backend", aliases: [SERVICE_HOSTS.postgres] }],
        volumes: [{ volume: "postgres", containerPath: POSTGRES_DATA_DIR }],
        // The server's socket and lock file, and what psql writes while the entrypoint initialises.
        tmpfs: [
            { path: "/var/run/postgresql", sizeMb: 1 },
            { path: "/tmp", sizeMb: 64 },
        ],
        files: [POSTGRES_INIT_SCRIPT],
        secretFiles: Object.values(POSTGRES_SECRET_FILES),
        ports: [],
        healthcheck: postgresHealthcheck(),
        // The entrypoint starts as root to own the data folder, then drops to `postgres` itself
        // (docker-library/postgres docker-entrypoint.sh): `find ... -exec chown` over the data folder
        // (CHOWN, and DAC_OVERRIDE to walk a 0700 folder it does not own), `chmod` of folders postgres
        // owns (FOWNER), and gosu to the postgres user (SETUID, SETGID). Nothing else; PostgreSQL
        // itself then runs with none.
        dropCapabilities: true,
        addCapabilities: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID"],
        stopGraceSeconds: POSTGRES_STOP_GRACE_SECONDS,
        waitForHealthy: true,
        after: [],
    };
}

export function postgresHealthcheck(): Healthcheck {
    return shellHealthcheck('pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"', 30);
}
