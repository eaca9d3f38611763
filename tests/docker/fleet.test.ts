/**
 * The fleet the program declares, deployed into a real Docker daemon exactly as declared (the only
 * rewrites are listed in tests/docker/rewrites.ts and printed), then checked from the host and from
 * inside the containers: health through the declared health checks, the suspended tenant, published
 * ports, isolation between tenants and from the outside, a Code node through queue, worker and
 * external runner, per-tenant encryption keys, users, privileges and limits as the kernel enforces
 * them, what the Docker provider would read back, and data across restarts and re-creation.
 *
 * Run with `npm run test:docker` (a private daemon and the stand-in images; see tests/docker/).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify as stringifyYaml } from "yaml";
import type { Registration } from "../harness/recordingMocks";
import { PROJECT_ROOT, TYPES, processEnvOf } from "../harness/runFleet";
import { PINNED } from "../../fleet/tenants/versions";
import { BACKUP_SCRIPT, keyFingerprint } from "../../fleet/containers/backup";
import { PORTS } from "../../fleet/containers/containerSpec";
import { parseCpus } from "../../fleet/forms/dockerForms";
import { SERVICE_HOSTS } from "../../fleet/tenants/names";
import { N8nApi, callOutWorkflow, sumWorkflow } from "../e2e/n8nApi";
import { createServer } from "node:http";
import { Created, execIn, logsOf, poll, testDaemon } from "./client";
import { DeployedContainer, Deployment, deployLogged, removeContainers, restartContainers } from "./deploy";
import { MIB } from "./engine";
import { FLEET, DOCKER_TEST_TARGETS, Tenant, backupSidecar, declaredHealth, declaredLimits, fleetRegistrations, roleOf, tenantsOf, theOne, withRole } from "./fleetUnderTest";
import { fetch } from "../harness/http";
import { envelopeView, cgroupView, inspectContainer, processView, publishedPorts, readBackDifferences } from "./inspect";
import { LOG_MARKERS, TenantSetup, callWebhookOnceRegistered, editorUrl, finishedExecutions, runN8nCli, setUpTenant, settingOf } from "./n8nInContainer";
import { addressOn, connectFrom, connectOnHost, probeWithNode, startListener } from "./probes";
import { Phases, mib, printTable } from "./report";

const OWNER_PASSWORD = "Fleet-docker-Passw0rd";
/** Where the data tests leave a marker: a Redis key, and a file in the n8n data volume. */
const MARKER = { redisKey: "n8n-fleet-docker-test", n8nFile: "/home/node/.n8n/n8n-fleet-docker-test" };

const docker = testDaemon();
const created = new Created();
const phases = new Phases();
let registrations: Registration[] = [];
let deployment: Deployment = { containers: new Map(), rewrites: [] };
let deployFailure: Error | undefined;
let tenants = new Map<string, Tenant>();

/** What the workflow and credential tests leave in a tenant, for the data checks after restarts. */
interface TenantData extends TenantSetup {
    credentialId?: string;
    secret: string;
    /** Written to the tenant's Redis and n8n volume before the first restart. */
    marker: string;
}
const data = new Map<string, TenantData>();

const activeTenants = () => [...tenants.values()].filter((t) => t.active);
const allContainers = () => [...deployment.containers.values()];
const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** Fails with every problem found, one per line; each names its container, field and values. */
function assertNoProblems(problems: string[]): void {
    assert.equal(problems.length, 0, `\n${problems.join("\n")}`);
}

/** A test whose time counts as the "checks" phase. */
function check(name: string, body: () => Promise<void>): void {
    test(name, () => phases.time("checks", body));
}

/** Deploys (again), keeping what was created when it fails, so the checks can say what is wrong. */
async function deployFleet(only?: (r: Registration) => boolean): Promise<void> {
    ({ deployment, failure: deployFailure } = await deployLogged(docker, registrations, { created, only }));
    tenants = tenantsOf(registrations, deployment);
}

before(async () => {
    registrations = await fleetRegistrations();
    await phases.time("deploy", () => deployFleet());
    console.log(`Rewrites applied (tests/docker/rewrites.ts):\n${deployment.rewrites.map((line) => `  ${line}`).join("\n")}`);
});

after(async () => {
    const problems = await phases.time("clean-up", () => created.removeAll(docker));
    phases.print("Docker fleet test, time per phase");
    assertNoProblems(problems);
});

/** Linux capability numbers (linux/capability.h) of those the program gives back. */
const CAPABILITY_BITS: Record<string, number> = { CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_SETGID: 6, CAP_SETUID: 7, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13 };

/** redis-cli inside the tenant's Redis, authenticated the way its health check is: with the password from its file. */
function redisCli(...args: string[]): string[] {
    return ["sh", "-c", 'REDISCLI_AUTH="$(cat /run/n8n-fleet/redis-password)" exec redis-cli "$@"', "redis-cli", ...args];
}

/** The marker in a tenant's Redis and in its n8n data volume (read through its main), or what went wrong reading them. */
async function markersOf(t: Tenant): Promise<{ redis: string; n8n: string }> {
    const [redis, n8n] = await Promise.all([
        execIn(docker, theOne(t, "redis").plan.name, redisCli("GET", MARKER.redisKey)),
        execIn(docker, theOne(t, "main").plan.name, ["node", "-e", `process.stdout.write(require("node:fs").readFileSync(${JSON.stringify(MARKER.n8nFile)}, "utf8"))`]),
    ]);
    return { redis: redis.stdout.trim() || redis.stderr.trim(), n8n: n8n.stdout || n8n.stderr.trim() };
}

/** Writes each active tenant's marker into its Redis and its n8n data volume; they must survive restarts and re-creation. */
async function writeMarkers(): Promise<string[]> {
    const problems: string[] = [];
    for (const t of activeTenants()) {
        const stored = data.get(t.id);
        if (!stored) continue;
        await execIn(docker, theOne(t, "redis").plan.name, redisCli("SET", MARKER.redisKey, stored.marker));
        await execIn(docker, theOne(t, "main").plan.name, ["node", "-e", `require("node:fs").writeFileSync(${JSON.stringify(MARKER.n8nFile)}, ${JSON.stringify(stored.marker)})`]);
        const written = await markersOf(t);
        if (written.redis !== stored.marker || written.n8n !== stored.marker) problems.push(`${t.id}: the markers did not read back right after writing: ${JSON.stringify(written)}`);
    }
    return problems;
}

/** Everything each active tenant stored: owner, published workflow, credential, markers in Redis and the n8n volume, all readable and working. */
async function dataProblems(when: string): Promise<string[]> {
    const problems: string[] = [];
    for (const t of activeTenants()) {
        const stored = data.get(t.id);
        if (!stored) {
            problems.push(`${t.id}: nothing was stored before ${when} (the workflow test failed)`);
            continue;
        }
        try {
            const api = new N8nApi(stored.url);
            await api.login(stored.email, stored.password);
            const workflow = await api.workflow(stored.workflowId);
            if (!workflow.active && !workflow.activeVersionId) problems.push(`${t.id}: workflow ${stored.workflowId} is no longer published ${when}`);
            if (stored.credentialId !== undefined) {
                const credential = await api.credentialData(stored.credentialId);
                if (credential.data.name !== stored.secret) problems.push(`${t.id}: credential ${stored.credentialId} no longer decrypts to what was saved ${when}`);
            }
            const answer = await callWebhookOnceRegistered(stored.webhook, { a: 20, b: 22 });
            if (answer.status !== 200 || JSON.stringify(answer.body) !== JSON.stringify({ sum: 42, tenant: t.id })) {
                problems.push(`${t.id}: the webhook answered ${answer.status} ${JSON.stringify(answer.body)} ${when}, expected 200 {"sum":42,"tenant":"${t.id}"}`);
            }
        } catch (error) {
            problems.push(`${t.id}: n8n ${when}: ${(error as Error).message}`);
        }
        const markers = await markersOf(t);
        if (markers.redis !== stored.marker) problems.push(`${theOne(t, "redis").plan.name}: the marker key written before reads ${JSON.stringify(markers.redis)} ${when}, expected ${stored.marker}`);
        if (markers.n8n !== stored.marker) problems.push(`${theOne(t, "main").plan.name}: ${MARKER.n8nFile} in the n8n volume reads ${JSON.stringify(markers.n8n)} ${when}, expected ${stored.marker}`);
    }
    return problems;
}

describe("the declared fleet on a real Docker daemon", () => {
    test("every started container became healthy through its declared health check, no probe failing after its start period; every one-shot exited 0", async () => {
        if (deployFailure) assert.fail(deployFailure.message);
        const problems: string[] = [];
        const rows: (string | number)[][] = [];
        for (const c of allContainers().filter((container) => container.plan.lifecycle.start)) {
            if (c.plan.lifecycle.attach) {
                const exitCode = c.ran?.exitCode;
                if (exitCode !== 0) problems.push(`${c.plan.name}: the one-shot exited with code ${exitCode}\n${c.ran?.logs.slice(-1500) ?? ""}`);
                rows.push([c.plan.name, "(one-shot)", "", `exit ${exitCode}`, ""]);
                continue;
            }
            const { startPeriod, interval, startPeriodMs } = declaredHealth(c);
            const record = c.health;
            if (!record) {
                // Not awaited by the deployment (the backup sidecar): Docker's own status must turn healthy
                // within its start period and retries, as its health check declares.
                const { retries, intervalMs } = declaredHealth(c);
                const waited = await poll(`${c.plan.name} healthy`, startPeriodMs + (retries + 1) * intervalMs, async () =>
                    (await docker.getContainer(c.plan.name).inspect()).State.Health?.Status === "healthy" ? true : undefined,
                ).catch((error: Error) => error);
                if (waited instanceof Error) problems.push(`${c.plan.name}: ${waited.message}`);
                rows.push([c.plan.name, startPeriod, interval, waited instanceof Error ? "never" : "(not awaited)", ""]);
                continue;
            }
            const healthyAfter = record.healthyAt - record.startedAt;
            const failed = record.probes.filter((p) => p.exitCode !== 0);
            const late = failed.filter((p) => p.start - record.startedAt > startPeriodMs);
            if (late.length > 0) {
                problems.push(`${c.plan.name}: ${late.length} probe(s) failed after its ${startPeriod} start period; healthy only ${seconds(healthyAfter)} s after start; first late failure: ${late[0].output.trim().slice(0, 200)}`);
            }
            rows.push([c.plan.name, startPeriod, interval, seconds(healthyAfter), failed.length]);
        }
        printTable("Time to healthy after start", ["container", "start period", "interval", "healthy after (s)", "failed probes"], rows);
        assertNoProblems(problems);
    });

    check("the suspended tenant's containers exist and are not running, and its volumes and networks exist", async () => {
        const suspended = [...tenants.values()].filter((t) => !t.active);
        assert.ok(suspended.length > 0, "the test fleet declares no suspended tenant");
        const problems: string[] = [];
        for (const t of suspended) {
            problems.push(...t.missing.map((name) => `${name} of suspended tenant ${t.id} was not created`));
            for (const c of t.containers) {
                const state = (await inspectContainer(docker, c.plan.name)).State;
                // The one-shots that write files and set volume owners run whatever the status, to their end.
                if (c.declared.inputs.attach === true && c.plan.lifecycle.start) {
                    if (state.Running || state.Status !== "exited" || state.ExitCode !== 0) problems.push(`${c.plan.name} of suspended tenant ${t.id} is ${state.Status} (exit ${state.ExitCode}), expected run to its end with 0`);
                    continue;
                }
                if (state.Running || state.Status !== "created") problems.push(`${c.plan.name} of suspended tenant ${t.id} is ${state.Status}, expected created and never started`);
            }
            for (const volume of t.volumes) await docker.getVolume(volume).inspect().catch((error: Error) => problems.push(`volume ${volume} of suspended tenant ${t.id}: ${error.message}`));
            for (const network of t.networks.values()) await docker.getNetwork(network).inspect().catch((error: Error) => problems.push(`network ${network} of suspended tenant ${t.id}: ${error.message}`));
        }
        assertNoProblems(problems);
    });

    check("each editor answers on its published host port, on 127.0.0.1 only", async () => {
        const problems: string[] = [];
        for (const t of activeTenants()) {
            const main = theOne(t, "main");
            const url = editorUrl(main);
            for (const port of publishedPorts(await inspectContainer(docker, main.plan.name))) {
                if (port.ip !== "127.0.0.1") problems.push(`${main.plan.name}: port ${port.external} is published on ${port.ip}, expected 127.0.0.1`);
            }
            for (const path of ["/healthz/readiness", "/"]) {
                const answer = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) }).then(
                    async (response) => ({ status: response.status, body: await response.text() }),
                    (error: Error) => ({ status: 0, body: error.message }),
                );
                if (answer.status !== 200) problems.push(`${main.plan.name}: ${url}${path} answered ${answer.status} ${answer.body.slice(0, 200)}`);
            }
        }
        assertNoProblems(problems);
    });

    check("PostgreSQL, Redis, workers and runners publish nothing: no binding in docker inspect, nothing answering on the host", async () => {
        const problems: string[] = [];
        const containerPorts = new Set<number>(Object.values(PORTS));
        for (const c of allContainers()) {
            const info = await inspectContainer(docker, c.plan.name);
            for (const key of Object.keys(info.Config.ExposedPorts ?? {})) containerPorts.add(Number(key.split("/")[0]));
            if (roleOf(c) === "main") continue;
            const published = publishedPorts(info);
            if (published.length > 0) problems.push(`${c.plan.name} publishes ${published.map((p) => `${p.ip}:${p.external}->${p.internal}`).join(", ")}; only editors may`);
        }
        for (const port of containerPorts) {
            const answer = await connectOnHost("127.0.0.1", port);
            if (answer.connected) problems.push(`127.0.0.1:${port} accepts a connection on the host: a container port is published there (or another program listens on it)`);
        }
        assertNoProblems(problems);
    });

    check("another tenant's PostgreSQL and Redis neither resolve nor accept a connection from a tenant's n8n", async () => {
        const problems: string[] = [];
        const rows: string[][] = [];
        for (const from of activeTenants()) {
            for (const target of activeTenants().filter((t) => t !== from)) {
                const probe = theOne(from, "main").plan.name;
                const [targetPostgres, targetRedis] = [theOne(target, "postgres").plan.name, theOne(target, "redis").plan.name];
                const targetBackend = target.networks.get("backend") ?? "";
                const [postgresAddress, redisAddress, ownPostgresAddress] = await Promise.all([
                    addressOn(docker, targetPostgres, targetBackend),
                    addressOn(docker, targetRedis, targetBackend),
                    addressOn(docker, theOne(from, "postgres").plan.name, from.networks.get("backend") ?? ""),
                ]);
                const result = await probeWithNode(
                    docker,
                    probe,
                    [targetPostgres, targetRedis, SERVICE_HOSTS.postgres],
                    [
                        { host: postgresAddress, port: PORTS.postgres },
                        { host: redisAddress, port: PORTS.redis },
                        { host: SERVICE_HOSTS.postgres, port: PORTS.postgres },
                    ],
                );
                const [lookupPostgres, lookupRedis, lookupOwn] = result.lookups;
                const [toPostgres, toRedis, toOwn] = result.connections;
                for (const lookup of [lookupPostgres, lookupRedis]) {
                    if (lookup.addresses.length > 0) problems.push(`${probe} resolves ${lookup.name} (tenant ${target.id}) to ${lookup.addresses.join(", ")}`);
                }
                for (const connection of [toPostgres, toRedis]) {
                    if (connection.connected) problems.push(`${probe} connects to ${connection.host}:${connection.port} of tenant ${target.id}`);
                }
                // Controls: the probe does find and reach its own tenant's PostgreSQL.
                if (JSON.stringify(lookupOwn.addresses) !== JSON.stringify([ownPostgresAddress])) problems.push(`control: ${probe} resolves its own "${SERVICE_HOSTS.postgres}" to ${JSON.stringify(lookupOwn.addresses)} (${lookupOwn.error ?? ""}), expected ${ownPostgresAddress}`);
                if (!toOwn.connected) problems.push(`control: ${probe} cannot connect to its own PostgreSQL (${toOwn.error}), so the probe proves nothing`);
                rows.push([probe, target.id, `${lookupPostgres.error}, ${lookupRedis.error}`, `${toPostgres.error}, ${toRedis.error}`]);
            }
        }
        printTable("Another tenant's stores, seen from an n8n container", ["from", "tenant", "lookups", "connections"], rows);
        assertNoProblems(problems);
    });

    check("backend networks are internal and egress networks are not, as Docker reports them", async () => {
        const problems: string[] = [];
        for (const network of registrations.filter((r) => r.type === TYPES.network)) {
            const name = String(network.inputs.name);
            const declared = network.inputs.internal === true;
            const reported = (await docker.getNetwork(name).inspect()).Internal === true;
            if (reported !== declared) problems.push(`network ${name}: declared internal ${declared}, Docker reports internal ${reported}`);
        }
        assertNoProblems(problems);
    });

    check("a container only on its backend network cannot connect to a listener on a network of its own", async () => {
        const runner = activeTenants().flatMap((t) => withRole(t, "runner"))[0];
        assert.ok(runner, "no runner container is deployed");
        const listener = await startListener(docker, created, runner.image, "n8n-fleet-test-listener");
        const control = await connectFrom(docker, listener.container, listener.address, listener.port);
        assert.ok(control.connected, `control: the listener does not accept a connection on its own network (${control.error})`);

        const backendOnly: DeployedContainer[] = [];
        const addresses = new Map<string, string>();
        for (const t of activeTenants()) {
            for (const c of t.containers) {
                const info = await inspectContainer(docker, c.plan.name);
                const networks = Object.entries(info.NetworkSettings.Networks);
                for (const [, settings] of networks) addresses.set(settings.IPAddress, c.plan.name);
                // A one-shot that has run to its end (the backup before an upgrade) has no process to connect from.
                if (info.State.Running && networks.length === 1 && networks[0][0] === t.networks.get("backend")) backendOnly.push(c);
            }
        }
        const roles = new Set(backendOnly.map(roleOf));
        assert.deepEqual([...roles].sort(), ["backup", "postgres", "redis", "runner"], "the containers only on a backend network should be PostgreSQL, the backups, Redis and the runners");

        const results = await Promise.all(backendOnly.map((c) => connectFrom(docker, c.plan.name, listener.address, listener.port).then((result) => ({ c, result }))));
        const problems = results.filter(({ result }) => result.connected).map(({ c }) => `${c.plan.name} connected to the listener at ${listener.address}:${listener.port} on ${listener.network}`);
        for (const source of await listener.acceptedFrom()) {
            if (addresses.has(source)) problems.push(`the listener accepted a connection from ${source} (${addresses.get(source)})`);
        }
        printTable("Backend-only containers to an outside listener", ["container", "outcome"], results.map(({ c, result }) => [c.plan.name, result.connected ? "connected" : `refused: ${result.error}`]));
        assertNoProblems(problems);
    });

    check("no container of one tenant is on a network of another tenant", async () => {
        const owner = new Map<string, string>();
        for (const t of tenants.values()) for (const network of t.networks.values()) owner.set(network, t.id);
        const problems: string[] = [];
        for (const t of tenants.values()) {
            for (const c of t.containers) {
                for (const network of Object.keys((await inspectContainer(docker, c.plan.name)).NetworkSettings.Networks)) {
                    // The one-shots that touch only volumes are on no network at all.
                    if (network === "none") continue;
                    const networkOwner = owner.get(network);
                    if (networkOwner !== t.id) problems.push(`${c.plan.name} (tenant ${t.id}) is on ${network}, ${networkOwner ? `a network of tenant ${networkOwner}` : "which is no network of its tenant"}`);
                }
            }
        }
        assertNoProblems(problems);
    });

    check("a Code node runs through the queue on a worker and its external runner, for each tenant", async () => {
        const problems: string[] = [];
        for (const t of activeTenants()) {
            const main = theOne(t, "main");
            let setup: TenantSetup;
            try {
                setup = await setUpTenant(main, t.id, OWNER_PASSWORD);
            } catch (error) {
                const cause = (error as Error).cause instanceof Error ? ` (${((error as Error).cause as Error).message})` : "";
                problems.push(`${t.id}: setting up its owner and workflow at ${editorUrl(main)} failed: ${(error as Error).message}${cause}`);
                continue;
            }
            data.set(t.id, { ...setup, secret: `${t.id}-${randomBytes(12).toString("hex")}`, marker: randomBytes(8).toString("hex") });

            const workers = withRole(t, "worker");
            const answer = await callWebhookOnceRegistered(setup.webhook, { a: 2, b: 40 });
            if (answer.status !== 200 || JSON.stringify(answer.body) !== JSON.stringify({ sum: 42, tenant: t.id })) {
                const logs = await Promise.all(workers.map(async (w) => `--- ${w.plan.name}:\n${await logsOf(docker, w.plan.name, 20)}`));
                problems.push(`${t.id}: the webhook answered ${answer.status} ${JSON.stringify(answer.body)}, expected 200 {"sum":42,"tenant":"${t.id}"}\n${logs.join("\n")}`);
            }
            for (const worker of workers) {
                if (!(await logsOf(docker, worker.plan.name)).includes(LOG_MARKERS.runnerRegistered)) problems.push(`${worker.plan.name}: its log never shows ${LOG_MARKERS.runnerRegistered}`);
            }
            for (const runner of withRole(t, "runner")) {
                if (!(await logsOf(docker, runner.plan.name)).includes(LOG_MARKERS.grantObtained)) problems.push(`${runner.plan.name}: its log never shows "${LOG_MARKERS.grantObtained}"`);
            }
            const finished = (await Promise.all(workers.map((w) => finishedExecutions(docker, w.plan.name)))).flat();
            if (finished.length === 0) problems.push(`${t.id}: no worker logged finishing an execution, so the call did not run through the queue`);
        }
        assertNoProblems(problems);
    });

    check("a workflow cannot reach the Docker host through its network's gateway; the tenant that allows private ranges can", async () => {
        const problems: string[] = [];
        for (const t of activeTenants()) {
            const stored = data.get(t.id);
            if (!stored) continue;
            // A service of the host itself, on the host's own address on the tenant's egress bridge.
            const gateway = (await docker.getNetwork(`${t.id}-egress`).inspect()).IPAM?.Config?.[0]?.Gateway ?? assert.fail(`${t.id}-egress has no gateway`);
            const calls: string[] = [];
            const server = createServer((request, response) => {
                calls.push(request.url ?? "");
                response.setHeader("content-type", "application/json");
                response.end(JSON.stringify({ host: "secret" }));
            });
            await new Promise<void>((resolve) => server.listen(0, gateway, resolve));
            try {
                const { port } = server.address() as { port: number };
                const api = new N8nApi(stored.url);
                await api.login(stored.email, stored.password);
                await api.publishWorkflow(callOutWorkflow(t.id, `http://${gateway}:${port}/${t.id}`));
                const answer = await callWebhookOnceRegistered(`${stored.url}/webhook/call-out-${t.id}`, {});
                const allowed = t.id === "beta";
                const reached = calls.includes(`/${t.id}`);
                if (allowed && (!reached || JSON.stringify(answer.body) !== JSON.stringify({ host: "secret" }))) problems.push(`${t.id}: allowed to call ${gateway}, it got ${JSON.stringify(answer.body)}`);
                if (!allowed && (reached || !/"name":"SsrfBlockedIpError"/.test(JSON.stringify(answer.body)))) problems.push(`${t.id}: its request to the host at ${gateway} was not blocked: ${JSON.stringify(answer.body)}`);
            } finally {
                await new Promise((resolve) => server.close(resolve));
            }
        }
        assertNoProblems(problems);
    });

    check("a credential saved in one tenant decrypts with that tenant's key and not with another tenant's", async () => {
        const [a, b] = activeTenants();
        for (const t of [a, b]) {
            const stored = data.get(t.id);
            assert.ok(stored, `${t.id}: the workflow test did not set up its owner`);
            const api = new N8nApi(stored.url);
            await api.login(stored.email, stored.password);
            // n8n never sends password fields back to the editor, so the header name carries the secret too.
            stored.credentialId = await api.createCredential(`${t.id} API`, "httpHeaderAuth", { name: stored.secret, value: stored.secret });
            assert.equal((await api.credentialData(stored.credentialId)).data.name, stored.secret, `${t.id}: its own credential does not read back`);
        }
        const mainA = theOne(a, "main");
        const secretA = data.get(a.id)?.secret ?? "";
        const exportWith = (keyOwner: Tenant) =>
            runN8nCli(docker, created, mainA, `${a.id}-cli-with-${keyOwner.id}-key`, ["export:credentials", "--all", "--decrypted"], {
                N8N_ENCRYPTION_KEY: settingOf(theOne(keyOwner, "main").registration, "N8N_ENCRYPTION_KEY"),
            });
        const [own, foreign] = await Promise.all([exportWith(a), exportWith(b)]);
        assert.ok(own.logs.includes(secretA), `n8n's CLI with ${a.id}'s own key did not decrypt ${a.id}'s credential (exit ${own.exitCode}):\n${own.logs.slice(-1500)}`);
        assert.ok(!foreign.logs.includes(secretA), `n8n's CLI with ${b.id}'s key decrypted ${a.id}'s credential`);
        assert.ok(foreign.logs.includes(LOG_MARKERS.decryptionFailed), `n8n's CLI with ${b.id}'s key did not report "${LOG_MARKERS.decryptionFailed}" (exit ${foreign.exitCode}):\n${foreign.logs.slice(-1500)}`);
    });

    check("every container runs with its declared user, no-new-privileges, dropped capabilities, memory limit and CPU quota or weight, each tenant's in its envelope", async () => {
        const problems: string[] = [];
        const rows: (string | number)[][] = [];
        for (const c of allContainers()) {
            const name = c.plan.name;
            const declared = declaredLimits(c);
            const info = await inspectContainer(docker, name);
            const memory = BigInt(declared.memoryMb) * BigInt(MIB);
            const swap = BigInt(declared.memorySwapMb) * BigInt(MIB);
            const nanoCpus = declared.cpus === undefined ? 0n : parseCpus(declared.cpus);
            const cpuText = declared.cpus ?? `shares ${declared.cpuShares} in ${declared.cgroupParent}`;
            const noNewPrivileges = declared.securityOpts.includes("no-new-privileges:true");

            // As Docker reports them; without a declared user Docker reports the image's.
            if (declared.user !== undefined && info.Config.User !== declared.user) problems.push(`${name}: Docker runs it as user "${info.Config.User}", declared "${declared.user}"`);
            if (noNewPrivileges && !(info.HostConfig.SecurityOpt ?? []).includes("no-new-privileges:true")) problems.push(`${name}: Docker reports security options ${JSON.stringify(info.HostConfig.SecurityOpt)}, declared no-new-privileges`);
            if (JSON.stringify(info.HostConfig.CapDrop ?? []) !== JSON.stringify(declared.capabilityDrops)) problems.push(`${name}: Docker drops capabilities ${JSON.stringify(info.HostConfig.CapDrop)}, declared ${JSON.stringify(declared.capabilityDrops)}`);
            if (BigInt(info.HostConfig.Memory ?? 0) !== memory) problems.push(`${name}: Docker's memory limit is ${info.HostConfig.Memory} bytes, declared ${declared.memoryMb} MB = ${memory} bytes`);
            if (BigInt(info.HostConfig.NanoCpus ?? 0) !== nanoCpus) problems.push(`${name}: Docker's NanoCpus is ${info.HostConfig.NanoCpus}, declared cpus "${declared.cpus}" = ${nanoCpus}`);
            if ((info.HostConfig.CpuShares ?? 0) !== (declared.cpuShares ?? 0)) problems.push(`${name}: Docker's CpuShares is ${info.HostConfig.CpuShares}, declared ${declared.cpuShares}`);
            if ((info.HostConfig.CgroupParent ?? "") !== (declared.cgroupParent ?? "")) problems.push(`${name}: Docker's CgroupParent is "${info.HostConfig.CgroupParent}", declared "${declared.cgroupParent}"`);
            if (!info.State.Running) {
                rows.push([name, declared.user ?? `(image: ${info.Config.User || "root"})`, "not running", "", mib(memory), mib(swap), cpuText]);
                continue;
            }

            // As the kernel enforces them on the running container.
            const process = processView(info.State.Pid);
            const cgroup = cgroupView(info.State.Pid);
            if (noNewPrivileges && !process.noNewPrivileges) problems.push(`${name}: its main process (pid ${info.State.Pid}) has NoNewPrivs 0`);
            if (declared.capabilityDrops.includes("ALL")) {
                const expected = declared.capabilityAdds.reduce((mask, cap) => mask | (1n << BigInt(CAPABILITY_BITS[cap] ?? assert.fail(`${name}: add ${cap} to CAPABILITY_BITS`))), 0n);
                if (process.boundingCapabilities !== expected) {
                    problems.push(`${name}: its capability bounding set is 0x${process.boundingCapabilities.toString(16)}, declared drops ALL and adds ${JSON.stringify(declared.capabilityAdds)} (0x${expected.toString(16)})`);
                }
            }
            if (declared.user !== undefined) {
                const user = declared.user.split(":")[0];
                const uid = /^\d+$/.test(user) ? Number(user) : Number((await execIn(docker, name, ["id", "-u", user])).stdout.trim());
                if (process.uids[1] !== uid) problems.push(`${name}: its main process runs as uid ${process.uids[1]}, declared user ${declared.user} (uid ${uid})`);
            }
            if (cgroup.memoryLimit !== memory) problems.push(`${name}: memory.limit_in_bytes is ${cgroup.memoryLimit}, declared ${declared.memoryMb} MB = ${memory}`);
            if (cgroup.memoryAndSwapLimit !== swap) problems.push(`${name}: memory.memsw.limit_in_bytes is ${cgroup.memoryAndSwapLimit}, declared memorySwap ${declared.memorySwapMb} MB = ${swap}`);
            if (declared.cgroupParent !== undefined) {
                // A tenant's container: no quota of its own, its weight, inside its tenant's envelope.
                if (cgroup.cpuQuotaMicros !== -1n) problems.push(`${name}: cpu.cfs_quota_us is ${cgroup.cpuQuotaMicros}; a tenant's container has none of its own`);
                if (cgroup.cpuShares !== BigInt(declared.cpuShares ?? 0)) problems.push(`${name}: cpu.shares is ${cgroup.cpuShares}, declared ${declared.cpuShares}`);
                if (!cgroup.cpuPath.startsWith(`${declared.cgroupParent}/`)) problems.push(`${name}: its cpu cgroup is ${cgroup.cpuPath}, not under its envelope ${declared.cgroupParent}`);
            } else if ((cgroup.cpuQuotaMicros * 1_000_000_000n) / cgroup.cpuPeriodMicros !== nanoCpus) {
                problems.push(`${name}: cpu.cfs_quota_us / cpu.cfs_period_us is ${cgroup.cpuQuotaMicros} / ${cgroup.cpuPeriodMicros}, declared cpus "${declared.cpus}"`);
            }
            rows.push([
                name,
                `${declared.user ?? `(image: ${info.Config.User || "root"})`} -> uid ${process.uids[1]}`,
                process.noNewPrivileges ? "yes" : "no",
                `0x${process.boundingCapabilities.toString(16)}`,
                mib(cgroup.memoryLimit),
                mib(cgroup.memoryAndSwapLimit),
                declared.cgroupParent === undefined ? `${cgroup.cpuQuotaMicros}/${cgroup.cpuPeriodMicros}` : `shares ${cgroup.cpuShares} in ${cgroup.cpuPath.split("/").slice(0, -1).join("/")}`,
            ]);
        }
        printTable("Users, privileges and limits as enforced", ["container", "user", "no_new_privs", "CapBnd", "memory MiB", "mem+swap MiB", "CPU: own CFS quota/period, or weight in the envelope"], rows);

        // Each tenant's envelope holds what the keeper's rules declare (fleet/containers/envelopes.ts).
        const keeper = allContainers().find((c) => c.registration.inputs.labels?.some((l: { label: string; value: string }) => l.value === "envelopes"));
        assert.ok(keeper, "no envelope keeper was deployed");
        const env = (keeper.registration.inputs.envs as string[]).find((e) => e.startsWith("ENVELOPE_RULES=")) ?? "";
        const parentOf = new Map(allContainers().flatMap((c) => (c.registration.inputs.cgroupParent ? [[String(c.registration.inputs.cgroupParent).split("/")[2], String(c.registration.inputs.cgroupParent)] as const] : [])));
        const envelopeRows: string[][] = [];
        for (const line of env.slice("ENVELOPE_RULES=".length).split("\n").filter((l) => l !== "")) {
            const [tenant, quota, memoryBytes, pids] = line.split(" ");
            const parent = parentOf.get(tenant);
            if (parent === undefined) {
                problems.push(`${tenant}: in the keeper's rules, but no container of it declares an envelope`);
                continue;
            }
            const view = envelopeView(parent);
            if (view.cpuQuotaMicros !== BigInt(quota) || view.cpuPeriodMicros !== 100_000n) problems.push(`${tenant}: the envelope's CFS quota/period is ${view.cpuQuotaMicros}/${view.cpuPeriodMicros}, declared ${quota}/100000`);
            if (view.memoryLimit !== BigInt(memoryBytes)) problems.push(`${tenant}: the envelope's memory.limit_in_bytes is ${view.memoryLimit}, declared ${memoryBytes}`);
            if (view.pidsMax !== pids) problems.push(`${tenant}: the envelope's pids.max is ${view.pidsMax}, declared ${pids}`);
            envelopeRows.push([tenant, parent, `${view.cpuQuotaMicros}/${view.cpuPeriodMicros}`, mib(view.memoryLimit), view.pidsMax, String(view.pidsCurrent)]);
        }
        printTable("Envelopes as enforced (cgroup parents)", ["tenant", "cgroup", "CFS quota/period", "memory MiB", "pids.max", "pids now"], envelopeRows);
        assertNoProblems(problems);
    });

    check("after the workflows ran, no container changed its image's files (`docker diff`): roots are read-only, writes go to volumes and capped tmpfs", async () => {
        const problems: string[] = [];
        const rows: string[][] = [];
        for (const c of allContainers()) {
            const name = c.plan.name;
            const info = await inspectContainer(docker, name);
            // Docker answers `null`, not `[]`, when nothing changed.
            const answer: unknown = await docker.getContainer(name).changes();
            const changes = (Array.isArray(answer) ? answer : []) as { Path: string; Kind: number }[];
            // Docker itself creates the folders it mounts onto when the image lacks them, and their parents show as changed.
            const mountPoints = [...info.Mounts.map((m) => m.Destination), ...Object.keys(info.HostConfig.Tmpfs ?? {})];
            const isMountPath = (path: string) => mountPoints.some((point) => point === path || point.startsWith(`${path}/`));
            const unexpected = changes.filter((change) => !isMountPath(change.Path));
            const writer = roleOf(c) === "files-writer";
            rows.push([name, String(info.HostConfig.ReadonlyRootfs), String(changes.length - unexpected.length), writer ? `${unexpected.length} (its staged uploads)` : unexpected.map((u) => u.Path).join(" ") || "none"]);
            if (writer) continue;
            if (!info.HostConfig.ReadonlyRootfs) problems.push(`${name}: its root file system is writable`);
            if (unexpected.length > 0) problems.push(`${name}: changed ${unexpected.map((u) => `${["C", "A", "D"][u.Kind] ?? u.Kind} ${u.Path}`).join(", ")}`);
        }
        printTable("Changes to the images' files (docker diff)", ["container", "read-only root", "mount points Docker made", "other changes"], rows);
        assertNoProblems(problems);
    });

    check("every value the provider reads back from Docker equals its declaration, so a second `pulumi up` changes nothing", async () => {
        const problems: string[] = [];
        for (const c of allContainers()) problems.push(...readBackDifferences(c.plan.name, c.registration.inputs, await inspectContainer(docker, c.plan.name)));
        assertNoProblems(problems);
    });

    test("data survives docker restart of every running container", async () => {
        assertNoProblems(await writeMarkers());
        await phases.time("restart", () => restartContainers(docker, deployment));
        assertNoProblems(await dataProblems("after docker restart of every container"));
    });

    test("data survives removing and recreating every container from the same declarations, with the same key", async () => {
        const before = new Map(await Promise.all(allContainers().map(async (c) => [c.plan.name, (await inspectContainer(docker, c.plan.name)).Id] as const)));
        await phases.time("recreate", async () => {
            await removeContainers(docker, deployment);
            await deployFleet((r) => r.type === TYPES.container);
        });
        if (deployFailure) assert.fail(deployFailure.message);
        const problems = await dataProblems("after removing and recreating every container");
        for (const c of allContainers()) {
            const info = await inspectContainer(docker, c.plan.name);
            if (info.Id === before.get(c.plan.name)) problems.push(`${c.plan.name} is still the same container (${info.Id.slice(0, 12)})`);
            const shouldRun = c.plan.lifecycle.start && !c.plan.lifecycle.attach;
            if (info.State.Running !== shouldRun) problems.push(`${c.plan.name} is ${info.State.Status} after re-creation, expected ${shouldRun ? "running" : "not running"}`);
        }
        assertNoProblems(problems);
    });
    check("each active tenant's backup volume holds a set from its sidecar and the one taken before its n8n version, named for it and its key", async () => {
        const problems: string[] = [];
        for (const t of activeTenants()) {
            const sidecar = backupSidecar(t).plan.name;
            const listing = (await execIn(docker, sidecar, ["ls", "/backups"])).stdout.split("\n").filter(Boolean);
            const scheduled = listing.find((name) => name.endsWith("-scheduled"));
            if (!scheduled) problems.push(`${sidecar}: no scheduled set in /backups (${listing.join(", ")})`);
            if (!listing.some((name) => name.endsWith(`-before-n8n-${PINNED.n8n}`))) problems.push(`${t.id}: no set taken before n8n ${PINNED.n8n} (${listing.join(", ")})`);
            if (!listing.includes("last-success")) problems.push(`${sidecar}: no last-success file`);
            if (!scheduled) continue;
            const manifest = JSON.parse((await execIn(docker, sidecar, ["cat", `/backups/${scheduled}/manifest.json`])).stdout);
            const key = processEnvOf(theOne(t, "main").registration).N8N_ENCRYPTION_KEY;
            if (manifest.tenant !== t.id || manifest.keyFingerprint !== keyFingerprint(key)) problems.push(`${sidecar}: ${scheduled} names tenant ${manifest.tenant} and key ${manifest.keyFingerprint}`);
            const files = (await execIn(docker, sidecar, ["tar", "-tzf", `/backups/${scheduled}/n8n-files.tar.gz`])).stdout;
            if (/^\.\/config$/m.test(files)) problems.push(`${sidecar}: ${scheduled} holds n8n's config file, which holds the key`);
        }
        assertNoProblems(problems);
    });

    check("the sidecar's retention prunes its volume's old scheduled sets and keeps the other kinds (7 daily, 4 weekly)", async () => {
        const t = tenants.get("alpha") ?? assert.fail("no tenant alpha");
        const sidecar = backupSidecar(t).plan.name;
        const list = async () => (await execIn(docker, sidecar, ["ls", "/backups"])).stdout.split("\n").filter((name) => /^\d{8}T\d{6}Z-/.test(name));
        const real = (await list()).filter((name) => name.endsWith("-scheduled")).sort();
        const newestReal = real.at(-1) ?? assert.fail("no scheduled set");
        // Sets taken since the deployment: one day, or two when the test ran over midnight UTC.
        const realDays = new Set(real.map((name) => name.slice(0, 8))).size;
        // Twelve days of January 2025 (W01 ends on the 5th, W02 on the 12th), and an old manual set.
        const old = Array.from({ length: 12 }, (_, i) => `202501${String(i + 1).padStart(2, "0")}T020000Z-scheduled`);
        const made = await execIn(docker, sidecar, ["mkdir", ...[...old, "20250101T030000Z-manual"].map((name) => `/backups/${name}`)]);
        assert.equal(made.exitCode, 0, made.stderr);
        const pruned = await execIn(docker, sidecar, [BACKUP_SCRIPT.path, "prune"]);
        assert.equal(pruned.exitCode, 0, pruned.stderr);
        const after = await list();
        // The newest real set's days come first; then January's newest days up to 7 days in all, and
        // the 12th and the 5th as the newest of 2025-W02 and 2025-W01 (at most two real weeks come before them).
        const dailyJanuary = old.slice().reverse().slice(0, 7 - realDays);
        const expectedOld = [...new Set([...dailyJanuary, old[11], old[4]])];
        assert.deepEqual(after.filter((name) => name.startsWith("2025")).sort(), [...expectedOld, "20250101T030000Z-manual"].sort());
        assert.ok(after.includes(newestReal), `the newest set ${newestReal} was pruned`);
        const cleaned = await execIn(docker, sidecar, ["sh", "-c", "rm -rf /backups/2025*"]);
        assert.equal(cleaned.exitCode, 0, cleaned.stderr);
    });

    check("npm run restore refuses another tenant's key without a change, brings a tenant back to a set with its Redis emptied, and can be undone", async () => {
        const t = tenants.get("beta") ?? assert.fail("no tenant beta");
        const stored = data.get("beta") ?? assert.fail("the workflow checks set up no data for beta");
        const sidecar = backupSidecar(t).plan.name;
        const main = theOne(t, "main");
        const taken = await execIn(docker, sidecar, [BACKUP_SCRIPT.path, "once", "manual"]);
        assert.equal(taken.exitCode, 0, taken.stderr);
        const set = (await execIn(docker, sidecar, ["ls", "/backups"])).stdout.split("\n").find((name) => name.endsWith("-manual")) ?? assert.fail("no manual set");
        // A change after the set, which the restore must undo.
        const api = new N8nApi(stored.url);
        await api.login(stored.email, stored.password);
        const later = await api.createWorkflow({ ...sumWorkflow("beta"), name: "made after the backup" });
        // What a later n8n version's migration would leave, which the set does not know.
        const sql = async (query: string) => {
            const result = await execIn(docker, sidecar, ["sh", "-c", `PGPASSWORD=$(cat "$PGPASSWORD_FILE") psql -X -v ON_ERROR_STOP=1 -tAc "${query}"`]);
            assert.equal(result.exitCode, 0, result.stderr);
            return result.stdout.trim();
        };
        await sql("CREATE TABLE made_by_a_later_migration (id int)");
        // A job queued after the set: after the restore, a worker would run it against execution ids the database hands out again.
        const redis = theOne(t, "redis").plan.name;
        const redisCli = async (...args: string[]) => {
            const result = await execIn(docker, redis, ["sh", "-c", `REDISCLI_AUTH="$(cat /run/n8n-fleet/redis-password)" redis-cli ${args.join(" ")}`]);
            assert.equal(result.exitCode, 0, result.stderr);
            return result.stdout.trim();
        };
        await redisCli("HSET", "bull:jobs:990001", "data", "'{\"executionId\":\"990001\"}'");
        await redisCli("LPUSH", "bull:jobs:wait", "990001");

        const restore = (key: string, from = set) => {
            const folder = mkdtempSync(join(tmpdir(), "n8n-fleet-restore-"));
            writeFileSync(join(folder, "Pulumi.test.yaml"), stringifyYaml({ config: { "n8n-fleet:tenantsFile": "tenants.json", "n8n-fleet:targets": DOCKER_TEST_TARGETS, "n8n-fleet:defaultTarget": "local" } }));
            writeFileSync(join(folder, "tenants.json"), JSON.stringify(FLEET));
            writeFileSync(join(folder, "key"), key, { mode: 0o600 });
            const result = spawnSync(process.execPath, ["--require", "ts-node/register", join(PROJECT_ROOT, "scripts", "restore.ts"), "beta", "--from", from, "--stack", "test", "--dir", folder, "--key-file", join(folder, "key"), "--docker-host", process.env.DOCKER_HOST ?? ""], {
                cwd: PROJECT_ROOT,
                env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", INIT_CWD: PROJECT_ROOT },
                encoding: "utf8",
                timeout: 600_000,
            });
            rmSync(folder, { recursive: true, force: true });
            return result;
        };
        const alphaKey = processEnvOf(theOne(tenants.get("alpha") ?? assert.fail("no alpha"), "main").registration).N8N_ENCRYPTION_KEY;
        const refused = restore(alphaKey);
        assert.equal(refused.status, 3, refused.stderr);
        assert.match(refused.stderr, /refusing to restore .* into beta: the encryption key in hand .* is not the one this set was taken with .* nothing was changed/);
        assert.equal((await inspectContainer(docker, main.plan.name)).State.Running, true, "the refused restore stopped beta's n8n");
        assert.equal((await api.workflow(later)).id, later);

        const restored = restore(processEnvOf(main.registration).N8N_ENCRYPTION_KEY);
        assert.equal(restored.status, 0, restored.stderr);
        await api.login(stored.email, stored.password);
        await assert.rejects(api.workflow(later), /404|not found/i, "the workflow made after the set survived the restore");
        assert.equal(await sql("SELECT to_regclass('public.made_by_a_later_migration')"), "", "a table made after the set survived the restore");
        assert.equal((await api.workflow(stored.workflowId)).id, stored.workflowId);
        assert.deepEqual((await callWebhookOnceRegistered(stored.webhook, { a: 40, b: 2 })).body, { sum: 42, tenant: "beta" });
        assert.equal(await redisCli("EXISTS", "bull:jobs:990001"), "0", "a job queued before the restore is still in Redis");
        assert.equal(await redisCli("LLEN", "bull:jobs:wait"), "0");

        // The restore took a set of the data it replaced, and says how to go back to it.
        const undo = /took (\d{8}T\d{6}Z-before-restore) of the data as it was; to undo this restore: npm run restore -- beta --from \1 --stack test/.exec(restored.stderr)?.[1] ?? assert.fail(`the restore named no set to undo it:\n${restored.stderr}`);
        const undone = restore(processEnvOf(main.registration).N8N_ENCRYPTION_KEY, undo);
        assert.equal(undone.status, 0, undone.stderr);
        await api.login(stored.email, stored.password);
        assert.equal((await api.workflow(later)).id, later, "undoing the restore did not bring back the workflow made after the first set");
        assert.equal(await sql("SELECT to_regclass('public.made_by_a_later_migration')"), "made_by_a_later_migration");
    });
});
