/**
 * The one place where a container the program declares becomes a process on loopback. Only what
 * necessarily differs between a container and a local process is rewritten:
 *
 * - host names -> 127.0.0.1, and every server listens on 127.0.0.1 only;
 * - container ports -> free local ports (several tenants share one loopback);
 * - data directories -> temporary folders;
 * - `N8N_RUNNERS_MODE=internal`: the external runner launcher exists only as an image;
 * - files the container is given (secrets, scripts) -> the same content at a local path, and
 *   every variable or argument naming the container path names the local one.
 *
 * Everything else (passwords, database and role names, queue settings, the encryption key, the
 * commands and their flags, the init script) is taken unchanged from the program's declaration.
 */
import { join } from "node:path";
import type { Registration } from "../harness/recordingMocks";
import { envOf, filesOf } from "../harness/runFleet";

/** Where one tenant's processes listen and keep their data. */
export interface LocalSite {
    postgresPort: number;
    redisPort: number;
    /** The main's HTTP port (editor, REST, webhooks). */
    mainPort: number;
    /** The worker's health server. */
    workerPort: number;
    mainBrokerPort: number;
    workerBrokerPort: number;
    postgresDataDir: string;
    postgresSocketDir: string;
    redisDataDir: string;
    /** Shared by main and workers, like the tenant's n8n volume. */
    n8nUserFolder: string;
    /** Where each container's files go, in a folder named after the container. */
    filesDir: string;
}

/** A file the container is given, at its local path; the caller writes it. */
export interface LocalFile {
    containerPath: string;
    path: string;
    content: string;
    /** From the declared octal permissions. */
    mode: number;
}

export interface LocalProcess {
    /** The container's command, arguments unchanged but for the rewrites above. */
    command: string[];
    env: Record<string, string>;
    files: LocalFile[];
}

const LOOPBACK = "127.0.0.1";

/** `[..., flag, value, ...]` with `value` replaced; fails when the flag is missing, so a changed declaration is noticed. */
function replaceFlagValue(args: string[], flag: string, value: string): string[] {
    const index = args.indexOf(flag);
    if (index < 0 || index === args.length - 1) throw new Error(`expected ${flag} <value> in ${JSON.stringify(args)}`);
    return [...args.slice(0, index + 1), value, ...args.slice(index + 2)];
}

/** The container's uploads at local paths, and the process's command and environment pointing at them. */
function withLocalFiles(container: Registration, site: LocalSite, process: { command: string[]; env: Record<string, string> }): LocalProcess {
    const uploads = filesOf(container) as { file: string; content: string; permissions?: string }[];
    const files = uploads.map((u) => ({ containerPath: u.file, path: join(site.filesDir, container.name, u.file.replace(/\//g, "_")), content: u.content, mode: parseInt(u.permissions ?? "0644", 8) }));
    const local = (value: string) => files.find((f) => f.containerPath === value)?.path ?? value;
    return {
        command: process.command.map(local),
        env: Object.fromEntries(Object.entries(process.env).map(([name, value]) => [name, local(value)])),
        files,
    };
}

function requireKeys(env: Record<string, string>, keys: string[], container: string): void {
    for (const key of keys) if (env[key] === undefined) throw new Error(`${container} declares no ${key}`);
}

export function localizePostgres(container: Registration, site: LocalSite): LocalProcess {
    const env = envOf(container);
    requireKeys(env, ["PGDATA", "POSTGRES_USER", "POSTGRES_PASSWORD_FILE", "POSTGRES_DB"], container.name);
    return withLocalFiles(container, site, {
        command: [
            ...(container.inputs.command as string[]),
            "-c",
            `port=${site.postgresPort}`,
            "-c",
            `listen_addresses=${LOOPBACK}`,
            "-c",
            `unix_socket_directories=${site.postgresSocketDir}`,
        ],
        env: { ...env, PGDATA: site.postgresDataDir },
    });
}

export function localizeRedis(container: Registration, site: LocalSite): LocalProcess {
    let command = container.inputs.command as string[];
    command = replaceFlagValue(command, "--port", String(site.redisPort));
    command = replaceFlagValue(command, "--dir", site.redisDataDir);
    return withLocalFiles(container, site, { command: [...command, "--bind", LOOPBACK], env: envOf(container) });
}

/** Main or worker: the command is the argument list of the image's `n8n` entrypoint. */
export function localizeN8n(container: Registration, site: LocalSite, role: "main" | "worker"): LocalProcess {
    const env = envOf(container);
    requireKeys(env, ["DB_POSTGRESDB_HOST", "QUEUE_BULL_REDIS_HOST", "N8N_USER_FOLDER", "N8N_RUNNERS_MODE", "N8N_EDITOR_BASE_URL"], container.name);
    const publicUrl = `http://${LOOPBACK}:${site.mainPort}/`;
    return withLocalFiles(container, site, {
        command: container.inputs.command as string[],
        env: {
            ...env,
            DB_POSTGRESDB_HOST: LOOPBACK,
            DB_POSTGRESDB_PORT: String(site.postgresPort),
            QUEUE_BULL_REDIS_HOST: LOOPBACK,
            QUEUE_BULL_REDIS_PORT: String(site.redisPort),
            N8N_LISTEN_ADDRESS: LOOPBACK,
            N8N_PORT: String(role === "main" ? site.mainPort : site.workerPort),
            QUEUE_HEALTH_CHECK_PORT: String(role === "main" ? site.mainPort : site.workerPort),
            N8N_HOST: LOOPBACK,
            N8N_EDITOR_BASE_URL: publicUrl,
            N8N_WEBHOOK_URL: publicUrl,
            N8N_USER_FOLDER: site.n8nUserFolder,
            N8N_RUNNERS_MODE: "internal",
            N8N_RUNNERS_BROKER_LISTEN_ADDRESS: LOOPBACK,
            N8N_RUNNERS_BROKER_PORT: String(role === "main" ? site.mainBrokerPort : site.workerBrokerPort),
        },
    });
}

/**
 * The backup containers (sidecar and one-shots): PostgreSQL on loopback, and the two mount points
 * (backup volume, n8n volume) at local folders. The same script and environment otherwise.
 */
export function localizeBackup(container: Registration, site: LocalSite, backupsDir: string): LocalProcess {
    const env = envOf(container);
    requireKeys(env, ["PGHOST", "PGPORT", "PGPASSWORD_FILE", "KEY_FINGERPRINT"], container.name);
    return withLocalFiles(container, site, {
        command: container.inputs.command as string[],
        // The n8n volume is mounted at the user folder's .n8n in the containers.
        env: { ...env, PGHOST: LOOPBACK, PGPORT: String(site.postgresPort), BACKUPS_DIR: backupsDir, N8N_FILES_DIR: join(site.n8nUserFolder, ".n8n") },
    });
}
