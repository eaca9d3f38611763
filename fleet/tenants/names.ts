/**
 * Every name derived from a tenant id: Docker objects, network aliases, database identifiers.
 * Docker names double as Pulumi resource names, so they must never depend on anything but the id.
 */
import { createHash } from "node:crypto";

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
    /**
     * The Linux bridge of each network on the Docker host (`com.docker.network.bridge.name`):
     * fixed, so that the host guard's firewall rules can name a tenant's traffic before its
     * networks exist, and unique per network. 15 characters, the kernel's limit.
     */
    bridges: { backend: string; egress: string; edge: string };
    /** `files`: the folder workflows read and write files in (Read/Write Files from Disk). */
    volumes: { postgres: string; redis: string; n8n: string; files: string; backups: string };
    containers: { postgres: string; redis: string; main: string };
    /** One-shot container that creates the database and n8n's role on an RDS instance. */
    databaseInit: string;
    /** The backup sidecar, taking sets on the tenant's schedule. */
    backup: string;
    /**
     * One-shot that gives the mount folders of the backups and files volumes to the users that
     * write them (a new volume's folder is root's), so no long-running container needs root.
     */
    volumeOwners: string;
    /** One-shot that writes every container's files (secrets, scripts) into the containers' run volumes. */
    filesWriter: string;
    /** The volume holding the files of container `containerName`, mounted read-only in it. */
    runVolume(containerName: string): string;
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

/** `n8f` and 12 hex digits of the network name's SHA-256: a valid interface name of 15 characters. */
export function bridgeName(networkName: string): string {
    return `n8f${createHash("sha256").update(networkName).digest("hex").slice(0, 12)}`;
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
        bridges: { backend: bridgeName(`${tenantId}-backend`), egress: bridgeName(`${tenantId}-egress`), edge: bridgeName(`${tenantId}-edge`) },
        volumes: {
            postgres: `${tenantId}-postgres-data`,
            redis: `${tenantId}-redis-data`,
            n8n: `${tenantId}-n8n-data`,
            files: `${tenantId}-n8n-files`,
            backups: `${tenantId}-backups`,
        },
        containers: {
            postgres: `${tenantId}-postgres`,
            redis: `${tenantId}-redis`,
            main: `${tenantId}-n8n`,
        },
        databaseInit: `${tenantId}-database-init`,
        backup: `${tenantId}-backup`,
        volumeOwners: `${tenantId}-volume-owners`,
        filesWriter: `${tenantId}-files`,
        runVolume: (containerName) => `${containerName}-run`,
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
