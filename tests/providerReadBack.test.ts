/**
 * A second `pulumi up` changes nothing only if every input the Docker provider reads back from
 * Docker is declared in the form it reads back. The mock monitor echoes inputs, so this models the
 * provider's read (kreuzwerker/terraform-provider-docker, resource_docker_container_funcs.go and
 * helpers.go) and checks every container the program declares against it.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpusReadBack, goDuration, parseCpus } from "../fleet/forms/dockerForms";
import { minimumCpus, minimumMemoryMb } from "../fleet/tenants/sizing";
import { FleetRun, TYPES, runFleetInChild } from "./harness/runFleet";

/** Go's time.ParseDuration for the units a health check uses. */
function parseGoDuration(text: string): number {
    const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
    assert.ok(match && text !== "", `"${text}" is not a Go duration`);
    const [, h = "0", m = "0", s = "0"] = match;
    return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

describe("the provider's formats, from its source", () => {
    test("NanoCPUs read back: one decimal where the nine-decimal form has exactly nine zeros, otherwise trailing zeros trimmed", () => {
        const cases: [string, string][] = [["1", "1.0"], ["0.3", "0.3"], ["0.30", "0.3"], ["1.00", "1.0"], ["0.25", "0.25"], ["0.05", "0.1"], ["0.01", "0.0"], ["10", "10."], ["20.5", "20.5"], ["2.75", "2.75"]];
        for (const [declared, readBack] of cases) assert.equal(cpusReadBack(parseCpus(declared)), readBack, declared);
    });

    test("health check durations read back as Go writes them", () => {
        const cases: [number, string][] = [[0, "0s"], [5, "5s"], [30, "30s"], [60, "1m0s"], [120, "2m0s"], [90, "1m30s"], [3600, "1h0m0s"], [3725, "1h2m5s"]];
        for (const [seconds, text] of cases) {
            assert.equal(goDuration(seconds), text);
            assert.equal(parseGoDuration(text), seconds);
        }
    });
});

describe("every container of a varied fleet is declared as the provider reads it back", () => {
    let run: FleetRun;
    before(async () => {
        const outcome = await runFleetInChild({
            tenants: {
                tenants: [
                    { id: "tiny", port: 5701, resources: { cpus: minimumCpus(1), memoryGb: minimumMemoryMb(1) / 1024 } },
                    { id: "odd", port: 5702, workers: 3, resources: { cpus: 1.73, memoryGb: 5 } },
                    { id: "big", port: 5703, workers: 2, resources: { cpus: 10, memoryGb: 20 }, target: "us-1" },
                    { id: "asleep", port: 5704, status: "suspended" },
                ],
            },
        });
        if (!outcome.ok) throw new Error(outcome.error);
        run = outcome.run;
    });

    test("cpus where a container has a quota of its own (the host agents), and whole CPU shares where it has a weight in its tenant's envelope", () => {
        for (const c of run.ofType(TYPES.container)) {
            if (c.inputs.cpus !== undefined) assert.equal(cpusReadBack(parseCpus(c.inputs.cpus)), c.inputs.cpus, `${c.name} declares cpus ${c.inputs.cpus}`);
            else assert.ok(Number.isInteger(c.inputs.cpuShares) && c.inputs.cpuShares >= 2, `${c.name} declares neither cpus nor a CPU weight Docker keeps as it is`);
        }
        assert.ok(run.ofType(TYPES.container).some((c) => c.inputs.cpus !== undefined), "no container left with a quota: the check above checks nothing");
    });

    test("health check interval, timeout and start period", () => {
        for (const c of run.ofType(TYPES.container)) {
            if (!c.inputs.healthcheck) continue; // a one-shot
            for (const field of ["interval", "timeout", "startPeriod"]) {
                const declared = c.inputs.healthcheck[field];
                assert.equal(goDuration(parseGoDuration(declared)), declared, `${c.name} declares healthcheck.${field} ${declared}`);
            }
            assert.ok(Number.isInteger(c.inputs.healthcheck.retries) && c.inputs.healthcheck.retries > 0);
        }
    });

    test("memory and swap in whole MiB, swap equal to memory (Docker would otherwise store twice the memory)", () => {
        for (const c of run.ofType(TYPES.container)) {
            assert.ok(Number.isInteger(c.inputs.memory) && c.inputs.memory > 0, c.name);
            assert.equal(c.inputs.memorySwap, c.inputs.memory, c.name);
        }
    });

    test("stop timeout, capabilities, security options and ports in the form Docker stores them", () => {
        for (const c of run.ofType(TYPES.container)) {
            assert.ok(Number.isInteger(c.inputs.stopTimeout) && c.inputs.stopTimeout > 0, `${c.name} stopTimeout`);
            assert.deepEqual(c.inputs.securityOpts, ["no-new-privileges:true"]);
            if (c.inputs.capabilities) {
                assert.deepEqual(c.inputs.capabilities.drops, ["ALL"], c.name);
                for (const added of c.inputs.capabilities.adds ?? []) assert.match(added, /^CAP_[A-Z_]+$/, `${c.name}: a single capability reads back as CAP_<NAME>`);
            }
            for (const port of c.inputs.ports ?? []) assert.match(port.ip, /^\d+\.\d+\.\d+\.\d+$/, `${c.name}: an explicit address, never left to the provider's default`);
        }
    });

    test("file modes are octal strings the provider accepts (^0[0-7]{3}$)", () => {
        const uploads = run.ofType(TYPES.container).flatMap((c) => (c.inputs.uploads ?? []).map((u: { permissions?: string; executable?: boolean }) => ({ name: c.name, ...u })));
        assert.ok(uploads.length > 0);
        for (const upload of uploads) {
            assert.match(upload.permissions ?? "", /^0[0-7]{3}$/, upload.name);
            assert.equal(upload.executable, undefined, `${upload.name}: executable gives 0744, which only root may execute`);
        }
    });
});
