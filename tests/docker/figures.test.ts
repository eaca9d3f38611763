/**
 * Capacity figures at the smallest budget the sizing allows for one worker (`minimumMemoryMb(1)`,
 * `minimumCpus(1)` from fleet/tenants/sizing.ts), on a real Docker daemon with every limit enforced: how
 * long main and worker take to become healthy, and a burst of webhook calls through a Code node
 * (calls per second, peak memory of each container as its cgroup counts it). Timings are printed,
 * not asserted; what is asserted is that nothing fails at that budget: health before Docker would
 * call a container unhealthy, every execution answered correctly, no process killed for memory.
 * README "Capacity" is written from what this prints.
 *
 * Run with `npm run test:docker` (a private daemon and the stand-in images; see tests/docker/).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { PINNED } from "../../fleet/tenants/versions";
import { minimumCpus, minimumMemoryMb } from "../../fleet/tenants/sizing";
import { burst, callsFrom } from "./burst";
import { Created, testDaemon } from "./client";
import { Deployment, deployLogged } from "./deploy";
import { MINIMUM_BUDGET_FLEET, declaredHealth, declaredLimits, registrationsFor, tenantsOf, theOne } from "./fleetUnderTest";
import { cgroupView, envelopeView, inspectContainer } from "./inspect";
import { callWebhookOnceRegistered, setUpTenant } from "./n8nInContainer";
import { Phases, mib, printTable } from "./report";

/**
 * Webhook calls in the burst: 500 unless N8N_FLEET_BURST_CALLS says otherwise. At the minimum budget
 * a worker runs about one execution a second, so 500 calls take over eight minutes; a shorter burst
 * keeps a CI run short, the full one gives README "Capacity" its figures.
 */
const BURST_CALLS = callsFrom("N8N_FLEET_BURST_CALLS", 500);
const BURST_CONCURRENCY = 20;
const OWNER_PASSWORD = "Fleet-docker-Passw0rd";

const docker = testDaemon();
const created = new Created();
const phases = new Phases();
let deployment: Deployment = { containers: new Map(), rewrites: [] };
let deployFailure: Error | undefined;

before(async () => {
    const registrations = await registrationsFor(MINIMUM_BUDGET_FLEET);
    ({ deployment, failure: deployFailure } = await phases.time("deploy", () => deployLogged(docker, registrations, { created })));
});

after(async () => {
    const problems = await phases.time("clean-up", () => created.removeAll(docker));
    phases.print("Docker figures test, time per phase");
    assert.deepEqual(problems, []);
});

describe(`figures at the minimum budget for one worker (${minimumCpus(1)} CPU, ${minimumMemoryMb(1)} MiB)`, () => {
    test("every container pulumi up waits for becomes healthy before Docker would call it unhealthy (start period plus retries)", () => {
        const problems: string[] = [];
        const rows: (string | number)[][] = [];
        for (const c of deployment.containers.values()) {
            // `pulumi up` does not wait for the backup sidecar; its health is checked in fleet.test.ts.
            if (c.plan.lifecycle.waitTimeoutMs === undefined) continue;
            const health = declaredHealth(c);
            const limits = declaredLimits(c);
            const unhealthyAfterMs = health.startPeriodMs + health.retries * health.intervalMs;
            const healthyAfterMs = c.health ? c.health.healthyAt - c.health.startedAt : undefined;
            if (healthyAfterMs === undefined) problems.push(`${c.plan.name} never became healthy`);
            else if (healthyAfterMs > unhealthyAfterMs) problems.push(`${c.plan.name} became healthy ${(healthyAfterMs / 1000).toFixed(1)} s after its start, later than its start period ${health.startPeriod} plus ${health.retries} x ${health.interval}`);
            rows.push([c.plan.name, limits.cpus ?? `weight ${limits.cpuShares}`, limits.memoryMb, health.startPeriod, (unhealthyAfterMs / 1000).toFixed(0), healthyAfterMs === undefined ? "never" : (healthyAfterMs / 1000).toFixed(1)]);
        }
        printTable(`Time to healthy at the minimum budget (n8n ${PINNED.n8n}, ${minimumCpus(1)} CPU shared by the tenant's containers)`, ["container", "CPU", "memory MB", "start period", "unhealthy after (s)", "healthy after (s)"], rows);
        if (deployFailure) assert.fail(deployFailure.message);
        assert.equal(problems.length, 0, problems.join("\n"));
    });

    test(`a burst of ${BURST_CALLS} webhook calls with a Code node, ${BURST_CONCURRENCY} at a time, runs every execution and no process is killed for memory`, async () => {
        if (deployFailure) assert.fail(`not measured: ${deployFailure.message}`);
        const [tenant] = tenantsOf(await registrationsFor(MINIMUM_BUDGET_FLEET), deployment).values();
        const setup = await setUpTenant(theOne(tenant, "main"), tenant.id, OWNER_PASSWORD);
        const warmUp = await callWebhookOnceRegistered(setup.webhook, { a: 1, b: 1 });
        assert.equal(warmUp.status, 200, `the first call answered ${warmUp.status} ${JSON.stringify(warmUp.body)}`);

        // The services; a one-shot (the backup before an upgrade) has run to its end and has no cgroup left.
        const containers = [...deployment.containers.values()].filter((c) => !c.plan.lifecycle.attach);
        const pids = new Map(await Promise.all(containers.map(async (c) => [c.plan.name, (await inspectContainer(docker, c.plan.name)).State.Pid] as const)));
        const before = new Map(containers.map((c) => [c.plan.name, cgroupView(pids.get(c.plan.name) ?? 0)]));
        const envelope = declaredLimits(theOne(tenant, "main")).cgroupParent ?? assert.fail("the main declares no envelope");
        const envelopeBefore = envelopeView(envelope);
        const { seconds, failures } = await phases.time("burst", () => burst(setup.webhook, BURST_CALLS, BURST_CONCURRENCY));
        const envelopeAfter = envelopeView(envelope);
        printTable(
            `The tenant's envelope (${envelope}) during the burst`,
            ["quota (cores)", "CPU used (cores)", "throttled periods", "memory limit MiB", "peak MiB", "pids.max"],
            [[Number(envelopeAfter.cpuQuotaMicros) / Number(envelopeAfter.cpuPeriodMicros), (Number(envelopeAfter.cpuUsedNanos - envelopeBefore.cpuUsedNanos) / 1e9 / seconds).toFixed(2), String(envelopeAfter.throttledPeriods - envelopeBefore.throttledPeriods), mib(envelopeAfter.memoryLimit), mib(envelopeAfter.peakMemory), envelopeAfter.pidsMax]],
        );

        const problems = failures.slice(0, 10);
        const rows: (string | number)[][] = [];
        for (const c of containers) {
            const info = await inspectContainer(docker, c.plan.name);
            const cgroup = cgroupView(info.State.Pid);
            const atStart = before.get(c.plan.name);
            // The same process since before the burst (no restart), so the counters are comparable.
            const cpuCores = atStart && info.State.Pid === pids.get(c.plan.name) ? Number(cgroup.cpuUsedNanos - atStart.cpuUsedNanos) / 1e9 / seconds : NaN;
            const throttled = atStart ? cgroup.throttledPeriods - atStart.throttledPeriods : 0n;
            if (info.State.OOMKilled) problems.push(`${c.plan.name}: State.OOMKilled is true`);
            if (cgroup.oomKills > 0n) problems.push(`${c.plan.name}: the kernel killed ${cgroup.oomKills} process(es) in its cgroup for lack of memory`);
            if (info.RestartCount > 0) problems.push(`${c.plan.name} restarted ${info.RestartCount} times`);
            rows.push([
                c.plan.name,
                `${cpuCores.toFixed(3)} (${declaredLimits(c).cpus ?? `weight ${declaredLimits(c).cpuShares}`})`,
                String(throttled),
                mib(cgroup.memoryLimit),
                mib(cgroup.peakMemory),
                `${((Number(cgroup.peakMemory) / Number(cgroup.memoryLimit)) * 100).toFixed(0)} %`,
                `${mib(cgroup.rss)} / ${mib(cgroup.cache)}`,
                String(cgroup.limitHits),
                String(info.State.OOMKilled),
                String(cgroup.oomKills),
            ]);
        }
        printTable(
            `Burst of ${BURST_CALLS} calls, ${BURST_CONCURRENCY} at a time: ${(BURST_CALLS / seconds).toFixed(1)} calls/s (${seconds.toFixed(1)} s), ${failures.length} failed`,
            ["container", "CPU used (cores), own quota or weight in the envelope", "throttled periods", "limit MiB", "peak MiB (max_usage)", "peak / limit", "rss / cache MiB after", "limit hits (failcnt)", "OOMKilled", "oom_kill"],
            rows,
        );
        assert.equal(problems.length, 0, `${failures.length} of ${BURST_CALLS} calls failed\n${problems.join("\n")}`);
    });
});
