/**
 * Each tenant's configuration, as the program declares it, runs: real PostgreSQL, Redis, n8n main
 * and worker per tenant on loopback, checked end to end. The containers' environment, commands
 * and init script come from the program under the mock monitor; tests/e2e/localize.ts is the
 * only rewrite. Needs Node 24, PostgreSQL server binaries, redis-server and n8n from npm (the
 * test installs n8n through .ci/install-n8n when the cache lacks it).
 */
import { FLEET_FILES_DIR } from "../../fleet/containers/containerSpec";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { PROJECT_ROOT, TYPES, processEnvOf, runFleet } from "../harness/runFleet";
import type { Registration } from "../harness/recordingMocks";
import { PINNED } from "../../fleet/tenants/versions";
import { LocalProcess, LocalSite, localizeBackup, localizeN8n, localizePostgres, localizeRedis } from "./localize";
import { keyFingerprint } from "../../fleet/containers/backup";
import { Running, freePort, ownedDir, postgresBinDir, postgresOsUser, runToEnd, start, stop, stopAll, tail, waitForHttp, writeFile } from "./processes";
import { N8nApi, callOutWorkflow, callWebhook, callWebhookOnceRegistered, sumWorkflow } from "./n8nApi";
import { createServer, Server } from "node:http";
import { fetch } from "../harness/http";

const TENANT_IDS = ["alpha", "beta"] as const;
const OWNER_PASSWORD = "Fleet-e2e-Passw0rd";

interface Tenant {
    id: string;
    site: LocalSite;
    containers: { postgres: Registration; redis: Registration; main: Registration; worker: Registration; backup: Registration };
    main: LocalProcess;
    worker: LocalProcess;
    processes: { postgres?: Running; redis?: Running; main?: Running; worker?: Running };
    api: N8nApi;
    ownerEmail: string;
    workflowId?: string;
    credentialId?: string;
    credentialSecret: string;
}

const workRoot = mkdtempSync(join(tmpdir(), "n8n-fleet-e2e-"));
// PostgreSQL runs as an unprivileged user and must reach its folders inside.
chmodSync(workRoot, 0o755);
const logDir = ownedDir(join(workRoot, "logs"));
const pgUser = postgresOsUser();
const pgBin = postgresBinDir();
let n8nBin = "";
const tenants = new Map<string, Tenant>();

function tenant(id: string): Tenant {
    const found = tenants.get(id);
    if (!found) throw new Error(`tenant ${id} was not set up`);
    return found;
}

function n8nVersionInstalled(dir: string): string {
    return JSON.parse(readFileSync(join(dir, "node_modules", "n8n", "package.json"), "utf8")).version;
}

async function siteFor(id: string): Promise<LocalSite> {
    const dir = join(workRoot, id);
    return {
        postgresPort: await freePort(),
        redisPort: await freePort(),
        mainPort: await freePort(),
        workerPort: await freePort(),
        mainBrokerPort: await freePort(),
        workerBrokerPort: await freePort(),
        postgresDataDir: ownedDir(join(dir, "postgres"), pgUser),
        postgresSocketDir: ownedDir(join(dir, "postgres-socket"), pgUser),
        redisDataDir: ownedDir(join(dir, "redis")),
        n8nUserFolder: ownedDir(join(dir, "n8n")),
        filesDir: ownedDir(join(dir, "files")),
    };
}

/** What the image's entrypoint does before `postgres` starts: initdb, the database, the init scripts. */
async function startPostgres(t: Tenant): Promise<void> {
    const local = localizePostgres(t.containers.postgres, t.site);
    const env = local.env;
    writeLocalFiles(local, pgUser);
    // The image trusts local socket connections and asks for a password over TCP (scram-sha-256); it reads the superuser's from its file.
    const init = await runToEnd(join(pgBin, "initdb"), ["-D", env.PGDATA, "-U", env.POSTGRES_USER, `--pwfile=${env.POSTGRES_PASSWORD_FILE}`, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8"], {}, pgUser);
    assert.equal(init.status, 0, `initdb for ${t.id} failed:\n${init.output}`);

    const [, ...args] = local.command;
    t.processes.postgres = start({ name: `${t.id}-postgres`, command: join(pgBin, "postgres"), args, env, logDir, ...pgUser, cwd: t.site.postgresDataDir });
    const socket = { PGHOST: t.site.postgresSocketDir, PGPORT: String(t.site.postgresPort) };
    const deadline = Date.now() + 60_000;
    while ((await runToEnd(join(pgBin, "pg_isready"), ["-q"], socket)).status !== 0) {
        assert.ok(Date.now() < deadline, `${t.id}'s PostgreSQL did not start:\n${tail(t.processes.postgres)}`);
        await new Promise((r) => setTimeout(r, 300));
    }
    const created = await runToEnd("psql", ["-v", "ON_ERROR_STOP=1", "-U", env.POSTGRES_USER, "-d", "postgres", "-c", `CREATE DATABASE "${env.POSTGRES_DB}"`], socket, pgUser);
    assert.equal(created.status, 0, created.output);

    // As the image's entrypoint does: the .sh files of its init folder (the container's secret files are in the same volume, and ignored).
    const scripts = local.files.filter((f) => f.containerPath.startsWith("/docker-entrypoint-initdb.d/") && f.containerPath.endsWith(".sh"));
    assert.ok(scripts.length > 0, "the PostgreSQL container declares no init script");
    for (const script of scripts) {
        const ran = await runToEnd("bash", [script.path], { ...env, ...socket }, pgUser);
        assert.equal(ran.status, 0, `${script.containerPath} failed for ${t.id}:\n${ran.output}`);
    }
}

/** The secrets the tenant's n8n reads from its files, for the checks that act as the tenant (or as another). */
function secretsOf(t: Tenant): Record<string, string> {
    return processEnvOf(t.containers.main);
}

/** Writes the files a container is given where its local process finds them, owned by the process's user. */
function writeLocalFiles(local: LocalProcess, owner?: { uid: number; gid: number }): void {
    for (const file of local.files) {
        ownedDir(dirname(file.path), owner);
        writeFile(file.path, file.content, owner, file.mode);
    }
}

function startRedis(t: Tenant): void {
    const local = localizeRedis(t.containers.redis, t.site);
    writeLocalFiles(local);
    const [command, ...args] = local.command;
    t.processes.redis = start({ name: `${t.id}-redis`, command, args, env: local.env, logDir });
}

function startN8n(t: Tenant, role: "main" | "worker", override: Record<string, string> = {}, name = `${t.id}-${role}`): Running {
    const local = role === "main" ? t.main : t.worker;
    writeLocalFiles(local);
    return start({ name, command: process.execPath, args: [n8nBin, ...local.command], env: { ...local.env, ...override }, logDir });
}

async function startMain(t: Tenant): Promise<void> {
    t.processes.main = startN8n(t, "main");
    await waitForHttp(t.processes.main, `http://127.0.0.1:${t.site.mainPort}/healthz/readiness`, `${t.id}'s n8n main readiness`);
}

async function startWorker(t: Tenant): Promise<void> {
    t.processes.worker = startN8n(t, "worker");
    await waitForHttp(t.processes.worker, `http://127.0.0.1:${t.site.workerPort}/healthz/readiness`, `${t.id}'s n8n worker health`);
}

const webhookUrl = (t: Tenant) => `http://127.0.0.1:${t.site.mainPort}/webhook/sum-${t.id}`;

/** The tenant's sum webhook, once publishing has registered it. */
const callSumWebhook = (t: Tenant, body: unknown) => callWebhookOnceRegistered(webhookUrl(t), body);

/** Polls the tenant's database, as n8n's own role, until an execution waits in the queue ("new"). */
async function waitForQueuedExecution(t: Tenant): Promise<void> {
    const deadline = Date.now() + 60_000;
    const env = t.main.env;
    for (;;) {
        const queued = await runToEnd(
            "psql",
            ["-h", "127.0.0.1", "-p", String(t.site.postgresPort), "-U", env.DB_POSTGRESDB_USER, "-d", env.DB_POSTGRESDB_DATABASE, "-tAc", "select count(*) from execution_entity where status = 'new'"],
            { PGPASSWORD: secretsOf(t).DB_POSTGRESDB_PASSWORD },
        );
        if (queued.status === 0 && Number(queued.output.trim()) > 0) return;
        assert.ok(Date.now() < deadline, `${t.id}: no execution was queued within 60 s:\n${queued.output}`);
        await new Promise((r) => setTimeout(r, 300));
    }
}

before(async () => {
    const installer = execFileSync(join(PROJECT_ROOT, ".ci", "install-n8n"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n");
    const n8nDir = installer[installer.length - 1];
    assert.equal(n8nVersionInstalled(n8nDir), PINNED.n8n, "the end-to-end test must run the n8n version the images pin");
    n8nBin = join(n8nDir, "node_modules", "n8n", "bin", "n8n");

    const run = await runFleet({
        // beta may call 127.0.0.1 (standing in for a partner's private service); alpha may not.
        tenants: { tenants: TENANT_IDS.map((id, i) => ({ id, port: 5801 + i, concurrency: 5, ...(id === "beta" ? { outbound: { allowIpRanges: ["127.0.0.1/32"] } } : {}) })) },
        targets: { local: { dockerHost: "unix:///var/run/docker.sock", publicHost: "localhost", acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32 } } },
        defaultTarget: "local",
    });
    for (const id of TENANT_IDS) {
        const containers = {
            postgres: run.named(`${id}-postgres`),
            redis: run.named(`${id}-redis`),
            main: run.named(`${id}-n8n`),
            worker: run.named(`${id}-n8n-worker-1`),
            backup: run.named(`${id}-backup`),
        };
        for (const c of Object.values(containers)) assert.equal(c.type, TYPES.container);
        const site = await siteFor(id);
        tenants.set(id, {
            id,
            site,
            containers,
            main: localizeN8n(containers.main, site, "main"),
            worker: localizeN8n(containers.worker, site, "worker"),
            processes: {},
            api: new N8nApi(`http://127.0.0.1:${site.mainPort}`),
            ownerEmail: `owner@${id}.example.com`,
            credentialSecret: `${id}-${randomBytes(12).toString("hex")}`,
        });
    }

    // Stores first, then every n8n process of both tenants at once, as Docker would start them.
    for (const t of tenants.values()) {
        await startPostgres(t);
        startRedis(t);
    }
    await Promise.all([...tenants.values()].flatMap((t) => [startMain(t), startWorker(t)]));
});

after(async () => {
    await stopAll();
    if (process.env.N8N_FLEET_KEEP_E2E !== "1") rmSync(workRoot, { recursive: true, force: true });
});

describe("each tenant runs as the program declares it", () => {
    test("the main is ready after migrations and the worker's health server answers", async () => {
        for (const t of tenants.values()) {
            assert.equal((await fetch(`http://127.0.0.1:${t.site.mainPort}/healthz/readiness`)).status, 200);
            assert.equal((await fetch(`http://127.0.0.1:${t.site.workerPort}/healthz/readiness`)).status, 200);
        }
    });

    test("every process reads its secrets from files: none is in its environment or command line", () => {
        for (const t of tenants.values()) {
            const secrets = Object.entries(secretsOf(t)).filter(([name]) => /(PASSWORD|KEY|TOKEN)$/.test(name)).map(([, value]) => value);
            assert.equal(secrets.length, 4, `${t.id}: database and Redis passwords, key, runner token`);
            const processes = { postgres: localizePostgres(t.containers.postgres, t.site), redis: localizeRedis(t.containers.redis, t.site), main: t.main, worker: t.worker };
            for (const [role, local] of Object.entries(processes)) {
                const plain = [...local.command, ...Object.values(local.env)].join("\n");
                for (const secret of secrets) assert.ok(!plain.includes(secret), `${t.id}'s ${role} gets a secret in its environment or command line`);
                assert.ok(local.files.some((f) => f.mode === 0o400), `${t.id}'s ${role} gets no secret file`);
            }
        }
    });

    test("the owner is set up, a Webhook + Code workflow is published, and the webhook returns the computed result", async () => {
        for (const t of tenants.values()) {
            await t.api.setupOwner(t.ownerEmail, OWNER_PASSWORD);
            t.workflowId = await t.api.publishWorkflow(sumWorkflow(t.id));
            const answer = await callSumWebhook(t, { a: 2, b: 40 });
            assert.equal(answer.status, 200, `${t.id}: ${JSON.stringify(answer.body)}\nworker log:\n${t.processes.worker ? tail(t.processes.worker) : ""}`);
            assert.deepEqual(answer.body, { sum: 42, tenant: t.id });
        }
    });

    test("executions run on the worker: with the worker stopped the call stays queued, and completes once it is back", async () => {
        for (const t of tenants.values()) {
            assert.ok(t.processes.worker);
            await stop(t.processes.worker);
            let early: unknown;
            const pending = callWebhook(webhookUrl(t), { a: 1, b: 2 }, 240_000).then((answer) => (early = answer));
            // Once the execution is recorded as queued, only a worker can run it: the call must still be open then.
            await waitForQueuedExecution(t);
            assert.equal(early, undefined, `${t.id}: the call was answered without a worker: ${JSON.stringify(early)}`);
            await startWorker(t);
            const answer = await pending;
            assert.equal(answer.status, 200);
            assert.deepEqual(answer.body, { sum: 3, tenant: t.id });
        }
    });

    test("a credential saved in a tenant reads back there (the Docker test checks that another tenant's key cannot decrypt it)", async () => {
        for (const t of tenants.values()) {
            // n8n never sends password fields back to the editor, so the header name carries the secret too.
            t.credentialId = await t.api.createCredential(`${t.id} API`, "httpHeaderAuth", { name: t.credentialSecret, value: t.credentialSecret });
            assert.equal((await t.api.credentialData(t.credentialId)).data.name, t.credentialSecret);
        }
    });

    test("one tenant's database role cannot log in to another's database, and one tenant's Redis refuses another's password", async () => {
        const [a, b] = [tenant("alpha"), tenant("beta")];
        const psql = (target: Tenant, as: Tenant) =>
            runToEnd("psql", ["-h", "127.0.0.1", "-p", String(target.site.postgresPort), "-U", as.main.env.DB_POSTGRESDB_USER, "-d", target.main.env.DB_POSTGRESDB_DATABASE, "-tAc", "select current_user"], {
                PGPASSWORD: secretsOf(as).DB_POSTGRESDB_PASSWORD,
                PGCONNECT_TIMEOUT: "5",
            });
        const redis = (target: Tenant, as: Tenant) =>
            runToEnd("redis-cli", ["-h", "127.0.0.1", "-p", String(target.site.redisPort), "--no-auth-warning", "-a", secretsOf(as).QUEUE_BULL_REDIS_PASSWORD, "ping"], {});
        for (const [target, other] of [[a, b], [b, a]]) {
            assert.match((await psql(target, target)).output, new RegExp(target.main.env.DB_POSTGRESDB_USER), `${target.id}'s own role cannot log in`);
            const intrusion = await psql(target, other);
            assert.notEqual(intrusion.status, 0, `${other.id}'s role logged in to ${target.id}'s database`);
            assert.match(intrusion.output, /password authentication failed|does not exist/);
            assert.match((await redis(target, target)).output, /PONG/);
            assert.match((await redis(target, other)).output, /WRONGPASS|NOAUTH|invalid/i, `${target.id}'s Redis accepted ${other.id}'s password`);
        }
    });

    test("a workflow cannot call a private address such as the host's own services; an allow-listed one it can", async () => {
        // A service on 127.0.0.1 stands in for the Docker host itself and for a private network.
        const calls: string[] = [];
        const server: Server = createServer((request, response) => {
            calls.push(request.url ?? "");
            response.setHeader("content-type", "application/json");
            response.end(JSON.stringify({ secret: "internal-only" }));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const { port } = server.address() as { port: number };
            const [alpha, beta] = [tenant("alpha"), tenant("beta")];
            for (const t of [alpha, beta]) await t.api.publishWorkflow(callOutWorkflow(t.id, `http://127.0.0.1:${port}/${t.id}`));
            const callOut = (t: Tenant) => callWebhookOnceRegistered(`http://127.0.0.1:${t.site.mainPort}/webhook/call-out-${t.id}`, {});
            const blocked = await callOut(alpha);
            assert.match(JSON.stringify(blocked.body), /The target 127\.0\.0\.1 is not allowed\. This is a security measure to prevent Server-Side Request Forgery/, `alpha's answer: ${JSON.stringify(blocked.body)}`);
            assert.match(JSON.stringify(blocked.body), /"name":"SsrfBlockedIpError"/);
            assert.ok(!calls.includes("/alpha"), "alpha's request reached the private service");
            const allowed = await callOut(beta);
            assert.equal(allowed.status, 200);
            assert.deepEqual(allowed.body, { secret: "internal-only" });
            assert.ok(calls.includes("/beta"));
        } finally {
            await new Promise((resolve) => server.close(resolve));
        }
    });

    test("with another encryption key than the one in its data folder, n8n refuses to start", async () => {
        const a = tenant("alpha");
        assert.ok(a.processes.main);
        await stop(a.processes.main);
        const wrongKey = startN8n(a, "main", { N8N_ENCRYPTION_KEY: randomBytes(24).toString("base64url") }, "alpha-main-wrong-key");
        let timer: NodeJS.Timeout | undefined;
        const exit = await Promise.race([wrongKey.exited, new Promise<string>((r) => (timer = setTimeout(() => r("still running"), 120_000)))]);
        // A pending timer would keep the finished suite alive for two minutes.
        clearTimeout(timer);
        assert.notEqual(exit, "still running", "n8n started with a different encryption key");
        assert.notEqual(exit, "0");
        assert.match(tail(wrongKey, 60), /Mismatching encryption keys/);
    });
    test("backup and restore drill: a set of the database and files without the key, a wrong key refused before any change, a destroyed tenant restored and working", async () => {
        const [a, b] = [tenant("alpha"), tenant("beta")];
        assert.ok(a.workflowId && a.credentialId);
        // The wrong-key check left alpha's main stopped.
        await startMain(a);
        await a.api.login(a.ownerEmail, OWNER_PASSWORD);

        // A tenant of some size: 100 workflows and 10,000 past executions (copies of a real one).
        for (let i = 0; i < 100; i++) await a.api.createWorkflow({ ...sumWorkflow(a.id), name: `drill ${i}`, nodes: (sumWorkflow(a.id).nodes as object[]).map((n) => ({ ...n, webhookId: undefined })) });
        const sql = (query: string) => runToEnd("psql", ["-h", "127.0.0.1", "-p", String(a.site.postgresPort), "-U", a.main.env.DB_POSTGRESDB_USER, "-d", a.main.env.DB_POSTGRESDB_DATABASE, "-v", "ON_ERROR_STOP=1", "-tAc", query], { PGPASSWORD: secretsOf(a).DB_POSTGRESDB_PASSWORD });
        const copied = await sql(`
            DO $$ DECLARE cols text; first int; last int; BEGIN
              SELECT min(id), max(id) INTO first, last FROM execution_entity;
              SELECT string_agg(quote_ident(column_name), ',') INTO cols FROM information_schema.columns WHERE table_name = 'execution_entity' AND column_name <> 'id';
              EXECUTE format('INSERT INTO execution_entity (%s) SELECT %s FROM execution_entity, generate_series(1, 10000 - (SELECT count(*) FROM execution_entity)::int) WHERE id = %s', cols, cols, first);
              SELECT string_agg(quote_ident(column_name), ',') INTO cols FROM information_schema.columns WHERE table_name = 'execution_data' AND column_name <> 'executionId';
              EXECUTE format('INSERT INTO execution_data ("executionId", %s) SELECT e.id, %s FROM execution_entity e, (SELECT * FROM execution_data WHERE "executionId" = %s) d WHERE e.id > %s', cols, (SELECT string_agg('d.' || quote_ident(column_name), ',') FROM information_schema.columns WHERE table_name = 'execution_data' AND column_name <> 'executionId'), first, last);
            END $$;
            SELECT (SELECT count(*) FROM workflow_entity) || ' ' || (SELECT count(*) FROM execution_entity);`);
        assert.equal(copied.status, 0, copied.output);
        const [workflows, executions] = (copied.output.trim().split("\n").at(-1) ?? "").split(" ").map(Number);
        assert.ok(workflows >= 100 && executions >= 10_000, copied.output);

        // The backup sidecar's own script and environment, once.
        const backupsDir = ownedDir(join(workRoot, "alpha-backups"));
        const backup = localizeBackup(a.containers.backup, a.site, backupsDir);
        writeLocalFiles(backup);
        const script = (name: string) => backup.files.find((f) => f.containerPath === `${FLEET_FILES_DIR}/${name}`)?.path ?? assert.fail(`no ${name} in the backup container`);
        let started = performance.now();
        const taken = await runToEnd("bash", [script("n8n-fleet-backup"), "once", "drill"], backup.env);
        const backupSeconds = (performance.now() - started) / 1000;
        assert.equal(taken.status, 0, taken.output);
        const setName = readdirSync(backupsDir).find((name) => name.endsWith("-drill")) ?? assert.fail(`no set in ${readdirSync(backupsDir)}`);
        const set = join(backupsDir, setName);
        const manifest = JSON.parse(readFileSync(join(set, "manifest.json"), "utf8"));
        assert.equal(manifest.tenant, "alpha");
        assert.equal(manifest.n8nVersion, PINNED.n8n);
        assert.equal(manifest.keyFingerprint, keyFingerprint(secretsOf(a).N8N_ENCRYPTION_KEY));
        assert.match(manifest.postgresVersion, /^\d+\.\d+/);
        assert.deepEqual(manifest.files.map((f: { name: string }) => f.name), ["database.dump", "n8n-files.tar.gz"]);
        const listed = await runToEnd("tar", ["-tzf", join(set, "n8n-files.tar.gz")], {});
        assert.ok(existsSync(join(a.site.n8nUserFolder, ".n8n", "config")), "n8n keeps its key in config");
        assert.doesNotMatch(listed.output, /^\.\/config$/m, "the key's config file was backed up");
        const setBytes = readdirSync(set).reduce((sum, name) => sum + statSync(join(set, name)).size, 0);

        // Another tenant's key: refused, and nothing changed.
        const restore = script("n8n-fleet-restore");
        const refused = await runToEnd("bash", [restore, set], { ...backup.env, KEY_FINGERPRINT: keyFingerprint(secretsOf(b).N8N_ENCRYPTION_KEY) });
        assert.equal(refused.status, 3, refused.output);
        assert.match(refused.output, /is not the one this set was taken with .* nothing was changed/);
        assert.equal((await sql("SELECT count(*) FROM workflow_entity")).output.trim(), String(workflows));

        // Destroy the tenant's data, deploy it afresh, restore.
        for (const proc of [a.processes.worker, a.processes.main, a.processes.postgres]) if (proc) await stop(proc);
        rmSync(a.site.postgresDataDir, { recursive: true, force: true });
        ownedDir(a.site.postgresDataDir, pgUser);
        rmSync(a.site.n8nUserFolder, { recursive: true, force: true });
        ownedDir(a.site.n8nUserFolder);
        await startPostgres(a);
        assert.equal((await sql("SELECT count(*) FROM pg_tables WHERE tablename = 'workflow_entity'")).output.trim(), "0", "the database was not destroyed");
        ownedDir(join(a.site.n8nUserFolder, ".n8n"));
        started = performance.now();
        const restored = await runToEnd("bash", [restore, set], backup.env);
        const restoreSeconds = (performance.now() - started) / 1000;
        assert.equal(restored.status, 0, restored.output);

        // The restored tenant: same owner, workflows and executions, its webhook answers through the worker, its credential decrypts.
        await startMain(a);
        await startWorker(a);
        await a.api.login(a.ownerEmail, OWNER_PASSWORD);
        assert.equal((await sql("SELECT count(*) FROM workflow_entity")).output.trim(), String(workflows));
        assert.equal((await sql("SELECT count(*) FROM execution_entity")).output.trim(), String(executions));
        assert.deepEqual((await callSumWebhook(a, { a: 40, b: 2 })).body, { sum: 42, tenant: "alpha" });
        assert.equal((await a.api.credentialData(a.credentialId)).data.name, a.credentialSecret);
        console.log(
            `backup and restore drill, ${workflows} workflows and ${executions} executions: backup ${backupSeconds.toFixed(1)} s, set ${(setBytes / 1024 / 1024).toFixed(1)} MiB, restore ${restoreSeconds.toFixed(1)} s`,
        );
    });
});
