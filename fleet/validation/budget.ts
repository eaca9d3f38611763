/**
 * A tenant's budget: enough memory, CPU and disk for the containers it runs (floors from sizing).
 */
import type { TenantSettings } from "../tenants/tenantsSchema";
import { containerCount, minimumCpus, minimumMemoryMb } from "../tenants/sizing";
import { MIB_PER_GIB, budgetOf } from "../tenants/plan";
import { Candidate, Report, origin } from "./candidates";

/** Smallest disk budget: PostgreSQL's first files and n8n's migrations need a little over 100 MiB. */
export const MIN_DISK_GB = 1;

function gb(mb: number): string {
    return `${Math.ceil((mb / MIB_PER_GIB) * 100) / 100} GB`;
}

/** The tenant's budget covers the floors of its containers. */
export function checkBudget({ index, entry, settings }: Candidate, defaults: TenantSettings, at: Report): void {
    const budget = budgetOf(settings);
    const needed = minimumMemoryMb(settings.workers, settings.database.kind);
    if (budget.memoryMb < needed) {
        at(
            origin(index, entry, defaults, "resources", "memoryGb"),
            `tenant "${entry.id}" has ${gb(budget.memoryMb)} of memory, but n8n 2.x main and ${settings.workers} worker(s) with their task runners, PostgreSQL and Redis need at least ${gb(needed)} to start. Fix: raise resources.memoryGb to ${gb(needed).replace(" GB", "")} or more, or lower "workers".`,
        );
    }
    const neededCpus = minimumCpus(settings.workers, settings.database.kind);
    if (budget.cpus < neededCpus) {
        at(
            origin(index, entry, defaults, "resources", "cpus"),
            `tenant "${entry.id}" has ${budget.cpus} CPU, but its ${containerCount(settings.workers, settings.database.kind)} containers need at least ${neededCpus} CPU (0.25 for each n8n process, 0.1 for the others). Fix: raise resources.cpus to ${neededCpus} or more, or lower "workers".`,
        );
    }
    if (budget.diskGb < MIN_DISK_GB) {
        at(origin(index, entry, defaults, "resources", "diskGb"), `tenant "${entry.id}" has ${budget.diskGb} GB of disk. Fix: give it at least ${MIN_DISK_GB} GB for PostgreSQL, Redis and n8n's files.`);
    }
}
