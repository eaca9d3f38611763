/**
 * One resource envelope per tenant (fleet/containers/envelopes.ts), on a real Docker daemon: two
 * tenants at the smallest budget the sizing allows. Tenant B ("calm") answers a steady stream of
 * webhook calls; its latency is measured alone, then while tenant A ("noisy") saturates what it
 * has, from inside its own containers as their users, the way escaped Code-node code would:
 * CPU-bound loops in its main and worker, memory up to its worker's limit, a fork loop, and
 * sequential writes to its volume.
 *
 * Printed (a benchmark, not asserted): B's median and 95th percentile alone and under A's load,
 * their ratio, and A's own figures (CPU used against its quota, throttling, PIDs, memory). Asserted
 * (containment): A's fork loop stops at its envelope's PID cap (the test waits for the kernel to
 * count a refused fork there before it measures B), no process outside A is killed for memory, A's containers stay up (capped, not killed),
 * every container of B stays healthy, and every call to B is answered correctly.
 *
 * The stream's length: N8N_FLEET_NEIGHBOUR_CALLS calls per phase (60 unless set).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { minimumCpus, minimumMemoryMb } from "../../fleet/tenants/sizing";
import { callWebhook } from "../e2e/n8nApi";
import { callsFrom } from "./burst";
import { Created, poll, testDaemon } from "./client";
import { Deployment, DeployedContainer, deployLogged } from "./deploy";
import { Tenant, declaredLimits, registrationsFor, tenantsOf, theOne } from "./fleetUnderTest";
import { cgroupView, envelopeView, inspectContainer } from "./inspect";
import { callWebhookOnceRegistered, setUpTenant } from "./n8nInContainer";
import { Phases, mib, printTable } from "./report";

const MIB_PER_GIB = 1024;
const CALLS = callsFrom("N8N_FLEET_NEIGHBOUR_CALLS", 60);
const OWNER_PASSWORD = "Fleet-docker-Passw0rd";
/** Every process the load starts carries this word in its command line, so the test can find and stop them all. */
const MARK = "n8f-load";

const budget = { cpus: minimumCpus(1), memoryGb: minimumMemoryMb(1) / MIB_PER_GIB };
const NEIGHBOURS = {
    tenants: [
        { id: "noisy", port: 5831, workers: 1, resources: budget },
        { id: "calm", port: 5832, workers: 1, resources: budget },
    ],
};

const docker = testDaemon();
const created = new Created();
const phases = new Phases();
let deployment: Deployment = { containers: new Map(), rewrites: [] };
let deployFailure: Error | undefined;
let tenants = new Map<string, Tenant>();

before(async () => {
    const registrations = await registrationsFor(NEIGHBOURS);
    ({ deployment, failure: deployFailure } = await phases.time("deploy", () => deployLogged(docker, registrations, { created })));
    tenants = tenantsOf(registrations, deployment);
});

after(async () => {
    await stopLoad();
    const problems = await phases.time("clean-up", () => created.removeAll(docker));
    phases.print("Docker envelopes test, time per phase");
    assert.deepEqual(problems, []);
});

/** Starts `command` in a container as `user`, detached: it runs until the test stops it. */
async function startLoad(container: string, user: string, script: string): Promise<void> {
    const exec = await docker.getContainer(container).exec({ Cmd: ["sh", "-c", script, MARK], User: user, AttachStdout: false, AttachStderr: false });
    // The answer is a stream even when detached: read it to its end, or its socket keeps the test process alive.
    const answer: unknown = await exec.start({ Detach: true });
    if (answer && typeof (answer as NodeJS.ReadableStream).resume === "function") {
        const stream = answer as NodeJS.ReadableStream;
        await new Promise<void>((resolve) => {
            stream.on("end", resolve);
            stream.on("close", resolve);
            stream.on("error", () => resolve());
            stream.resume();
        });
    }
}

/** Processes of the host whose command line carries {@link MARK}, and their children. */
function loadProcesses(): number[] {
    const marked = new Set<number>();
    const parents = new Map<number, number>();
    for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(MARK)) marked.add(Number(entry));
            const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
            parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
        } catch {
            // gone meanwhile
        }
    }
    return [...parents.entries()].filter(([pid, ppid]) => marked.has(pid) || marked.has(ppid)).map(([pid]) => pid);
}

/** Kills the load until none of it is left (a fork loop may still be forking while it is killed). */
async function stopLoad(): Promise<void> {
    for (let round = 0; round < 50; round++) {
        const left = loadProcesses();
        if (left.length === 0) return;
        for (const pid of left) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // already gone
            }
        }
        await new Promise((resolve) => setImmediate(resolve));
    }
}

/** `calls` webhook calls one after another; the latency of each in ms, and what went wrong. */
async function stream(webhook: string, calls: number, offset: number): Promise<{ latencies: number[]; failures: string[] }> {
    const latencies: number[] = [];
    const failures: string[] = [];
    for (let i = 0; i < calls; i++) {
        const n = offset + i;
        const started = performance.now();
        const answer = await callWebhook(webhook, { a: n, b: 1 }, 120_000).catch((error: Error) => ({ status: 0, body: error.message }));
        latencies.push(performance.now() - started);
        const body = answer.body as { sum?: unknown } | string;
        if (answer.status !== 200 || typeof body !== "object" || body.sum !== n + 1) failures.push(`call ${n}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
    }
    return { latencies, failures };
}

function percentile(values: number[], p: number): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function envelopeOf(tenant: Tenant): string {
    const parent = declaredLimits(theOne(tenant, "main")).cgroupParent;
    assert.ok(parent, `${tenant.id}'s main declares no envelope`);
    return parent;
}

/** The long-running containers of a tenant (one-shots have ended and have no cgroup left). */
function services(tenant: Tenant): DeployedContainer[] {
    return tenant.containers.filter((c) => !c.plan.lifecycle.attach);
}

describe(`a neighbour saturating its envelope (both tenants at ${budget.cpus} CPU, ${minimumMemoryMb(1)} MiB)`, () => {
    test("the calm tenant keeps answering while the noisy one saturates CPU, memory, PIDs and disk; the noisy one is capped, not killed", async () => {
        if (deployFailure) assert.fail(deployFailure.message);
        const noisy = tenants.get("noisy") ?? assert.fail("no tenant noisy");
        const calm = tenants.get("calm") ?? assert.fail("no tenant calm");
        const setup = await setUpTenant(theOne(calm, "main"), calm.id, OWNER_PASSWORD);
        const warmUp = await callWebhookOnceRegistered(setup.webhook, { a: 1, b: 1 });
        assert.equal(warmUp.status, 200, `the first call answered ${warmUp.status} ${JSON.stringify(warmUp.body)}`);
        // A few calls that are not measured: the first executions of a fresh worker compile and cache.
        await stream(setup.webhook, 10, 1_000_000);

        const alone = await phases.time("calm alone", () => stream(setup.webhook, CALLS, 0));

        const envelope = envelopeOf(noisy);
        const before = envelopeView(envelope);
        const restarts = new Map(await Promise.all([...services(noisy), ...services(calm)].map(async (c) => [c.plan.name, (await inspectContainer(docker, c.plan.name)).RestartCount] as const)));
        const main = theOne(noisy, "main").plan.name;
        const worker = theOne(noisy, "worker").plan.name;
        const mainLimit = BigInt(declaredLimits(theOne(noisy, "main")).memoryMb) * 1024n * 1024n;
        const mainUsed = cgroupView((await inspectContainer(docker, main)).State.Pid).rss;
        // Up to the main's limit, less what it already holds and a margin for its own next allocations.
        const hogMb = Math.max(16, Number((mainLimit - mainUsed) / (1024n * 1024n)) - 128);
        const loadStarted = performance.now();
        // CPU: loops in main and worker, more than the envelope's cores.
        for (const container of [main, worker]) for (let i = 0; i < 2; i++) await startLoad(container, "1000:1000", "while :; do :; done");
        // Memory: the main's free memory, touched page by page, then held.
        await startLoad(main, "1000:1000", `exec node -e 'const held = []; for (let i = 0; i < ${hogMb}; i++) held.push(Buffer.alloc(1 << 20, 1)); setInterval(() => held.length, 1000);' ${MARK}`);
        // Disk: sequential writes to n8n's data volume, flushed.
        await startLoad(main, "1000:1000", "while :; do dd if=/dev/zero of=/home/node/.n8n/n8f-load bs=1M count=256 conv=fsync 2>/dev/null; rm -f /home/node/.n8n/n8f-load; done");

        // PIDs last (once capped, not even `docker exec` starts a process in the tenant): a fork loop in the
        // worker (the container with the most memory to spare for 1,800 small processes), far past the
        // envelope's cap; the measurement waits until the kernel refuses a fork there.
        // Each child a forked shell blocked on a FIFO (no exec, no CPU): about 100 KiB each.
        await startLoad(worker, "1000:1000", "f=/tmp/n8f-load-fifo; rm -f $f; mkfifo $f; i=0; while [ $i -lt 20000 ]; do (read -r x < $f) & i=$((i+1)); done; wait");
        const capped = await poll("the noisy tenant's fork loop refused at its envelope's pids.max", 120_000, async () => {
            const view = envelopeView(envelope);
            if (view.pidsRefused > before.pidsRefused) return view;
            throw new Error(`${view.pidsCurrent} processes of ${view.pidsMax}, ${view.pidsRefused - before.pidsRefused} forks refused`);
        });
        let loaded: { latencies: number[]; failures: string[] };
        let during: ReturnType<typeof envelopeView>;
        try {
            loaded = await phases.time("calm beside the noisy one", () => stream(setup.webhook, CALLS, 10_000));
            during = envelopeView(envelope);
        } finally {
            await stopLoad();
        }
        const loadSeconds = (performance.now() - loadStarted) / 1000;

        const problems = [...alone.failures, ...loaded.failures].slice(0, 10);
        // The cap held: the fork loop got no further than pids.max.
        if (capped.pidsCurrent > BigInt(capped.pidsMax)) problems.push(`noisy runs ${capped.pidsCurrent} processes, past its envelope's pids.max ${capped.pidsMax}`);
        const rows: (string | number)[][] = [];
        for (const c of [...services(noisy), ...services(calm)]) {
            const info = await inspectContainer(docker, c.plan.name);
            const mine = c.plan.name.startsWith("noisy-");
            if (!info.State.Running) problems.push(`${c.plan.name} is not running: ${mine ? "the noisy tenant must be capped, not killed" : "a neighbour stopped"}`);
            if (info.RestartCount !== restarts.get(c.plan.name)) problems.push(`${c.plan.name} restarted during the load`);
            const cgroup = info.State.Running ? cgroupView(info.State.Pid) : undefined;
            if (!mine && cgroup && cgroup.oomKills > 0n) problems.push(`${c.plan.name}: the kernel killed ${cgroup.oomKills} of its processes for lack of memory`);
            if (!mine && info.State.Health && info.State.Health.Status !== "healthy") problems.push(`${c.plan.name}'s health is ${info.State.Health.Status}`);
            rows.push([c.plan.name, info.State.Health?.Status ?? "(no check)", String(info.RestartCount), cgroup ? String(cgroup.oomKills) : "-"]);
        }
        printTable("Containers after the load", ["container", "health", "restarts", "oom kills in its cgroup"], rows);

        const cpuCores = Number(during.cpuUsedNanos - before.cpuUsedNanos) / 1e9 / loadSeconds;
        printTable(
            "The noisy tenant's envelope during the load",
            ["quota (cores)", "CPU used (cores)", "throttled periods", "pids.max", "processes at the cap", "forks refused at pids.max", "memory limit MiB", "peak MiB", "oom kills in it"],
            [[Number(during.cpuQuotaMicros) / Number(during.cpuPeriodMicros), cpuCores.toFixed(2), String(during.throttledPeriods - before.throttledPeriods), during.pidsMax, String(capped.pidsCurrent), String(during.pidsRefused - before.pidsRefused), mib(during.memoryLimit), mib(during.peakMemory), String(during.oomKills)]],
        );
        const p = (values: number[], q: number) => percentile(values, q).toFixed(0);
        const ratio = percentile(loaded.latencies, 95) / percentile(alone.latencies, 95);
        printTable(
            `The calm tenant's webhook latency, ${CALLS} calls one after another (ms)`,
            ["phase", "median", "95th percentile", "max", "failed"],
            [
                ["alone", p(alone.latencies, 50), p(alone.latencies, 95), Math.max(...alone.latencies).toFixed(0), alone.failures.length],
                ["beside the saturated neighbour", p(loaded.latencies, 50), p(loaded.latencies, 95), Math.max(...loaded.latencies).toFixed(0), loaded.failures.length],
            ],
        );
        console.log(`95th percentile beside the saturated neighbour / alone: ${ratio.toFixed(2)} (goal: at most 1.25)`);
        assert.equal(problems.length, 0, problems.join("\n"));
    });
});
