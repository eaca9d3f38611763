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
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { PassThrough, Readable } from "node:stream";
import Docker from "dockerode";
import { pack } from "tar-stream";
import { BACKUPS_DIR, N8N_FILES_DIR, RESTORE_SCRIPT, restoreRefusal } from "../fleet/backup";
import { loadFleetForStack, readTenantsFile, stackFileName, stackSettingsFromYaml } from "../fleet/stackFleet";
import { formatProblems } from "../fleet/problems";
import type { TenantPlan } from "../fleet/plan";
import { fail, parseCommandLine } from "./cli";

const PROJECT_ROOT = resolve(__dirname, "..");
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

async function output(docker: Docker, image: string, command: string[], binds: string[]): Promise<string> {
    const container = await docker.createContainer({ Image: image, Cmd: command, User: "0:0", HostConfig: { Binds: binds, NetworkMode: "none", CapDrop: ["ALL"], CapAdd: ["CAP_DAC_READ_SEARCH"] } });
    try {
        const chunks: Buffer[] = [];
        const stream = await container.attach({ stream: true, stdout: true, stderr: true });
        const done = new Promise<void>((ok) => stream.on("end", () => ok()));
        const out = new PassThrough();
        out.on("data", (chunk: Buffer) => chunks.push(chunk));
        docker.modem.demuxStream(stream, out, process.stderr);
        await container.start();
        const { StatusCode } = (await container.wait()) as { StatusCode: number };
        await done;
        if (StatusCode !== 0) throw new Error(`${command.join(" ")} exited ${StatusCode}`);
        return Buffer.concat(chunks).toString("utf8");
    } finally {
        await container.remove({ force: true });
    }
}

/** A local set folder as a tar stream, for putArchive into the backup volume. */
function packSet(folder: string): Readable {
    const tar = pack();
    const name = basename(folder);
    for (const file of ["manifest.json", "database.dump", "n8n-files.tar.gz"]) {
        const path = join(folder, file);
        if (!existsSync(path)) fail(`${folder} holds no ${file}: not a backup set`);
        tar.entry({ name: `${name}/${file}`, size: statSync(path).size, mode: 0o600 }, readFileSync(path));
    }
    tar.finalize();
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
    const setName = isLocal ? basename(localSet) : values.from;
    if (isLocal) {
        process.stderr.write(`copying ${localSet} into ${names.volumes.backups}\n`);
        await sidecar.putArchive(packSet(localSet), { path: BACKUPS_DIR });
    }

    // Nothing has changed yet: refuse a set of another tenant, or another key.
    const manifest = await output(docker, image, ["cat", `${BACKUPS_DIR}/${setName}/manifest.json`], [`${names.volumes.backups}:${BACKUPS_DIR}:ro`]).catch(() =>
        fail(`there is no set ${setName} in ${names.volumes.backups}. Sets: docker exec ${names.backup} ls ${BACKUPS_DIR}`),
    );
    const refusal = restoreRefusal(manifest, plan.id, key);
    if (refusal) fail(`refusing to restore ${setName} into ${plan.id}: ${refusal}; nothing was changed.`, 3);

    const n8nContainers = [names.containers.main, ...Array.from({ length: plan.workers }, (_, i) => [names.worker(i + 1), names.runner(i + 1)]).flat()];
    process.stderr.write(`stopping ${n8nContainers.join(", ")}\n`);
    for (const name of [...n8nContainers].reverse()) await docker.getContainer(name).stop({ t: 45 }).catch(() => undefined);

    // The sidecar's own image, environment and database password; the n8n volume writable this once.
    const restore = await docker.createContainer({
        name: `${plan.id}-restore`,
        Image: image,
        User: "0:0",
        Env: sidecarInfo.Config.Env,
        Cmd: [RESTORE_SCRIPT.path, `${BACKUPS_DIR}/${setName}`],
        HostConfig: {
            Binds: [`${names.volumes.backups}:${BACKUPS_DIR}:ro`, `${names.volumes.n8n}:${N8N_FILES_DIR}`],
            NetworkMode: names.networks.backend,
            CapDrop: ["ALL"],
            CapAdd: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"],
            SecurityOpt: ["no-new-privileges:true"],
        },
    });
    try {
        const secrets = await sidecar.getArchive({ path: "/run/secrets" });
        await restore.putArchive(secrets, { path: "/run" });
        await restore.putArchive(await sidecar.getArchive({ path: RESTORE_SCRIPT.path }), { path: "/usr/local/bin" });
        const stream = await restore.attach({ stream: true, stdout: true, stderr: true });
        docker.modem.demuxStream(stream, process.stderr, process.stderr);
        await restore.start();
        const { StatusCode } = (await restore.wait()) as { StatusCode: number };
        if (StatusCode !== 0) fail(`the restore failed (exit ${StatusCode}); ${plan.id}'s n8n containers are stopped. Fix the cause above and run the restore again.`);
    } finally {
        await restore.remove({ force: true });
    }

    process.stderr.write(`starting ${n8nContainers.join(", ")}\n`);
    await docker.getContainer(names.containers.main).start();
    await waitHealthy(docker, names.containers.main, 300_000);
    for (const name of n8nContainers.slice(1)) await docker.getContainer(name).start();
    process.stdout.write(`restored ${setName} into ${plan.id} on ${plan.target.name}\n`);
}

main().catch((error: unknown) => fail(`restore failed: ${(error as Error).message}`));
