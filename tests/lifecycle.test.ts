/**
 * What happens across edits of tenants.json: data and keys stay, containers follow, suspension
 * stops without deleting, and a broken file stops the run before anything is registered.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FleetRun, FleetRunOptions, TYPES, runFleetInChild } from "./harness/runFleet";
import type { Registration } from "./harness/recordingMocks";

const BASE = { tenants: [{ id: "acme", port: 5701 }] };

async function runFleet(options: FleetRunOptions): Promise<FleetRun> {
    const outcome = await runFleetInChild(options);
    if (!outcome.ok) throw new Error(outcome.error);
    return outcome.run;
}

const statefulInputs = (resources: Registration[]) =>
    Object.fromEntries(resources.filter((r) => r.type === TYPES.volume || r.type === TYPES.password).map((r) => [r.name, r.inputs]));

test("a new version, more workers, other limits, another port and suspension leave volumes, passwords and keys untouched", async () => {
    const before = await runFleet({ tenants: BASE });
    const after = await runFleet({
        tenants: { tenants: [{ id: "acme", port: 5799, n8nVersion: "2.40.0", workers: 3, concurrency: 20, resources: { cpus: 4, memoryGb: 8, diskGb: 40 }, timezone: "Europe/Paris", status: "suspended" }] },
    });
    assert.deepEqual(statefulInputs(after.resources), statefulInputs(before.resources));
    assert.equal(Object.keys(statefulInputs(before.resources)).length, 8);
    // ...while the containers do follow the edit.
    assert.match(after.named("acme-n8n").inputs.image, /^sha256:/);
    assert.notEqual(after.named("acme-n8n").inputs.image, before.named("acme-n8n").inputs.image);
    assert.equal(after.ofType(TYPES.container).filter((c) => c.name.startsWith("acme-n8n-worker-") && !c.name.endsWith("-runner")).length, 3);
});

test("adding a tenant registers the same resources for the existing one", async () => {
    const before = await runFleet({ tenants: BASE });
    const after = await runFleet({ tenants: { tenants: [...BASE.tenants, { id: "globex", port: 5702 }] } });
    const acme = (resources: Registration[]) => resources.filter((r) => r.name.startsWith("acme")).map((r) => ({ name: r.name, type: r.type }));
    assert.deepEqual(acme(after.resources), acme(before.resources));
});

test("a suspended tenant's containers are created stopped and stay stopped, and its data stays", async () => {
    const run = await runFleet({ tenants: { tenants: [{ id: "acme", port: 5701, status: "suspended" }, { id: "globex", port: 5702 }] } });
    const acme = run.ofType(TYPES.container).filter((c) => c.name.startsWith("acme-"));
    assert.ok(acme.length >= 4);
    for (const c of acme) {
        assert.equal(c.inputs.start, false, `${c.name} would start`);
        assert.equal(c.inputs.restart, "no");
        assert.equal(c.inputs.mustRun, false);
    }
    assert.equal(run.ofType(TYPES.volume).filter((v) => v.name.startsWith("acme-")).length, 3);
    assert.equal(run.ofType(TYPES.password).filter((v) => v.name.startsWith("acme-")).length, 5);
    for (const c of run.ofType(TYPES.container).filter((c) => c.name.startsWith("globex-"))) assert.equal(c.inputs.start, true);
});

test("a broken tenants file fails the run with every problem before any resource is registered", async () => {
    const outcome = await runFleetInChild({ tenants: { tenants: [{ id: "Acme", port: 80 }, { id: "globex", port: 5702, workers: 0 }] } });
    assert.ok(!outcome.ok, "the run succeeded");
    assert.ok(outcome.isRunError, "a RunError hides the stack trace from the user");
    assert.match(outcome.error, /tenants\.json:\d+:\d+: tenants\[0\]\.id: "Acme" is not a DNS label/);
    assert.match(outcome.error, /tenants\[0\]\.port: 80 is below 1024/);
    assert.match(outcome.error, /tenants\[1\]\.workers: 0 is below 1/);
    assert.match(outcome.error, /nothing was deployed/);
    assert.deepEqual(outcome.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"), []);
});

test("a broken stack config names the stack file and the key", async () => {
    const outcome = await runFleetInChild({ tenants: BASE, targets: { "eu-1": { dockerHost: "docker.example.com", publicHost: "x", capacity: { cpus: 16 } } } });
    assert.ok(!outcome.ok, "the run succeeded");
    assert.match(outcome.error, /Pulumi\.test\.yaml: n8n-fleet:targets\.eu-1\.dockerHost: .*unix:\/\/\/var\/run\/docker\.sock/);
    assert.match(outcome.error, /n8n-fleet:targets\.eu-1\.capacity\.memoryGb: is required but missing/);
    assert.deepEqual(outcome.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"), []);
});

test("volume and secret inputs do not depend on the stack's name either", async () => {
    const dev = await runFleet({ tenants: BASE, stack: "dev" });
    const renamed = await runFleet({ tenants: BASE, stack: "production" });
    assert.deepEqual(statefulInputs(renamed.resources), statefulInputs(dev.resources));
});
