import { test } from "node:test";
import assert from "node:assert/strict";
import { CPU_FLOOR, Limits, MEMORY_FLOOR_MB, MIN_CPUS_PER_CONTAINER, MIN_TENANT_CPUS, TenantSizing, minimumCpus, minimumMemoryMb, sizeTenant } from "../fleet/tenants/sizing";
import { isStableCpus, stableCpus } from "../fleet/forms/dockerForms";
import { MAX_WORKERS } from "../fleet/tenants/tenantsSchema";

/** What one tenant's containers are given together: PostgreSQL, its two backup containers, Redis, main, and each worker with its runner. */
function totalLimits(sizing: TenantSizing, workers: number): Limits {
    const parts: Limits[] = [sizing.postgres, sizing.backup, sizing.backup, sizing.redis, sizing.main, ...Array<Limits>(workers).fill(sizing.worker), ...Array<Limits>(workers).fill(sizing.runner)];
    return {
        memoryMb: parts.reduce((sum, p) => sum + p.memoryMb, 0),
        cpus: Math.round(parts.reduce((sum, p) => sum + p.cpus, 0) * 100) / 100,
    };
}

const BUDGETS = [
    { cpus: MIN_TENANT_CPUS, memoryMb: 0 },
    { cpus: 1, memoryMb: 0 },
    { cpus: 2, memoryMb: 4096 },
    { cpus: 3.3, memoryMb: 7000 },
    { cpus: 16, memoryMb: 65536 },
];

test("the limits of a tenant's containers never add up to more than its budget", () => {
    for (let workers = 1; workers <= MAX_WORKERS; workers++) {
        for (const budget of BUDGETS) {
            const memoryMb = Math.max(budget.memoryMb, minimumMemoryMb(workers));
            const cpus = Math.max(budget.cpus, minimumCpus(workers));
            const total = totalLimits(sizeTenant({ cpus, memoryMb }, workers), workers);
            assert.ok(total.memoryMb <= memoryMb, `${workers} workers, ${memoryMb} MiB: ${total.memoryMb} MiB allotted`);
            assert.ok(total.cpus <= cpus + 1e-9, `${workers} workers, ${cpus} CPU: ${total.cpus} allotted`);
        }
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
        for (const limits of [sizing.postgres, sizing.backup, sizing.redis, sizing.runner]) assert.ok(limits.cpus >= MIN_CPUS_PER_CONTAINER);
        for (const limits of [sizing.main, sizing.worker]) assert.ok(limits.cpus >= CPU_FLOOR.n8n, "n8n's start is CPU-bound");
    }
    assert.equal(minimumCpus(1), 1, "main and worker at 0.25, five more containers at 0.1");
    assert.ok(minimumCpus(1) >= MIN_TENANT_CPUS);
});

test("every CPU quota the sizing gives, for any budget in hundredths, is one the provider reads back unchanged", () => {
    for (let workers = 1; workers <= MAX_WORKERS; workers += 3) {
        for (let hundredths = Math.round(minimumCpus(workers) * 100); hundredths <= 3300; hundredths += 7) {
            const sizing = sizeTenant({ cpus: hundredths / 100, memoryMb: minimumMemoryMb(workers) }, workers);
            for (const limits of [sizing.postgres, sizing.backup, sizing.redis, sizing.main, sizing.worker, sizing.runner]) {
                const declared = stableCpus(limits.cpus);
                assert.ok(isStableCpus(declared), `${workers} workers, ${hundredths / 100} CPU: ${declared} would read back otherwise`);
                assert.equal(Number(declared), limits.cpus);
            }
        }
    }
});

test("the architecture notes' 2 CPU / 4 GB tenant with one worker uses most of its budget", () => {
    const total = totalLimits(sizeTenant({ cpus: 2, memoryMb: 4096 }, 1), 1);
    assert.ok(total.memoryMb >= 4096 * 0.98, `${total.memoryMb} MiB of 4096 allotted`);
    assert.ok(total.cpus >= 1.9, `${total.cpus} CPU of 2 allotted`);
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
