/**
 * The envelope keeper's script (fleet/containers/envelopes.sh) against a cgroup tree made of plain
 * folders in a temporary folder, in the layout of each cgroup version: what it writes where, what
 * its health check accepts and refuses. The real kernel files are written by the Docker test
 * (tests/docker/envelopes.test.ts and the fleet test's envelope check, cgroup v1).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ENVELOPES_SCRIPT, envelopeKeeperContainer, envelopeParent, envelopeRules } from "../fleet/containers/envelopes";
import { LOCAL_TARGETS, targetsOf, validate } from "./harness/plans";
import { tempFolder } from "./harness/tempFiles";

function plans() {
    const result = validate(
        JSON.stringify({ tenants: [{ id: "acme", port: 5701 }, { id: "globex", port: 5702, workers: 2, resources: { cpus: 3.5, memoryGb: 6 } }] }),
        { targets: targetsOf(LOCAL_TARGETS) },
    );
    assert.ok(result.ok, result.ok ? "" : JSON.stringify(result.problems));
    return result.tenants;
}

function run(root: string, mode: string, rules: string): { status: number | null; output: string } {
    const done = spawnSync("sh", ["-c", ENVELOPES_SCRIPT, "envelopes", mode], {
        env: { PATH: process.env.PATH, ENVELOPE_ROOT: root, ENVELOPE_PARENT: "n8n-fleet-test", ENVELOPE_RULES: rules },
        encoding: "utf8",
    });
    return { status: done.status, output: `${done.stdout}${done.stderr}` };
}

const read = (path: string) => readFileSync(path, "utf8").trim();

describe("the envelope keeper's script", () => {
    const rules = envelopeRules(plans());

    test("the rules: per tenant its CPU quota per 100 ms, its memory in bytes, its PID cap and I/O weight, from its budget", () => {
        assert.deepEqual(rules.split("\n"), [`acme 200000 ${4 * 1024 ** 3} 896 200`, `globex 350000 ${6 * 1024 ** 3} 1152 350`]);
        const keeper = envelopeKeeperContainer("n8n-fleet/dev", "local", plans());
        assert.equal(keeper.environment.ENVELOPE_PARENT, envelopeParent("n8n-fleet/dev", "local"));
        assert.notEqual(envelopeParent("n8n-fleet/dev", "local"), envelopeParent("n8n-fleet/prod", "local"), "two stacks on one host share a folder");
        assert.notEqual(keeper.name, envelopeKeeperContainer("n8n-fleet/dev", "local", plans().slice(0, 1)).name, "the keeper's name does not follow its rules");
    });

    test("cgroup v1: a folder per controller; limits written, the health check passes, then fails once one is lost", () => {
        const root = mkdtempSync(join(tempFolder(), "cgroup-v1-"));
        try {
            for (const controller of ["cpu", "memory", "pids", "blkio"]) mkdirSync(join(root, controller));
            assert.equal(run(root, "check", rules).status, 1, "healthy before anything was written");
            const applied = run(root, "apply", rules);
            assert.equal(applied.status, 0, applied.output);
            assert.equal(read(join(root, "cpu/n8n-fleet-test/acme/cpu.cfs_quota_us")), "200000");
            assert.equal(read(join(root, "cpu/n8n-fleet-test/acme/cpu.cfs_period_us")), "100000");
            assert.equal(read(join(root, "memory/n8n-fleet-test/globex/memory.limit_in_bytes")), String(6 * 1024 ** 3));
            assert.equal(read(join(root, "pids/n8n-fleet-test/globex/pids.max")), "1152");
            assert.equal(run(root, "check", rules).status, 0);
            // A reboot, or someone's echo: the health check says which limit is off, and the next round puts it back.
            writeFileSync(join(root, "pids/n8n-fleet-test/acme/pids.max"), "max\n");
            const check = run(root, "check", rules);
            assert.equal(check.status, 1);
            assert.match(check.output, /acme: pids\.max is not 896/);
            assert.equal(run(root, "apply", rules).status, 0);
            assert.equal(run(root, "check", rules).status, 0);
        } finally {
            rmSync(root, { recursive: true, force: true });
        }
    });

    test("cgroup v2: one folder per tenant with cpu.max, memory.max, no swap, pids.max and the I/O weight where the file exists", () => {
        const root = mkdtempSync(join(tempFolder(), "cgroup-v2-"));
        try {
            writeFileSync(join(root, "cgroup.controllers"), "cpuset cpu io memory pids\n");
            mkdirSync(join(root, "n8n-fleet-test/acme"), { recursive: true });
            for (const file of ["memory.swap.max", "io.weight"]) writeFileSync(join(root, "n8n-fleet-test/acme", file), "max\n");
            const applied = run(root, "apply", rules);
            assert.equal(applied.status, 0, applied.output);
            assert.equal(read(join(root, "n8n-fleet-test/acme/cpu.max")), "200000 100000");
            assert.equal(read(join(root, "n8n-fleet-test/acme/memory.max")), String(4 * 1024 ** 3));
            assert.equal(read(join(root, "n8n-fleet-test/acme/memory.swap.max")), "0");
            assert.equal(read(join(root, "n8n-fleet-test/acme/io.weight")), "default 200");
            assert.equal(read(join(root, "n8n-fleet-test/globex/pids.max")), "1152");
            assert.equal(run(root, "check", rules).status, 0);
            assert.equal(run(root, "check", rules.replace("acme 200000", "acme 300000")).status, 1, "a changed quota passes the check");
        } finally {
            rmSync(root, { recursive: true, force: true });
        }
    });

    test("an unknown mode is refused with the usage", () => {
        const refused = run("/nonexistent", "reload", rules);
        assert.equal(refused.status, 2);
        assert.match(refused.output, /usage: envelopes run \| apply \| check/);
    });
});
