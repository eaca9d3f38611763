/**
 * Each target's capacity: what its tenants ask for against what it declares, with overcommit.
 */
import type { JsonPath } from "../forms/problems";
import { capacityUsage } from "../tenants/capacity";
import { budgetOf } from "../tenants/plan";
import type { Candidate, FleetSource, Report } from "./candidates";

/** The tenants placed on each target fit its declared CPU, memory and disk. */
export function checkCapacity(placed: Candidate[], source: FleetSource, at: Report): void {
    const usage = capacityUsage(
        placed.map(({ entry, settings }) => ({ id: entry.id, target: settings.target ?? "", budget: budgetOf(settings) })),
        source.targets,
    );
    for (const row of usage) {
        const name = row.target.name;
        const last = placed.filter((c) => c.settings.target === name).at(-1);
        const path: JsonPath = last ? ["tenants", last.index] : ["tenants"];
        if (row.cpus > row.cpuAllowance) {
            at(path, `target "${name}" is over capacity: its ${row.tenantIds.length} tenants ask for ${row.cpus} CPU, it declares ${row.target.capacity.cpus} CPU with overcommit ${row.target.overcommit.cpu} (${row.cpuAllowance} allowed). Fix: lower resources.cpus, move tenants to another target, or raise n8n-fleet:targets.${name}.overcommit.cpu in ${source.stackFile}.`);
        }
        if (row.memoryGb > row.memoryGbAllowance) {
            at(path, `target "${name}" is over capacity: its ${row.tenantIds.length} tenants ask for ${row.memoryGb} GB of memory, it declares ${row.target.capacity.memoryGb} GB with overcommit ${row.target.overcommit.memory} (${row.memoryGbAllowance} GB allowed). Fix: lower resources.memoryGb, move tenants to another target, or raise n8n-fleet:targets.${name}.overcommit.memory in ${source.stackFile}.`);
        }
        const disk = row.target.capacity.diskGb;
        if (disk !== undefined && row.diskGb > disk) {
            at(path, `target "${name}" is over capacity: its ${row.tenantIds.length} tenants ask for ${row.diskGb} GB of disk, it declares ${disk} GB. Fix: lower resources.diskGb, move tenants to another target, or raise n8n-fleet:targets.${name}.capacity.diskGb in ${source.stackFile}.`);
        }
    }
}
