import { test } from "node:test";
import assert from "node:assert/strict";
import { Limits, MEMORY_FLOOR_MB, MIN_TENANT_CPUS, PIDS_PER_CONTAINER, TenantSizing, containerCount, minimumCpus, minimumMemoryMb, sizeTenant } from "../fleet/tenants/sizing";
import { MAX_WORKERS } from "../fleet/tenants/tenantsSchema";

/** What one tenant's containers are given together: PostgreSQL, its two backup containers, Redis, main, and each worker with its runner. */
function parts(sizing: TenantSizing, workers: number): Limits[] {
    return [sizing.postgres, sizing.backup, sizing.backup, sizing.redis, sizing.main, ...Array<Limits>(workers).fill(sizing.worker), ...Array<Limits>(workers).fill(sizing.runner)];
}
function totalMemoryMb(sizing: TenantSizing, workers: number): number {
    return parts(sizing, workers).reduce((sum, p) => sum + p.memoryMb, 0);
}

const BUDGETS = [
    { cpus: MIN_TENANT_CPUS, memoryMb: 0 },
    { cpus: 1, memoryMb: 0 },
    { cpus: 2, memoryMb: 4096 },
    { cpus: 3.3, memoryMb: 7000 },
    { cpus: 16, memoryMb: 65536 },
];

test("the envelope is the whole budget, and the containers' memory limits never add up to more", () => {
    for (let workers = 1; workers <= MAX_WORKERS; workers++) {
        for (const budget of BUDGETS) {
            const memoryMb = Math.max(budget.memoryMb, minimumMemoryMb(workers));
            const cpus = Math.max(budget.cpus, minimumCpus(workers));
            const sizing = sizeTenant({ cpus, memoryMb }, workers);
            assert.deepEqual({ cpus: sizing.envelope.cpus, memoryMb: sizing.envelope.memoryMb }, { cpus, memoryMb });
            const total = totalMemoryMb(sizing, workers);
            assert.ok(total <= memoryMb, `${workers} workers, ${memoryMb} MiB: ${total} MiB allotted`);
            assert.equal(sizing.envelope.pidsMax, PIDS_PER_CONTAINER * containerCount(workers));
            assert.ok(sizing.envelope.ioWeight >= 10 && sizing.envelope.ioWeight <= 1000);
        }
    }
    assert.equal(sizeTenant({ cpus: 2, memoryMb: 4096 }, 1).envelope.ioWeight, 200, "100 per CPU");
});

test("CPU is weighted, never split: n8n processes weigh most, and no container has a quota of its own", () => {
    for (let workers = 1; workers <= MAX_WORKERS; workers += 3) {
        const sizing = sizeTenant({ cpus: minimumCpus(workers), memoryMb: minimumMemoryMb(workers) }, workers);
        for (const limits of parts(sizing, workers)) {
            assert.ok(Number.isInteger(limits.cpuShares) && limits.cpuShares >= 2, `${limits.cpuShares} is not a Docker CPU weight`);
            assert.equal((limits as unknown as { cpus?: number }).cpus, undefined);
        }
        assert.equal(sizing.worker.cpuShares, 1024, "Docker's default weight");
        assert.ok(sizing.worker.cpuShares > sizing.postgres.cpuShares && sizing.postgres.cpuShares > sizing.redis.cpuShares);
        // The weights do not follow the budget: a bigger envelope, the same shares.
        assert.deepEqual(sizeTenant({ cpus: 8, memoryMb: minimumMemoryMb(workers) }, workers).worker, sizing.worker);
    }
});

test("at the minimum budget every process gets at least its floor", () => {
    for (let workers = 1; workers <= MAX_WORKERS; workers++) {
        const sizing = sizeTenant({ cpus: minimumCpus(workers), memoryMb: minimumMemoryMb(workers) }, workers);
        assert.ok(sizing.postgres.memoryMb >= MEMORY_FLOOR_MB.postgres);
        assert.ok(sizing.redis.memoryMb >= MEMORY_FLOOR_MB.redis);
        assert.ok(sizing.main.memoryMb >= MEMORY_FLOOR_MB.n8n);
        assert.ok(sizing.runner.memoryMb >= MEMORY_FLOOR_MB.runner);
        assert.ok(sizing.backup.memoryMb >= MEMORY_FLOOR_MB.backup);
    }
    assert.equal(minimumCpus(1), 1, "main and worker at 0.25, five more containers at 0.1");
    assert.ok(minimumCpus(1) >= MIN_TENANT_CPUS);
});

test("the architecture notes' 2 CPU / 4 GB tenant with one worker uses most of its budget", () => {
    const sizing = sizeTenant({ cpus: 2, memoryMb: 4096 }, 1);
    const total = totalMemoryMb(sizing, 1);
    assert.ok(total >= 4096 * 0.98, `${total} MiB of 4096 allotted`);
    // Any one container may use all 2 CPUs when the others are idle: the envelope's quota is the only CPU limit.
    assert.equal(sizing.envelope.cpus, 2);
});

test("more memory means a bigger heap, Redis maxmemory and shared_buffers, each below its container's limit", () => {
    const small = sizeTenant({ cpus: 2, memoryMb: 4096 }, 1);
    const large = sizeTenant({ cpus: 2, memoryMb: 8192 }, 1);
    assert.ok(large.n8nHeapMb > small.n8nHeapMb);
    assert.ok(large.redis.maxMemoryMb > small.redis.maxMemoryMb);
    assert.ok(large.postgres.sharedBuffersMb > small.postgres.sharedBuffersMb);
    for (const sizing of [small, large]) {
        assert.ok(sizing.n8nHeapMb < sizing.main.memoryMb);
        assert.ok(sizing.redis.maxMemoryMb < sizing.redis.memoryMb);
        assert.ok(sizing.postgres.sharedBuffersMb < sizing.postgres.memoryMb);
    }
});

test("each extra worker raises the minimum by one n8n process and one runner", () => {
    assert.equal(minimumMemoryMb(3) - minimumMemoryMb(2), MEMORY_FLOOR_MB.n8n + MEMORY_FLOOR_MB.runner);
});
