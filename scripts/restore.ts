/**
 * `npm run restore -- <tenant> --from <set> [--stack <stack>] [--target <target>] [--key-file <file>] [--docker-host <url>] [--dir <folder>]`:
 * restores one backup set into a tenant's own containers, on its Docker host or, after the tenant
 * has been moved and deployed there, on another target.
 *
 * Before anything changes, the set's manifest must name the tenant and the key in hand must be the
 * one the set was taken with (its fingerprint). Then the tenant's n8n containers stop, a one-off
 * container of its backup image restores database and files, and they start again, the main first.
 * The set is a folder of the tenant's backup volume (`docker exec <tenant>-backup ls /backups`), or
 * a folder on this machine (a set copied off another host), which is copied into the volume first.
 */
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { basename, dirname, join, resolve } from "node:path";
import { PassThrough, Readable } from "node:stream";
import Docker from "dockerode";
import { pack } from "tar-stream";
import { BACKUPS_DIR, N8N_FILES_DIR, RESTORE_SCRIPT, SET_FILES, restoreRefusal } from "../fleet/backup";
import { tenantContainers } from "../fleet/containers";
import { SECRETS_DIR } from "../fleet/containerSpec";
import { loadFleetForStack, readTenantsFile, stackFileName, stackSettingsFromYaml } from "../fleet/stackFleet";
import { formatProblems } from "../fleet/problems";
import type { TenantPlan } from "../fleet/plan";
import { fail, parseCommandLine } from "./cli";

const PROJECT_ROOT = resolve(__dirname, "..");
/** The containers a restore stops while it replaces their data. */
const N8N_ROLES = new Set(["main", "worker", "runner"]);
const USAGE = [
    "usage: npm run restore -- <tenant> --from <set> [--stack <stack>] [--target <target>] [--key-file <file>] [--docker-host <url>] [--dir <folder>]",
    "  <set>: a folder of the tenant's backup volume (such as 20261126T020000Z-scheduled), or a set folder on this machine",
    "  the key: --key-file, or N8N_FLEET_ENCRYPTION_KEY; from `npm run pulumi -- stack output encryptionKeys --show-secrets` or the escrow",
    "  --dir: the folder of the Pulumi.<stack>.yaml files (default: the project)",
].join("\n");

function loadTenant(dir: string, stack: string, tenantId: string, targetName: string | undefined): TenantPlan {
    const file = stackFileName(stack);
    const path = join(dir, file);
    if (!existsSync(path)) fail(`${file}: there is no stack "${stack}". Fix: pass --stack with one of the Pulumi.<stack>.yaml files of the project.`);
    const settings = stackSettingsFromYaml(readFileSync(path, "utf8"), file);
    if (!settings.ok) fail(formatProblems(settings.problems));
    const fleet = loadFleetForStack({ stack, raw: settings.raw, readTenants: (tenantsFile) => readTenantsFile(resolve(dir, tenantsFile), tenantsFile) });
    if (!fleet.ok) fail(`${formatProblems(fleet.problems)}\n\nThe stack must be valid to restore into it.`);
    const plan = fleet.tenants.find((t) => t.id === tenantId) ?? fail(`tenant "${tenantId}" is not in stack ${stack}. Tenants: ${fleet.tenants.map((t) => t.id).join(", ")}.`);
    if (targetName !== undefined && plan.target.name !== targetName) {
        fail(`tenant "${tenantId}" is on target ${plan.target.name} in stack ${stack}, not ${targetName}. Fix: move it in tenants.json and deploy first (it gets empty volumes there), then restore with --target ${targetName}.`);
    }
    if (plan.database.kind !== "container") fail(`tenant "${tenantId}" keeps its data in RDS: restore it from an RDS snapshot (README, Backups).`);
    if (plan.status !== "active") fail(`tenant "${tenantId}" is ${plan.status}. Fix: set "status": "active" and deploy first.`);
    return plan;
}

/** The Docker API of the tenant's host: unix:// and tcp:// from the stack; anything else through --docker-host (an SSH tunnel's socket). */
function dockerFor(plan: TenantPlan, override: string | undefined): Docker {
    const host = override ?? plan.target.dockerHost;
    if (host.startsWith("unix://")) return new Docker({ socketPath: host.slice("unix://".length) });
    const tcp = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(host);
    if (tcp) return new Docker({ host: tcp[1], port: Number(tcp[2]) });
    fail(`${host}: the restore talks to unix:// or tcp:// Docker hosts. Fix: open a tunnel (ssh -nNT -L /tmp/fleet.sock:/var/run/docker.sock <host>) and pass --docker-host unix:///tmp/fleet.sock.`);
}

/**
 * Runs a throwaway container to its end: created, given its files (`prepare`), its output streamed
 * (stdout to `stdout`, stderr to ours), then removed whatever happens. Its exit status.
 */
async function runToEnd(docker: Docker, options: Docker.ContainerCreateOptions, stdout: NodeJS.WritableStream, prepare?: (container: Docker.Container) => Promise<void>): Promise<number> {
    const container = await docker.createContainer(options);
    try {
        await prepare?.(container);
        const stream = await container.attach({ stream: true, stdout: true, stderr: true });
        const done = new Promise<void>((ok) => stream.on("end", () => ok()));
        docker.modem.demuxStream(stream, stdout, process.stderr);
        await container.start();
        const { StatusCode } = (await container.wait()) as { StatusCode: number };
        await done;
        return StatusCode;
    } finally {
        await container.remove({ force: true });
    }
}

/** What `command` prints, run in `image` on no network with `binds`; throws when it fails. */
async function output(docker: Docker, image: string, command: string[], binds: string[], capabilities: string[] = []): Promise<string> {
    const chunks: Buffer[] = [];
    const out = new PassThrough();
    out.on("data", (chunk: Buffer) => chunks.push(chunk));
    const status = await runToEnd(docker, { Image: image, Cmd: command, User: "0:0", HostConfig: { Binds: binds, NetworkMode: "none", CapDrop: ["ALL"], CapAdd: ["CAP_DAC_READ_SEARCH", ...capabilities] } }, out);
    if (status !== 0) throw new Error(`${command.join(" ")} exited ${status}`);
    return Buffer.concat(chunks).toString("utf8");
}

/** A local set folder as a tar stream of folder `name`, for putArchive into the backup volume; files are streamed, whatever their size. */
function packSet(folder: string, name: string): Readable {
    for (const file of SET_FILES) if (!existsSync(join(folder, file))) fail(`${folder} holds no ${file}: not a backup set`);
    const tar = pack();
    (async () => {
        for (const file of SET_FILES) {
            const path = join(folder, file);
            await pipeline(createReadStream(path), tar.entry({ name: `${name}/${file}`, size: statSync(path).size, mode: 0o600 }));
        }
        tar.finalize();
    })().catch((error: Error) => tar.destroy(error));
    // tar-stream's streams are streamx ones; Docker's client takes Node's.
    return Readable.from(tar);
}

async function waitHealthy(docker: Docker, name: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const state = (await docker.getContainer(name).inspect()).State;
        if (state.Health?.Status === "healthy") return;
        if (!state.Running) throw new Error(`${name} stopped (exit ${state.ExitCode}) while starting`);
        if (Date.now() > deadline) throw new Error(`${name} was not healthy within ${timeoutMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 2_000));
    }
}

interface RestoreRun {
    plan: TenantPlan;
    /** The backup sidecar, whose secrets and scripts the restore container gets. */
    sidecar: string;
    image: string;
    env: string[];
    set: string;
    /** Only the set's checks (whole, the tenant's key), on no network and changing nothing. */
    verifyOnly: boolean;
}

/** Runs fleet/restore.sh in a container of the sidecar's image, environment and secrets; its exit status. */
async function runRestoreScript(docker: Docker, run: RestoreRun): Promise<number> {
    const names = run.plan.names;
    const options: Docker.ContainerCreateOptions = {
        name: `${run.plan.id}-restore${run.verifyOnly ? "-check" : ""}`,
        Image: run.image,
        User: "0:0",
        Env: run.env,
        Cmd: [RESTORE_SCRIPT.path, ...(run.verifyOnly ? ["--verify"] : []), `${BACKUPS_DIR}/${run.set}`],
        HostConfig: {
            // The n8n volume is writable for the restore itself only.
            Binds: [`${names.volumes.backups}:${BACKUPS_DIR}:ro`, `${names.volumes.n8n}:${N8N_FILES_DIR}${run.verifyOnly ? ":ro" : ""}`],
            NetworkMode: run.verifyOnly ? "none" : names.networks.backend,
            CapDrop: ["ALL"],
            CapAdd: run.verifyOnly ? ["CAP_DAC_READ_SEARCH"] : ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"],
            SecurityOpt: ["no-new-privileges:true"],
        },
    };
    // The sidecar's secret files and the restore script it carries, where they are in the sidecar.
    const sidecar = docker.getContainer(run.sidecar);
    return runToEnd(docker, options, process.stderr, async (container) => {
        for (const path of [SECRETS_DIR, RESTORE_SCRIPT.path]) await container.putArchive(await sidecar.getArchive({ path }), { path: dirname(path) });
    });
}

async function main(): Promise<void> {
    const { values, positionals } = parseCommandLine(
        { allowPositionals: true, options: { from: { type: "string" }, stack: { type: "string", default: "dev" }, target: { type: "string" }, "key-file": { type: "string" }, "docker-host": { type: "string" }, dir: { type: "string" } } },
        USAGE,
    );
    const [tenantId, ...extra] = positionals;
    if (tenantId === undefined || extra.length > 0 || values.from === undefined) fail(USAGE, 2);
    const userDir = process.env.INIT_CWD ?? process.cwd();
    const key = values["key-file"] !== undefined ? readFileSync(resolve(userDir, values["key-file"]), "utf8").trim() : process.env.N8N_FLEET_ENCRYPTION_KEY;
    if (!key) fail(`no encryption key in hand.\n${USAGE}`, 2);

    const plan = loadTenant(values.dir === undefined ? PROJECT_ROOT : resolve(userDir, values.dir), values.stack, tenantId, values.target);
    const docker = dockerFor(plan, values["docker-host"]);
    const names = plan.names;
    const sidecar = docker.getContainer(names.backup);
    const sidecarInfo = await sidecar.inspect().catch(() => fail(`${names.backup} does not exist on ${plan.target.dockerHost}: deploy the tenant first.`));
    const image = sidecarInfo.Image;

    const localSet = resolve(userDir, values.from);
    const isLocal = existsSync(localSet) && statSync(localSet).isDirectory();
    // A set from elsewhere gets a name the sidecar's retention never prunes nor counts as one of its own.
    const setName = isLocal ? `imported-${basename(localSet)}` : values.from;
    const inVolume = (command: string[], writable = false) =>
        output(docker, image, command, [`${names.volumes.backups}:${BACKUPS_DIR}${writable ? "" : ":ro"}`], writable ? ["CAP_DAC_OVERRIDE"] : []);
    const removeImported = () => inVolume(["rm", "-rf", `${BACKUPS_DIR}/${setName}`], true);
    const runScript = (verifyOnly: boolean) => runRestoreScript(docker, { plan, sidecar: names.backup, image, env: sidecarInfo.Config.Env, set: setName, verifyOnly });
    const refuse = async (reason: string): Promise<never> => {
        if (isLocal) await removeImported();
        return fail(`refusing to restore ${setName} into ${plan.id}: ${reason}; nothing was changed.`, 3);
    };
    if (isLocal) {
        process.stderr.write(`copying ${localSet} into ${names.volumes.backups} as ${setName}\n`);
        await removeImported();
        await sidecar.putArchive(packSet(localSet, setName), { path: BACKUPS_DIR });
    }

    // Nothing has changed yet: refuse a set of another tenant or another key, and a damaged set or
    // one the tenant's deployed key cannot read, before any container is stopped.
    const manifest = await inVolume(["cat", `${BACKUPS_DIR}/${setName}/manifest.json`]).catch(() =>
        fail(`there is no set ${setName} in ${names.volumes.backups}. Sets: docker exec ${names.backup} ls ${BACKUPS_DIR}`),
    );
    const refusal = restoreRefusal(manifest, plan.id, key);
    if (refusal) await refuse(refusal);
    const verified = await runScript(true);
    if (verified !== 0) await refuse(`the set's checks above failed (exit ${verified})`);

    // Main, then each worker and its runner, in the order the program creates them.
    const n8nContainers = tenantContainers(plan).filter((spec) => N8N_ROLES.has(spec.role)).map((spec) => spec.name);
    process.stderr.write(`stopping ${n8nContainers.join(", ")}\n`);
    for (const name of [...n8nContainers].reverse()) {
        await docker
            .getContainer(name)
            .stop({ t: 45 })
            .catch((error: { statusCode?: number }) => {
                // 304: already stopped; 404: not there. Anything else must not let a restore run under a live n8n.
                if (error.statusCode !== 304 && error.statusCode !== 404) throw error;
            });
    }

    const status = await runScript(false);
    if (status !== 0) {
        if (status === 3) {
            process.stderr.write(`starting ${n8nContainers.join(", ")} again\n`);
            for (const name of n8nContainers) await docker.getContainer(name).start().catch(() => undefined);
            fail(`the restore refused ${setName} (above); nothing was changed.`, 3);
        }
        fail(`the restore failed (exit ${status}); ${plan.id}'s n8n containers are stopped. Fix the cause above and run the restore again.`);
    }

    process.stderr.write(`starting ${n8nContainers.join(", ")}\n`);
    await docker.getContainer(names.containers.main).start();
    await waitHealthy(docker, names.containers.main, 300_000);
    for (const name of n8nContainers.slice(1)) await docker.getContainer(name).start();
    process.stdout.write(`restored ${setName} into ${plan.id} on ${plan.target.name}\n`);
}

main().catch((error: unknown) => fail(`restore failed: ${(error as Error).message}`));
