/**
 * What a restore does with backup sets: copies a set folder of this machine into the tenant's
 * backup volume, takes a set of the data it is about to replace, and runs
 * fleet/containers/restore.sh on a set there, to check it or to restore it.
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { dirname, join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import Docker from "dockerode";
import { pack } from "tar-stream";
import { BACKUPS_DIR, BACKUP_UID, N8N_FILES_DIR, N8N_USER_FILES_DIR, BACKUP_SCRIPT, OPTIONAL_SET_FILES, RESTORE_SCRIPT, SET_FILES } from "../fleet/containers/backup";
import { RUN_DIR } from "../fleet/containers/containerSpec";
import type { TenantPlan } from "../fleet/tenants/plan";
import { fail } from "./cli";
import { runToEnd } from "./dockerApi";

/** A local set folder as a tar stream of folder `name`, for putArchive into the backup volume; files are streamed, whatever their size. */
export function packSet(folder: string, name: string): Readable {
    for (const file of SET_FILES) if (!existsSync(join(folder, file))) fail(`${folder} holds no ${file}: not a backup set`);
    const tar = pack();
    const files = [...SET_FILES, ...OPTIONAL_SET_FILES.filter((file) => existsSync(join(folder, file)))];
    (async () => {
        for (const file of files) {
            const path = join(folder, file);
            await pipeline(createReadStream(path), tar.entry({ name: `${name}/${file}`, size: statSync(path).size, mode: 0o600 }));
        }
        tar.finalize();
    })().catch((error: Error) => tar.destroy(error));
    // tar-stream's streams are streamx ones; Docker's client takes Node's.
    return Readable.from(tar);
}

export interface RestoreRun {
    plan: TenantPlan;
    /** The backup sidecar, whose secrets and scripts the restore container gets. */
    sidecar: string;
    image: string;
    env: string[];
    set: string;
    /** Only the set's checks (whole, the tenant's key), on no network and changing nothing. */
    verifyOnly: boolean;
}

/** Runs fleet/containers/restore.sh in a container of the sidecar's image, environment and secrets; its exit status. */
export async function runRestoreScript(docker: Docker, run: RestoreRun): Promise<number> {
    const names = run.plan.names;
    return runLikeSidecar(docker, run, process.stderr, {
        name: `${run.plan.id}-restore${run.verifyOnly ? "-check" : ""}`,
        Cmd: [RESTORE_SCRIPT.path, ...(run.verifyOnly ? ["--verify"] : []), `${BACKUPS_DIR}/${run.set}`],
        HostConfig: {
            // The n8n volumes are writable for the restore itself only.
            Binds: [
                `${names.volumes.backups}:${BACKUPS_DIR}:ro`,
                `${names.volumes.n8n}:${N8N_FILES_DIR}${run.verifyOnly ? ":ro" : ""}`,
                `${names.volumes.files}:${N8N_USER_FILES_DIR}${run.verifyOnly ? ":ro" : ""}`,
            ],
            NetworkMode: run.verifyOnly ? "none" : names.networks.backend,
            // The checks read the set as the backup user; writing n8n's files with their owners takes root.
            ...(run.verifyOnly ? { User: `${BACKUP_UID}:${BACKUP_UID}`, CapAdd: [] } : { User: "0:0", CapAdd: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"] }),
        },
    });
}

/**
 * Takes a set of the tenant's data as it is now (`before-restore`), with the sidecar's own script,
 * so that a restore can be undone; its name. Run while n8n is stopped, before anything is dropped.
 */
export async function takeSetBeforeRestore(docker: Docker, run: Omit<RestoreRun, "set" | "verifyOnly">): Promise<string> {
    const names = run.plan.names;
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (chunk: Buffer) => chunks.push(chunk));
    const status = await runLikeSidecar(docker, run, out, {
        name: `${run.plan.id}-backup-before-restore`,
        Cmd: [BACKUP_SCRIPT.path, "once", "before-restore"],
        HostConfig: {
            Binds: [`${names.volumes.backups}:${BACKUPS_DIR}`, `${names.volumes.n8n}:${N8N_FILES_DIR}:ro`, `${names.volumes.files}:${N8N_USER_FILES_DIR}:ro`],
            NetworkMode: names.networks.backend,
            // As the sidecar runs: the backup user, no capability.
            User: `${BACKUP_UID}:${BACKUP_UID}`,
            CapAdd: [],
        },
    });
    const name = Buffer.concat(chunks).toString("utf8").trim();
    if (status !== 0 || name === "") throw new Error(`the set before the restore failed (exit ${status}, output above)`);
    return name;
}

/**
 * A throwaway container of the sidecar's image, user, environment, secret files and scripts, with
 * every capability dropped but those `options` adds; its exit status.
 */
async function runLikeSidecar(
    docker: Docker,
    run: Pick<RestoreRun, "image" | "env" | "sidecar">,
    stdout: NodeJS.WritableStream,
    options: { name: string; Cmd: string[]; HostConfig: { Binds: string[]; NetworkMode: string; User: string; CapAdd: string[] } },
): Promise<number> {
    const { User, ...hostConfig } = options.HostConfig;
    const create: Docker.ContainerCreateOptions = {
        name: options.name,
        Image: run.image,
        User,
        Env: run.env,
        Cmd: options.Cmd,
        HostConfig: { ...hostConfig, CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges:true"] },
    };
    // The sidecar's secret files and the scripts it carries, where they are in the sidecar.
    const sidecar = docker.getContainer(run.sidecar);
    return runToEnd(docker, create, stdout, async (container) => {
        // The sidecar's run volume: its secret files and scripts.
        await container.putArchive(await sidecar.getArchive({ path: RUN_DIR }), { path: dirname(RUN_DIR) });
    });
}
