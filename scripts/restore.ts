/**
 * `npm run restore -- <tenant> --from <set> [--stack <stack>] [--target <target>] [--key-file <file>] [--docker-host <url>] [--dir <folder>]`:
 * restores one backup set into a tenant's own containers, on its Docker host or, after the tenant
 * has been moved and deployed there, on another target.
 *
 * Before anything changes, the set's manifest must name the tenant, the key in hand must be the
 * one the set was taken with (its fingerprint), and its data must be from an n8n no newer than the
 * deployed one. Then the tenant's n8n containers stop, a set of the data as it is is taken (the
 * restore's undo), a one-off container of its backup image restores database and files, the
 * tenant's Redis is emptied of the queue and cache of a later moment, and n8n starts again, the
 * main first.
 * The set is a folder of the tenant's backup volume (`docker exec <tenant>-backup ls /backups`), or
 * a folder on this machine (a set copied off another host), which is copied into the volume first.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { BACKUPS_DIR, restoreRefusal } from "../fleet/containers/backup";
import { tenantContainers } from "../fleet/containers/tenantContainers";
import { loadFleetForStack, readTenantsFile, stackFileName, stackSettingsFromYaml } from "../fleet/stacks/stackFleet";
import { formatProblems } from "../fleet/forms/problems";
import type { TenantPlan } from "../fleet/tenants/plan";
import { REDIS_SECRET_FILES } from "../fleet/containers/redis";
import type Docker from "dockerode";
import { fail, parseCommandLine } from "./cli";
import { dockerFor, execOutput, output, waitHealthy } from "./dockerApi";
import { packSet, runRestoreScript, takeSetBeforeRestore } from "./restoreSet";

const PROJECT_ROOT = resolve(__dirname, "..");
/** The containers a restore stops while it replaces their data. */
const N8N_ROLES = new Set(["main", "worker", "runner"]);
const USAGE = [
    "usage: npm run restore -- <tenant> --from <set> [--stack <stack>] [--target <target>] [--key-file <file>] [--docker-host <url>] [--dir <folder>] [--any-version]",
    "  <set>: a folder of the tenant's backup volume (such as 20261126T020000Z-scheduled), or a set folder on this machine",
    "  the key: --key-file, or N8N_FLEET_ENCRYPTION_KEY; from `npm run pulumi -- stack output encryptionKeys --show-secrets` or the escrow",
    "  --dir: the folder of the Pulumi.<stack>.yaml files (default: the project)",
    "  --any-version: restore a set that records no n8n version (you know its data is not from a newer n8n)",
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

async function main(): Promise<void> {
    const { values, positionals } = parseCommandLine(
        { allowPositionals: true, options: { from: { type: "string" }, stack: { type: "string", default: "dev" }, target: { type: "string" }, "key-file": { type: "string" }, "docker-host": { type: "string" }, dir: { type: "string" }, "any-version": { type: "boolean", default: false } } },
        USAGE,
    );
    const [tenantId, ...extra] = positionals;
    if (tenantId === undefined || extra.length > 0) fail(USAGE, 2);
    if (values.from === undefined) {
        fail(`no backup set given for ${tenantId}. Fix: pass --from <set>; its sets are listed by \`docker exec ${tenantId}-backup ls /backups\` on its host (the newest scheduled one is last), or give a set folder copied to this machine.\n${USAGE}`, 2);
    }
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
    const refusal = restoreRefusal(manifest, { tenantId: plan.id, encryptionKey: key, deployedN8nVersion: plan.n8nVersion, anyVersion: values["any-version"] });
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

    // Undoable: the data as it is now, taken after n8n stopped and before anything is dropped.
    let undo: string;
    try {
        undo = await takeSetBeforeRestore(docker, { plan, sidecar: names.backup, image, env: sidecarInfo.Config.Env });
    } catch (error) {
        await startAgain(docker, n8nContainers);
        return fail(`${(error as Error).message}; nothing was restored and ${plan.id}'s n8n is running again.`);
    }
    process.stderr.write(`took ${undo} of the data as it was; to undo this restore: npm run restore -- ${plan.id} --from ${undo} --stack ${values.stack}\n`);

    const status = await runScript(false);
    if (status !== 0) {
        if (status === 3) {
            await startAgain(docker, n8nContainers);
            fail(`the restore refused ${setName} (above); nothing was changed.`, 3);
        }
        fail(`the restore failed (exit ${status}); ${plan.id}'s n8n containers are stopped. Fix the cause above and run the restore again, or go back to ${undo}.`);
    }

    // Queued jobs and n8n's cache are of a later moment than the restored database: a worker would
    // pick up jobs for execution ids the database hands out again. The tenant's own Redis only.
    process.stderr.write(`emptying ${names.containers.redis}\n`);
    await execOutput(docker, names.containers.redis, ["sh", "-c", `REDISCLI_AUTH="$(cat ${REDIS_SECRET_FILES.password.path})" redis-cli FLUSHALL`]);

    process.stderr.write(`starting ${n8nContainers.join(", ")}\n`);
    await docker.getContainer(names.containers.main).start();
    await waitHealthy(docker, names.containers.main, 300_000);
    for (const name of n8nContainers.slice(1)) await docker.getContainer(name).start();
    process.stdout.write(`restored ${setName} into ${plan.id} on ${plan.target.name}; the data before it is set ${undo}\n`);
}

async function startAgain(docker: Docker, containers: string[]): Promise<void> {
    process.stderr.write(`starting ${containers.join(", ")} again\n`);
    for (const name of containers) await docker.getContainer(name).start().catch(() => undefined);
}

main().catch((error: unknown) => fail(`restore failed: ${(error as Error).message}`));
