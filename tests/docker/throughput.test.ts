/**
 * Throughput at the default budget against a reference: a tenant as the program declares it (its
 * envelope, CPU by weight, a memory limit per container) and the same tenant in the same envelope
 * with no limit per container ("one unconstrained container group" of the same CPUs and memory),
 * deployed side by side on one daemon and measured one after the other with the same burst of
 * webhook calls through a Code node (the external runner). Printed, not asserted: calls per second
 * of each and their ratio (goal: at least 0.8). Asserted: every call answered correctly.
 *
 * Calls per burst: N8N_FLEET_THROUGHPUT_CALLS (300 unless set).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Registration } from "../harness/recordingMocks";
import { TYPES } from "../harness/runFleet";
import { burst, callsFrom } from "./burst";
import { Created, testDaemon } from "./client";
import { Deployment, deployLogged } from "./deploy";
import { Tenant, registrationsFor, tenantsOf, theOne } from "./fleetUnderTest";
import { callWebhookOnceRegistered, setUpTenant } from "./n8nInContainer";
import { Phases, printTable } from "./report";

const CALLS = callsFrom("N8N_FLEET_THROUGHPUT_CALLS", 300);
const CONCURRENCY = 20;
const OWNER_PASSWORD = "Fleet-docker-Passw0rd";
/** Both at the default budget (2 CPU, 4 GiB, one worker). */
const TENANTS = { tenants: [{ id: "declared", port: 5841 }, { id: "reference", port: 5842 }] };

const docker = testDaemon();
const created = new Created();
const phases = new Phases();
let deployment: Deployment = { containers: new Map(), rewrites: [] };
let deployFailure: Error | undefined;
let tenants = new Map<string, Tenant>();

/**
 * The reference: every memory limit of its containers removed, in place (the harness knows a
 * registration's staged files by the object itself); its envelope stays.
 */
function unconstrained(registrations: Registration[]): Registration[] {
    for (const r of registrations) {
        if (r.type !== TYPES.container || !String(r.inputs.name).startsWith("reference-")) continue;
        delete r.inputs.memory;
        delete r.inputs.memorySwap;
    }
    return registrations;
}

before(async () => {
    const registrations = unconstrained(await registrationsFor(TENANTS));
    ({ deployment, failure: deployFailure } = await phases.time("deploy", () => deployLogged(docker, registrations, { created })));
    tenants = tenantsOf(registrations, deployment);
});

after(async () => {
    const problems = await phases.time("clean-up", () => created.removeAll(docker));
    phases.print("Docker throughput test, time per phase");
    assert.deepEqual(problems, []);
});

describe("throughput at the default budget (2 CPU, 4 GiB, one worker)", () => {
    test(`the declared tenant against the same tenant without per-container limits, ${CALLS} calls ${CONCURRENCY} at a time each`, async () => {
        if (deployFailure) assert.fail(deployFailure.message);
        const rows: (string | number)[][] = [];
        const rates = new Map<string, number>();
        const failures: string[] = [];
        for (const id of ["declared", "reference"]) {
            const tenant = tenants.get(id) ?? assert.fail(`no tenant ${id}`);
            const setup = await setUpTenant(theOne(tenant, "main"), tenant.id, OWNER_PASSWORD);
            const warmUp = await callWebhookOnceRegistered(setup.webhook, { a: 1, b: 1 });
            assert.equal(warmUp.status, 200, `${id}: the first call answered ${warmUp.status}`);
            // Not measured: a fresh worker's first executions compile and cache.
            await burst(setup.webhook, CONCURRENCY * 2, CONCURRENCY);
            const result = await phases.time(`${id} burst`, () => burst(setup.webhook, CALLS, CONCURRENCY));
            failures.push(...result.failures.map((f) => `${id} ${f}`));
            rates.set(id, CALLS / result.seconds);
            rows.push([id, id === "declared" ? "as declared: envelope, CPU weights, memory per container" : "the same envelope, no limit per container", (CALLS / result.seconds).toFixed(1), result.seconds.toFixed(1), result.failures.length]);
        }
        printTable(`Throughput at the default budget, ${CALLS} calls ${CONCURRENCY} at a time`, ["tenant", "limits", "calls/s", "seconds", "failed"], rows);
        console.log(`declared / reference: ${((rates.get("declared") ?? 0) / (rates.get("reference") ?? 1)).toFixed(2)} (goal: at least 0.8)`);
        assert.deepEqual(failures.slice(0, 10), []);
    });
});
