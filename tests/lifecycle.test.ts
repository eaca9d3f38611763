/**
 * What `pulumi up` does after each edit of tenants.json, as the providers would carry it out: the
 * registrations of two runs compared through the providers' own rules (tests/harness/providerModel.ts).
 * Data and keys never change, containers follow, suspension stops and resumption starts, the other
 * tenant is untouched, and a broken file stops the run before anything is registered.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { FleetRun, FleetRunOptions, TYPES, runFleetInChild } from "./harness/runFleet";
import { Change, changesBetween, unappliedChanges } from "./harness/providerModel";
import type { Registration } from "./harness/recordingMocks";

const ACME = { id: "acme", port: 5701 };
const GLOBEX = { id: "globex", port: 5702 };

async function runFleet(options: FleetRunOptions): Promise<FleetRun> {
    const outcome = await runFleetInChild(options);
    if (!outcome.ok) throw new Error(outcome.error);
    return outcome.run;
}

const fleetOf = (...tenants: object[]) => ({ tenants });

/** acme's containers by role, as `role: change`, plus a line for everything else that changes. */
function summary(before: FleetRun, after: FleetRun): Record<string, Change | Change[]> {
    const changes = changesBetween(before, after);
    const all = [...before.resources, ...after.resources];
    const role = (name: string) => all.find((r) => r.name === name)?.inputs.labels?.find((l: { label: string }) => l.label === "n8n-fleet.role")?.value;
    const out: Record<string, Change[]> = {};
    for (const [name, change] of changes) {
        if (change === "none") continue;
        const key = name.startsWith("acme-") && role(name) ? role(name) : name;
        (out[key] ??= []).push(change);
    }
    return Object.fromEntries(Object.entries(out).map(([key, list]) => [key, list.length === 1 ? list[0] : list.sort()]));
}

/** Each target's host guard: its rules follow every tenant on the host, so tenant edits may replace it. */
const isHostGuard = (name: string) => name.endsWith("-host-guard");

const roleOf = (r: Registration) => r.inputs.labels?.find((l: { label: string }) => l.label === "n8n-fleet.role")?.value;
/** A container's run volume holds its files (written again by the tenant's files writer), no data. */
const isRunVolume = (r: Registration) => r.type === TYPES.volume && roleOf(r) === "run";

describe("every edit of a tenant does what the README's table says, and nothing else", () => {
    let base: FleetRun;
    before(async () => {
        base = await runFleet({ tenants: fleetOf(ACME, GLOBEX) });
    });

    const edits: { edit: string; acme: object; expected: Record<string, Change | Change[]> }[] = [
        // A new one-shot takes a backup set before the new version touches the data; the sidecar records the version.
        // The new one-shot gets its files on a run volume of its own (the old one's goes), written by a new files writer.
        {
            edit: "another n8n version",
            acme: { n8nVersion: "2.40.0" },
            expected: {
                backup: ["create", "delete", "replace"],
                main: "replace",
                worker: "replace",
                runner: "replace",
                "files-writer": "replace",
                run: ["create", "delete"],
                "eu-1-image-docker.n8n.io/n8nio/n8n:2.40.0": "create",
                "eu-1-image-n8nio/runners:2.40.0": "create",
            },
        },
        // The default URL holds the port, and main and workers both know the URL.
        { edit: "another port", acme: { port: 5799 }, expected: { main: "replace", worker: "replace" } },
        { edit: "another time zone", acme: { timezone: "Europe/Paris" }, expected: { main: "replace", worker: "replace", runner: "replace" } },
        { edit: "another URL", acme: { url: "https://acme.example.com" }, expected: { main: "replace", worker: "replace" } },
        { edit: "an extra n8n variable", acme: { env: { N8N_SMTP_HOST: "smtp.example.com" } }, expected: { main: "replace", worker: "replace" } },
        { edit: "another concurrency", acme: { concurrency: 20 }, expected: { worker: "replace" } },
        // The envelope's limits are the keeper's (a new keeper, created before the old one goes); memory
        // limits change in place (docker update) where no setting follows them (the backups, the runner).
        {
            edit: "a bigger budget",
            acme: { resources: { cpus: 4, memoryGb: 8 } },
            expected: { "eu-1-envelopes": "replace", postgres: "replace", redis: "replace", backup: ["update", "update"], main: "replace", worker: "replace", runner: "update" },
        },
        // The new worker and its runner get their files on run volumes of their own, written by a new files writer.
        {
            edit: "a second worker",
            acme: { workers: 2 },
            expected: {
                "eu-1-envelopes": "replace",
                postgres: "replace",
                redis: "replace",
                backup: ["update", "update"],
                main: "replace",
                worker: ["create", "replace"],
                runner: ["create", "update"],
                "files-writer": "replace",
                run: ["create", "create"],
            },
        },
        // The backup containers are replaced by stopped ones too.
        // The one-shots that set the volumes' owners and write the containers' files run whatever the status; their status
        // label still replaces them (they run again, changing nothing).
        {
            edit: "suspension",
            acme: { status: "suspended" },
            expected: { "volume-owners": "replace", "files-writer": "replace", postgres: "replace", redis: "replace", backup: ["replace", "replace"], main: "replace", worker: "replace", runner: "replace" },
        },
        // n8n's own SSRF exceptions, and the host guard's rules for acme's bridges: a new guard, created before the old one goes.
        { edit: "an allowed address range", acme: { outbound: { allowIpRanges: ["10.20.0.0/16"] } }, expected: { main: "replace", worker: "replace", "eu-1-host-guard": "replace" } },
    ];

    for (const { edit, acme, expected } of edits) {
        test(`${edit}: ${Object.entries(expected).map(([what, change]) => `${what} ${change}`).join(", ")}`, async () => {
            const after = await runFleet({ tenants: fleetOf({ ...ACME, ...acme }, GLOBEX) });
            assert.deepEqual(summary(base, after), expected);
            const before = new Map(base.resources.map((r) => [r.urn, r]));
            for (const r of after.resources) {
                const was = before.get(r.urn);
                if (was) assert.deepEqual(unappliedChanges(was, r), [], `${r.name}: the provider would record these inputs without applying them`);
            }
        });
    }

    test("with a URL of its own, another port replaces only the main", async () => {
        const url = "https://acme.example.com";
        const [before, after] = await Promise.all([runFleet({ tenants: fleetOf({ ...ACME, url }, GLOBEX) }), runFleet({ tenants: fleetOf({ ...ACME, url, port: 5799 }, GLOBEX) })]);
        assert.deepEqual(summary(before, after), { main: "replace" });
    });

    test("removing a worker deletes that worker and its runner, and re-sizes the rest", async () => {
        const two = await runFleet({ tenants: fleetOf({ ...ACME, workers: 2 }, GLOBEX) });
        const changes = changesBetween(two, base);
        assert.equal(changes.get("acme-n8n-worker-2"), "delete");
        assert.equal(changes.get("acme-n8n-worker-2-runner"), "delete");
        assert.equal(changes.get("acme-postgres-data"), "none");
    });

    test("adding a tenant changes nothing of the others", async () => {
        const after = await runFleet({ tenants: fleetOf(ACME, GLOBEX, { id: "initech", port: 5703 }) });
        const changes = changesBetween(base, after);
        // The host guard's rules cover the new tenant's networks too, and the keeper holds its envelope: each replaced by a new one.
        for (const [name, change] of changes) if (!name.startsWith("initech") && !isHostGuard(name) && name !== "eu-1-envelopes") assert.equal(change, "none", name);
        assert.equal(changes.get("eu-1-host-guard"), "replace");
        assert.equal(changes.get("eu-1-envelopes"), "replace");
    });
});

describe("suspension and resumption are carried out by the provider", () => {
    let active: FleetRun;
    let suspended: FleetRun;
    before(async () => {
        [active, suspended] = await Promise.all([
            runFleet({ tenants: fleetOf(ACME, GLOBEX) }),
            runFleet({ tenants: fleetOf({ ...ACME, status: "suspended" }, GLOBEX) }),
        ]);
    });

    // The services; the one-shot backup before an upgrade is awaited to its end, not to health.
    const acmeContainers = (run: FleetRun) => run.ofType(TYPES.container).filter((c) => c.name.startsWith("acme-") && !c.inputs.attach);

    test("suspending replaces every running container by one that is created stopped, never restarts, and is not awaited", () => {
        const changes = changesBetween(active, suspended);
        for (const c of acmeContainers(suspended)) {
            assert.equal(changes.get(c.name), "replace", `${c.name} would keep running`);
            assert.equal(c.inputs.start, false);
            assert.equal(c.inputs.mustRun, false);
            assert.equal(c.inputs.restart, "no");
            assert.equal(c.inputs.wait, false);
        }
        assert.equal(acmeContainers(suspended).length, 6);
    });

    test("resuming replaces the stopped containers by running ones, each service awaited healthy", () => {
        const changes = changesBetween(suspended, active);
        for (const c of acmeContainers(active)) {
            assert.equal(changes.get(c.name), "replace", `${c.name} would stay stopped`);
            assert.equal(c.inputs.start, true);
            assert.equal(c.inputs.mustRun, true);
            assert.equal(c.inputs.restart, "unless-stopped");
        }
        // The backup sidecar is not awaited: its first set may take long, and its health says so later.
        for (const c of acmeContainers(active).filter((c) => c.name !== "acme-backup")) assert.equal(c.inputs.wait, true, c.name);
    });

    test("a suspended tenant keeps its networks, volumes, passwords and key; the other tenant is untouched", () => {
        for (const [name, change] of changesBetween(active, suspended)) {
            const r = suspended.resources.find((x) => x.name === name) as Registration;
            // The host guard included: a suspended tenant keeps its networks, so the rules for them stay as they are.
            if (r.type !== TYPES.container || !name.startsWith("acme-")) assert.equal(change, "none", `${name} would ${change}`);
        }
        // postgres, redis, n8n, the workflows' files, backups; and its containers' run volumes, kept too (above).
        assert.equal(suspended.ofType(TYPES.volume).filter((v) => v.name.startsWith("acme-") && !isRunVolume(v)).length, 5);
        assert.equal(suspended.ofType(TYPES.password).filter((v) => v.name.startsWith("acme-")).length, 5);
    });
});

describe("archiving and leaving", () => {
    let active: FleetRun;
    let archived: FleetRun;
    before(async () => {
        [active, archived] = await Promise.all([runFleet({ tenants: fleetOf(ACME, GLOBEX) }), runFleet({ tenants: fleetOf({ ...ACME, status: "archived" }, GLOBEX) })]);
    });

    test("archiving takes a final backup set, then removes the tenant's containers and egress network, and keeps its data", () => {
        const changes = changesBetween(active, archived);
        const acme = [...changes].filter(([name]) => name.startsWith("acme-"));
        // Each container with its run volume (its files).
        assert.deepEqual(acme.filter(([, change]) => change === "create").map(([name]) => name).sort(), ["acme-backup-final", "acme-backup-final-run"]);
        const removed = ["acme-backup", "acme-backup-before-n8n-2.41.1", "acme-n8n", "acme-n8n-worker-1", "acme-n8n-worker-1-runner", "acme-postgres", "acme-redis"];
        assert.deepEqual(
            acme.filter(([, change]) => change === "delete").map(([name]) => name).sort(),
            [...removed, ...removed.map((name) => `${name}-run`), "acme-egress"].sort(),
        );
        // The one-shots that set the volumes' owners and write the final backup's files run again before it (their status
        // label changed, and the files writer's files); they change no data.
        const oneShots = ["acme-volume-owners", "acme-files"];
        for (const name of oneShots) assert.equal(changes.get(name), "replace", name);
        for (const [name, change] of acme) if (!["create", "delete"].includes(change) && !oneShots.includes(name)) assert.equal(change, "none", name);
        const final = archived.named("acme-backup-final");
        // A one-shot awaited to its end; the program checks its exit status (below).
        assert.deepEqual(
            [final.inputs.start, final.inputs.mustRun, final.inputs.wait, final.inputs.attach, final.inputs.restart, final.inputs.command.slice(1)],
            [true, false, false, true, "no", ["once", "final"]],
        );
        // Pulumi deletes what left the program after creating what is new: PostgreSQL still answers on the backend network.
        assert.deepEqual(final.inputs.networksAdvanced.map((n: { name: string }) => n.name), ["acme-backend"]);
        // acme's egress bridge leaves the host guard's rules: a new guard replaces the old one.
        assert.equal(changes.get("eu-1-host-guard"), "replace");
        for (const [name, change] of changes) if (!name.startsWith("acme-") && !isHostGuard(name)) assert.equal(change, "none", name);
    });

    test("an archived tenant's volumes, backups and secrets are kept when it leaves tenants.json, no longer protected against it", () => {
        const stateful = archived.resources.filter((r) => r.name.startsWith("acme-") && ((r.type === TYPES.volume && !isRunVolume(r)) || r.type === TYPES.password));
        // 5 volumes (postgres, redis, n8n, the workflows' files, backups) and 5 secrets.
        assert.equal(stateful.length, 10);
        // The final backup's run volume holds only its files: it goes with the tenant.
        assert.deepEqual(archived.resources.filter((r) => r.name.startsWith("acme-") && isRunVolume(r)).map((r) => [r.name, r.protect, r.retainOnDelete]), [["acme-backup-final-run", false, false]]);
        for (const r of stateful) assert.deepEqual([r.protect, r.retainOnDelete], [false, true], r.name);
        for (const r of active.resources.filter((r) => r.name.startsWith("acme-") && r.type === TYPES.volume && !isRunVolume(r))) assert.deepEqual([r.protect, r.retainOnDelete], [true, false], r.name);
    });
});

describe("a one-shot that fails stops the update", () => {
    // The provider records a one-shot's exit status and goes on; the program must stop on it.
    test("a failed backup before an upgrade stops `pulumi up` before any n8n container of the tenant is replaced, and says why and what to do", async () => {
        const outcome = await runFleetInChild({ tenants: fleetOf({ ...ACME, n8nVersion: "2.40.0" }, GLOBEX), exitCodes: { "acme-backup-before-n8n-2.40.0": 1 } });
        assert.equal(outcome.ok, false);
        if (outcome.ok) return;
        assert.equal(outcome.isRunError, true);
        assert.match(outcome.error, /acme-backup-before-n8n-2\.40\.0 exited with status 1: the backup before n8n 2\.40\.0 failed, so nothing of tenant "acme" was upgraded/);
        assert.match(outcome.error, /`docker logs acme-backup-before-n8n-2\.40\.0` on unix:\/\/\/var\/run\/docker\.sock|`docker logs acme-backup-before-n8n-2\.40\.0` on ssh:\/\/deploy@eu-1\.example\.com/);
        assert.match(outcome.error, /npm run pulumi -- up --replace 'urn:pulumi:test::n8n-fleet::n8n-fleet:index:ClientInstance\$docker:index\/container:Container::acme-backup-before-n8n-2\.40\.0'/);
        const registered = outcome.resources.map((r) => r.name);
        for (const name of ["acme-n8n", "acme-n8n-worker-1", "acme-n8n-worker-1-runner", "acme-backup"]) assert.ok(!registered.includes(name), `${name} was registered after the failed backup`);
    });

    test("a backup before an upgrade that exits 0 lets the upgrade go on", async () => {
        const outcome = await runFleetInChild({ tenants: fleetOf({ ...ACME, n8nVersion: "2.40.0" }), exitCodes: { "acme-backup-before-n8n-2.40.0": 0 } });
        assert.equal(outcome.ok, true, outcome.ok ? "" : outcome.error);
    });

    test("a failed final backup stops the archiving before anything of the tenant is removed", async () => {
        const outcome = await runFleetInChild({ tenants: fleetOf({ ...ACME, status: "archived" }), exitCodes: { "acme-backup-final": 2 } });
        assert.equal(outcome.ok, false);
        if (outcome.ok) return;
        assert.match(outcome.error, /acme-backup-final exited with status 2: the final backup of tenant "acme" failed, so none of its containers was removed/);
    });
});

describe("state that must survive", () => {
    const statefulInputs = (resources: Registration[]) =>
        // Run volumes hold no state (only files the files writer writes again): they follow the containers.
        Object.fromEntries(resources.filter((r) => (r.type === TYPES.volume && !isRunVolume(r)) || r.type === TYPES.password).map((r) => [r.name, r.inputs]));

    test("volumes and secrets get identical inputs after any edit, and whatever the stack's name", async () => {
        const [before, edited, renamed] = await Promise.all([
            runFleet({ tenants: fleetOf(ACME) }),
            runFleet({
                tenants: fleetOf({ ...ACME, port: 5799, n8nVersion: "2.40.0", workers: 3, concurrency: 20, resources: { cpus: 4, memoryGb: 8, diskGb: 40 }, timezone: "Europe/Paris", status: "suspended" }),
            }),
            runFleet({ tenants: fleetOf(ACME), stack: "production" }),
        ]);
        // 5 volumes (postgres, redis, n8n, the workflows' files, backups) and 5 secrets.
        assert.equal(Object.keys(statefulInputs(before.resources)).length, 10);
        assert.deepEqual(statefulInputs(edited.resources), statefulInputs(before.resources));
        assert.deepEqual(statefulInputs(renamed.resources), statefulInputs(before.resources));
    });
});

describe("files that stop the run", () => {
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
        const outcome = await runFleetInChild({ tenants: fleetOf(ACME), targets: { "eu-1": { dockerHost: "docker.example.com", publicHost: "x", acceptSharedCookies: true, capacity: { cpus: 16 } } } });
        assert.ok(!outcome.ok, "the run succeeded");
        assert.match(outcome.error, /Pulumi\.test\.yaml: n8n-fleet:targets\.eu-1\.dockerHost: .*unix:\/\/\/var\/run\/docker\.sock/);
        assert.match(outcome.error, /n8n-fleet:targets\.eu-1\.capacity\.memoryGb: is required but missing/);
        assert.deepEqual(outcome.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"), []);
    });
});
