/**
 * The one-shot container that creates the n8n database and role on a tenant's RDS instance.
 */
import type { TenantPlan } from "../tenants/plan";
import { RDS_PORT, RdsPlan, rdsCaBundle } from "../tenants/database";
import type { ContainerSpec } from "./containerSpec";
import { POSTGRES_INIT_SCRIPT, POSTGRES_SECRET_ENV, POSTGRES_SECRET_FILES, POSTGRES_STOP_GRACE_SECONDS } from "./postgres";

/** The script the postgres image runs on first start, run here by hand once on RDS. */
const INIT_SCRIPT_PATH = "/usr/local/bin/n8n-fleet-database-init.sh";

/**
 * The one-shot container that creates the tenant's database and n8n's least-privilege role on its
 * RDS instance, with the same script as the container case and RDS's master user, over TLS
 * verified against the bundle. It runs on the tenant's Docker host, the only machine the
 * instance's security group admits, on the egress network (the backend one has no route out).
 */
export function databaseInitContainer(plan: TenantPlan & { database: RdsPlan }): ContainerSpec {
    const ca = rdsCaBundle();
    return {
        name: plan.names.databaseInit,
        role: "database-init",
        image: plan.images.postgres,
        limits: plan.sizing.postgres,
        command: [INIT_SCRIPT_PATH],
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
        files: [{ path: INIT_SCRIPT_PATH, content: POSTGRES_INIT_SCRIPT.content, mode: POSTGRES_INIT_SCRIPT.mode }, ca],
        secretFiles: Object.values(POSTGRES_SECRET_FILES),
        ports: [],
        runsOnce: true,
        dropCapabilities: true,
        stopGraceSeconds: POSTGRES_STOP_GRACE_SECONDS,
        waitForHealthy: false,
        after: [],
    };
}
