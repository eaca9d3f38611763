/**
 * Every name derived from a tenant id: Docker objects, network aliases, database identifiers.
 * Docker names double as Pulumi resource names, so they must never depend on anything but the id.
 */

/** Longest tenant id: keeps every derived name below the 63-character limits of DNS labels and PostgreSQL identifiers. */
export const TENANT_ID_MAX_LENGTH = 32;

/** A DNS label: lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen. */
export const TENANT_ID_PATTERN = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/;

/** Host names inside a tenant's backend network; short because the network holds one tenant only. */
export const SERVICE_HOSTS = {
    postgres: "postgres",
    redis: "redis",
    main: "n8n",
} as const;

export interface TenantNames {
    /** PostgreSQL database n8n uses, as in the architecture notes: `n8n_client_a`. */
    database: string;
    /** PostgreSQL role n8n logs in with: `client_a_user`. */
    databaseUser: string;
    /** `edge` holds only the tenant's main and the target's edge (internal: no route out). */
    networks: { backend: string; egress: string; edge: string };
    volumes: { postgres: string; redis: string; n8n: string; backups: string };
    containers: { postgres: string; redis: string; main: string };
    /** One-shot container that creates the database and n8n's role on an RDS instance. */
    databaseInit: string;
    /** The backup sidecar, taking sets on the tenant's schedule. */
    backup: string;
    /** One-shot backup taken before the containers move to n8n `version`. */
    backupBefore(version: string): string;
    /** One-shot backup taken when the tenant is archived. */
    finalBackup: string;
    /** Container of queue worker `index` (1-based). */
    worker(index: number): string;
    /** Container of the task-runner sidecar of queue worker `index`. */
    runner(index: number): string;
    /** Host name of worker `index` on the backend network; its runner dials the broker there. */
    workerHost(index: number): string;
}

/** PostgreSQL identifiers cannot hold hyphens unquoted; ids hold no underscores, so this is one-to-one. */
function sqlIdentifierPart(tenantId: string): string {
    return tenantId.replace(/-/g, "_");
}

export function tenantNames(tenantId: string): TenantNames {
    const sqlId = sqlIdentifierPart(tenantId);
    return {
        database: `n8n_${sqlId}`,
        databaseUser: `${sqlId}_user`,
        networks: { backend: `${tenantId}-backend`, egress: `${tenantId}-egress`, edge: `${tenantId}-edge` },
        volumes: {
            postgres: `${tenantId}-postgres-data`,
            redis: `${tenantId}-redis-data`,
            n8n: `${tenantId}-n8n-data`,
            backups: `${tenantId}-backups`,
        },
        containers: {
            postgres: `${tenantId}-postgres`,
            redis: `${tenantId}-redis`,
            main: `${tenantId}-n8n`,
        },
        databaseInit: `${tenantId}-database-init`,
        backup: `${tenantId}-backup`,
        backupBefore: (version) => `${tenantId}-backup-before-n8n-${version}`,
        finalBackup: `${tenantId}-backup-final`,
        worker: (index) => `${tenantId}-n8n-worker-${index}`,
        runner: (index) => `${tenantId}-n8n-worker-${index}-runner`,
        workerHost: (index) => `n8n-worker-${index}`,
    };
}

/**
 * The key two ids share when their derived names would collide. Valid ids never collide,
 * but ids that are not yet valid (`Client_A` next to `client-a`) are reported as collisions too.
 */
export function collisionKey(tenantId: string): string {
    return tenantId.toLowerCase().replace(/_/g, "-");
}
