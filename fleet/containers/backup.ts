/**
 * Backups of a tenant: a sidecar of the tenant's own postgres image that takes a set on its
 * schedule, a one-shot set before its n8n version changes, and a final one when it is archived.
 * Each set holds a pg_dump, the n8n data folder's files that matter (never the key) and a manifest
 * with the key's fingerprint (fleet/containers/backup.sh). An RDS tenant's sidecar keeps the n8n
 * files only: RDS backs up and snapshots the database.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TenantPlan } from "../tenants/plan";
import { ContainerSpec, FLEET_FILES_DIR, Healthcheck, PORTS, TenantRuntime, secretFile, shellHealthcheckWith } from "./containerSpec";
import { SERVICE_HOSTS } from "../tenants/names";
import { N8N_UID } from "./n8n";

/** The backup volume in the container, and the n8n volumes (data folder, workflows' files), mounted read-only. */
export const BACKUPS_DIR = "/backups";
export const N8N_FILES_DIR = "/n8n-data";
export const N8N_USER_FILES_DIR = "/n8n-user-files";

/** The files of a backup set, as backup.sh writes them. */
export const SET_FILES = ["manifest.json", "database.dump", "n8n-files.tar.gz"];
/** In the sets of n8n-fleet versions that keep the workflows' files folder on its own volume. */
export const OPTIONAL_SET_FILES = ["n8n-user-files.tar.gz"];

export const BACKUP_SCRIPT = {
    path: `${FLEET_FILES_DIR}/n8n-fleet-backup`,
    content: readFileSync(join(__dirname, "backup.sh"), "utf8"),
    mode: "0755",
};

/** Shipped beside the backup script, so a restore runs in the same image and environment (`npm run restore`). */
export const RESTORE_SCRIPT = {
    path: `${FLEET_FILES_DIR}/n8n-fleet-restore`,
    content: readFileSync(join(__dirname, "restore.sh"), "utf8"),
    mode: "0755",
};

/**
 * The postgres image's own `postgres` user, with no capability: it writes the backups volume, whose
 * folder the volume-owners one-shot gives it, and reads n8n's files as any user may (n8n writes them
 * with mode 0644 and folders 0755; the key's `config`, 0600, is never backed up). Never root: the
 * sidecar reads files the tenant's code wrote.
 */
export const BACKUP_UID = "999";
const BACKUP_USER = `${BACKUP_UID}:${BACKUP_UID}`;

/** Compared with the key in hand before a restore touches anything; the key itself is never in a backup. */
export function keyFingerprint(encryptionKey: string): string {
    return `sha256:${createHash("sha256").update(encryptionKey).digest("hex")}`;
}

const PASSWORD_FILE = secretFile("backup-database-password", BACKUP_UID, (runtime) => runtime.databasePassword);

/**
 * The n8n version a set records for its data: the deployed one, or, before an upgrade, the one the
 * scheduled sidecar recorded in the volume (the program declares the version it upgrades to, not
 * the one it replaces).
 */
type DataVersion = { deployed: string } | "recorded-in-volume";

/** What every backup container of the tenant shares: image, user, networks, volumes, environment. */
function backupProcess(plan: TenantPlan, dataVersion: DataVersion): Omit<ContainerSpec, "name" | "command" | "healthcheck" | "runsOnce" | "waitForHealthy" | "after"> {
    const rds = plan.database.kind === "rds";
    return {
        role: "backup",
        image: plan.images.postgres,
        limits: plan.sizing.backup,
        // n8n's own role: it owns every table it dumps; the superuser is not needed.
        environment: (runtime: TenantRuntime) => ({
            TENANT: plan.id,
            ...(dataVersion === "recorded-in-volume" ? { DATA_VERSION_FROM_VOLUME: "1" } : { N8N_VERSION: dataVersion.deployed }),
            KEY_FINGERPRINT: keyFingerprint(runtime.encryptionKey),
            ...(rds
                ? // RDS keeps the database's backups and snapshots; the sidecar keeps the n8n files.
                  { DATABASE_IN: "rds" }
                : {
                      PGHOST: SERVICE_HOSTS.postgres,
                      PGPORT: String(PORTS.postgres),
                      PGUSER: plan.names.databaseUser,
                      PGDATABASE: plan.names.database,
                      PGPASSWORD_FILE: PASSWORD_FILE.path,
                      // A database that does not answer fails the set within seconds, not at the TCP time-out.
                      PGCONNECT_TIMEOUT: "10",
                  }),
            BACKUP_PERIOD_SECONDS: String(plan.backup.periodSeconds),
            KEEP_HOURLY: String(plan.backup.schedule === "hourly" ? plan.backup.keep.hourly : 0),
            KEEP_DAILY: String(plan.backup.keep.daily),
            KEEP_WEEKLY: String(plan.backup.keep.weekly),
        }),
        user: BACKUP_USER,
        // Only the internal network: it talks to the tenant's PostgreSQL and to nothing else.
        networks: [{ network: "backend", aliases: [] }],
        volumes: [
            { volume: "backups", containerPath: BACKUPS_DIR },
            { volume: "n8n", containerPath: N8N_FILES_DIR, readOnly: true },
            { volume: "files", containerPath: N8N_USER_FILES_DIR, readOnly: true },
        ],
        // pg_dump and tar write to the backups volume only; room for what a tool may put in /tmp.
        tmpfs: [{ path: "/tmp", sizeMb: 16 }],
        files: [BACKUP_SCRIPT, RESTORE_SCRIPT],
        secretFiles: rds ? [] : [PASSWORD_FILE],
        ports: [],
        dropCapabilities: true,
        stopGraceSeconds: 30,
    };
}

/**
 * A one-shot, before any other container of the tenant: gives the folder of the backups volume
 * (and, for volumes of earlier n8n-fleet versions, the sets root wrote there) to the backup user,
 * and the folder of the workflows' files volume to n8n's user. A new named volume's folder is
 * root's when the image has no such folder. Root with CHOWN and FOWNER alone; it reads nothing, follows no
 * link (the files volume's own folder only, never what the tenant wrote in it), and exits.
 */
export function volumeOwnersContainer(plan: TenantPlan): ContainerSpec {
    return {
        name: plan.names.volumeOwners,
        role: "volume-owners",
        image: plan.images.postgres,
        // Fixed, so a new budget does not replace it: it runs for a moment, before the tenant's other containers.
        limits: { memoryMb: 64, cpuShares: 256 },
        command: [
            "sh",
            "-c",
            // Once the folder is the backup user's, its sets are too, and root (without DAC_READ_SEARCH) may not even list it.
            `if [ "$(stat -c %u ${BACKUPS_DIR})" != ${BACKUP_UID} ]; then chown -R -P ${BACKUP_USER} ${BACKUPS_DIR}; fi && chmod 0700 ${BACKUPS_DIR} && chown -h ${N8N_UID} ${N8N_USER_FILES_DIR} && chmod 0755 ${N8N_USER_FILES_DIR}`,
        ],
        environment: () => ({}),
        user: "0:0",
        networks: [],
        networkMode: "none",
        volumes: [
            { volume: "backups", containerPath: BACKUPS_DIR },
            { volume: "files", containerPath: N8N_USER_FILES_DIR },
        ],
        tmpfs: [],
        files: [],
        secretFiles: [],
        ports: [],
        runsOnce: true,
        failureMeans: `the owners of tenant "${plan.id}"'s backups and files volumes could not be set, so nothing that writes them was started`,
        alwaysRuns: true,
        dropCapabilities: true,
        // CHOWN to give the folders away; FOWNER to set their modes once they are no longer root's (a later run).
        addCapabilities: ["CAP_CHOWN", "CAP_FOWNER"],
        stopGraceSeconds: 10,
        waitForHealthy: false,
        after: [],
    };
}

/** Unhealthy when the last successful set is more than two periods old (or there is none after the start period). */
export function backupHealthcheck(plan: TenantPlan): Healthcheck {
    const twoPeriods = 2 * plan.backup.periodSeconds;
    return shellHealthcheckWith(
        `test -f ${BACKUPS_DIR}/last-success && test $(( $(date +%s) - $(cat ${BACKUPS_DIR}/last-success) )) -lt ${twoPeriods}`,
        { intervalSeconds: 30, timeoutSeconds: 10, startPeriodSeconds: 600, retries: 3 },
    );
}

/**
 * The sidecar: a set at start, then one per period, pruned by the tenant's retention. It records
 * the deployed version in the volume for the next set before an upgrade, so it starts only after
 * that set is taken.
 */
export function backupContainer(plan: TenantPlan): ContainerSpec {
    return {
        ...backupProcess(plan, { deployed: plan.n8nVersion }),
        name: plan.names.backup,
        command: [BACKUP_SCRIPT.path, "loop"],
        healthcheck: backupHealthcheck(plan),
        waitForHealthy: false,
        // An RDS tenant's sidecar has no database to wait for (RDS snapshots it before an upgrade).
        after: plan.database.kind === "rds" ? [plan.names.volumeOwners] : [plan.names.volumeOwners, plan.names.containers.postgres, plan.names.backupBefore(plan.n8nVersion)],
    };
}

/**
 * A one-shot that takes one set of `kind` and exits. `pulumi up` waits for its end, and stops on a
 * non-zero exit before anything that comes after it is created (components/clientInstance.ts). A
 * new gate container is a new set, whatever the volume already holds; it never restarts.
 */
function backupGate(plan: TenantPlan, name: string, kind: string, dataVersion: DataVersion, failureMeans: string): ContainerSpec {
    return {
        ...backupProcess(plan, dataVersion),
        name,
        command: [BACKUP_SCRIPT.path, "once", kind],
        runsOnce: true,
        failureMeans,
        waitForHealthy: false,
        after: [plan.names.volumeOwners],
    };
}

/**
 * One set taken before the containers move to `plan.n8nVersion`: named after that version, so a
 * new version creates a new one, which runs while the old containers still serve and before the
 * new main migrates the database; a failed migration is rolled back from it.
 */
export function preUpgradeBackupContainer(plan: TenantPlan): ContainerSpec {
    return {
        ...backupGate(
            plan,
            plan.names.backupBefore(plan.n8nVersion),
            `before-n8n-${plan.n8nVersion}`,
            "recorded-in-volume",
            `the backup before n8n ${plan.n8nVersion} failed, so nothing of tenant "${plan.id}" was upgraded`,
        ),
        after: [plan.names.volumeOwners, plan.names.containers.postgres],
    };
}

/**
 * The set taken when the tenant is archived. Pulumi deletes what left the program only after the
 * program has run to its end, so this runs while the tenant's PostgreSQL still does; it finds it
 * by its alias on the backend network, which an archived tenant keeps. A failed final backup
 * stops the update before PostgreSQL is removed. (A suspended tenant's PostgreSQL is stopped:
 * `npm run plan` blocks archiving it before it is resumed.)
 */
export function finalBackupContainer(plan: TenantPlan): ContainerSpec {
    return {
        ...backupGate(plan, plan.names.finalBackup, "final", { deployed: plan.n8nVersion }, `the final backup of tenant "${plan.id}" failed, so none of its containers was removed`),
        alwaysRuns: true,
    };
}

/** What a restore needs to know of a set before it changes anything. */
export interface SetManifest {
    tenant: string;
    kind: string;
    createdAt: string;
    n8nVersion: string | null;
    postgresVersion: string;
    keyFingerprint: string;
}

/** `2.41.1` -> [2, 41, 1]; undefined for anything else. */
function versionParts(version: string): number[] | undefined {
    return /^\d+\.\d+\.\d+$/.test(version) ? version.split(".").map(Number) : undefined;
}

function compareVersions(a: number[], b: number[]): number {
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return 0;
}

/** What a restore is checked against. */
export interface RestoreTarget {
    tenantId: string;
    /** The key in hand, compared with the set's fingerprint. */
    encryptionKey: string;
    /** The n8n version deployed for the tenant now. */
    deployedN8nVersion: string;
    /** The operator knows a set that records no version is not newer (`--any-version`). */
    anyVersion?: boolean;
}

/**
 * Why a set must not be restored into the tenant with the key in hand, or undefined when it may.
 * A set taken under another key would leave every credential unreadable, and n8n cannot re-encrypt
 * them; a set from a newer n8n holds a schema the deployed one does not know (n8n migrates up,
 * never down).
 */
export function restoreRefusal(manifestText: string, target: RestoreTarget): string | undefined {
    let manifest: SetManifest;
    try {
        manifest = JSON.parse(manifestText) as SetManifest;
    } catch {
        return "its manifest.json is not JSON: not a backup set of n8n-fleet";
    }
    if (manifest.tenant !== target.tenantId) return `it is a set of tenant "${manifest.tenant}", not of "${target.tenantId}"`;
    const inHand = keyFingerprint(target.encryptionKey);
    if (manifest.keyFingerprint !== inHand) {
        return `the encryption key in hand (${inHand}) is not the one this set was taken with (${manifest.keyFingerprint}): restored with it, no credential could be decrypted. Use the tenant's own key from the escrow (encryptionKeys)`;
    }
    return versionRefusal(manifest.n8nVersion, target);
}

function versionRefusal(recorded: string | null | undefined, target: RestoreTarget): string | undefined {
    const deployed = versionParts(target.deployedN8nVersion);
    const fix = (version: string) => `Fix: deploy n8n ${version} or later for this tenant first ("n8nVersion" in tenants.json, then pulumi up), then restore`;
    const exact = recorded ? versionParts(recorded) : undefined;
    if (exact && deployed) {
        if (compareVersions(exact, deployed) <= 0) return undefined;
        return `the set holds the data of n8n ${recorded}, newer than the deployed ${target.deployedN8nVersion}: n8n migrates a database up, never down. ${fix(recorded as string)}`;
    }
    // Sets of earlier n8n-fleet versions taken before an upgrade record "before X": their data is older than X.
    const before = recorded ? /^before (\d+\.\d+\.\d+)$/.exec(recorded)?.[1] : undefined;
    const bound = before ? versionParts(before) : undefined;
    if (bound && deployed && compareVersions(bound, deployed) <= 0) return undefined;
    if (target.anyVersion) return undefined;
    return `the set records ${recorded ? `"${recorded}"` : "no n8n version"} for its data, which cannot be compared with the deployed ${target.deployedN8nVersion}. If you know its data is not from a newer n8n, run the restore again with --any-version`;
}
