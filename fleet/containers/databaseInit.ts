/**
 * The container that creates the n8n database and role on a tenant's RDS instance, and stays up,
 * healthy once they exist.
 */
import type { TenantPlan } from "../tenants/plan";
import { RDS_PORT, RdsPlan, rdsCaBundle } from "../tenants/database";
import { ContainerSpec, FLEET_FILES_DIR, shellHealthcheckWith } from "./containerSpec";
import { POSTGRES_INIT_SCRIPT, POSTGRES_SECRET_ENV, POSTGRES_SECRET_FILES, POSTGRES_STOP_GRACE_SECONDS } from "./postgres";

/** The script the postgres image runs on first start, run here by hand on RDS. */
const INIT_SCRIPT_PATH = `${FLEET_FILES_DIR}/n8n-fleet-database-init.sh`;
const READY_FILE = "/tmp/n8n-fleet-database-ready";

/**
 * Runs the init script until it succeeds, every 15 s, then holds the container's health. A failure
 * (the security group, the master password, TLS) is in the container's log with its cause; fixed,
 * the next try succeeds by itself, and the next `pulumi up` carries on: no replacement needed.
 */
const RETRY_SCRIPT = {
    path: `${FLEET_FILES_DIR}/n8n-fleet-database-init-until-done`,
    mode: "0755",
    content: [
        "#!/bin/bash",
        `until ${INIT_SCRIPT_PATH}; do`,
        '    echo "n8n-fleet: preparing the n8n database on RDS failed (above); trying again in 15 s" >&2',
        "    sleep 15",
        "done",
        `touch ${READY_FILE}`,
        'echo "n8n-fleet: the n8n database and role are ready" >&2',
        "trap 'exit 0' TERM INT",
        "sleep infinity & wait $!",
        "",
    ].join("\n"),
};

/**
 * The container that creates the tenant's database and n8n's least-privilege role on its RDS
 * instance, with the same script as the container case and RDS's master user, over TLS verified
 * against the bundle. It runs on the tenant's Docker host, the only machine the instance's security
 * group admits, on the egress network (the backend one has no route out). `pulumi up` waits for its
 * health: a failure stops the update at this container after its wait, not later at the main's.
 */
export function databaseInitContainer(plan: TenantPlan & { database: RdsPlan }): ContainerSpec {
    const ca = rdsCaBundle();
    return {
        name: plan.names.databaseInit,
        role: "database-init",
        image: plan.images.postgres,
        limits: plan.sizing.postgres,
        command: [RETRY_SCRIPT.path],
        environment: (runtime) => ({
            PGHOST: runtime.databaseHost,
            PGPORT: String(RDS_PORT),
            PGSSLMODE: "verify-full",
            PGSSLROOTCERT: ca.path,
            PGCONNECT_TIMEOUT: "10",
            POSTGRES_USER: plan.database.masterUser,
            POSTGRES_DB: plan.names.database,
            N8N_DB_USER: plan.names.databaseUser,
            ...POSTGRES_SECRET_ENV,
        }),
        // The image's own postgres user: the entrypoint only runs a command other than postgres as given.
        user: "postgres",
        networks: [{ network: "egress", aliases: [] }],
        volumes: [],
        tmpfs: [{ path: "/tmp", sizeMb: 16 }],
        files: [{ path: INIT_SCRIPT_PATH, content: POSTGRES_INIT_SCRIPT.content, mode: POSTGRES_INIT_SCRIPT.mode }, RETRY_SCRIPT, ca],
        secretFiles: Object.values(POSTGRES_SECRET_FILES),
        ports: [],
        healthcheck: shellHealthcheckWith(`test -f ${READY_FILE}`, { intervalSeconds: 5, timeoutSeconds: 5, startPeriodSeconds: 300, retries: 3 }),
        dropCapabilities: true,
        stopGraceSeconds: POSTGRES_STOP_GRACE_SECONDS,
        waitForHealthy: true,
        after: [],
    };
}
