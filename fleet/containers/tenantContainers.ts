/**
 * Every container of a tenant, in the order they are created: the one-shots that write its
 * containers' files and set its volumes' owners, its PostgreSQL (or, for an RDS
 * tenant, the one-shot that prepares its database) and Redis, the main (it migrates the database),
 * then each worker followed by its runner.
 */
import type { TenantPlan } from "../tenants/plan";
import type { ContainerSpec } from "./containerSpec";
import { postgresContainer } from "./postgres";
import { redisContainer } from "./redis";
import { mainContainer, workerContainer } from "./n8n";
import { runnerContainer } from "./runners";
import type { RdsPlan } from "../tenants/database";
import { databaseInitContainer } from "./databaseInit";
import { backupContainer, finalBackupContainer, preUpgradeBackupContainer, volumeOwnersContainer } from "./backup";
import { filesWriterContainer } from "./filesWriter";

export function tenantContainers(plan: TenantPlan): ContainerSpec[] {
    const specs = servingContainers(plan);
    if (specs.length === 0) return [];
    // The files writer first: every container that gets files starts after it has written them.
    const writer = filesWriterContainer(plan, specs);
    const getsFiles = new Set(writer.writesFilesOf);
    return [writer, ...specs.map((spec) => (getsFiles.has(spec.name) ? { ...spec, after: [writer.name, ...spec.after] } : spec))];
}

function servingContainers(plan: TenantPlan): ContainerSpec[] {
    // An archived tenant keeps its data and runs nothing: only its final backup, taken before the rest goes.
    if (plan.status === "archived") return isRds(plan) ? [] : [volumeOwnersContainer(plan), finalBackupContainer(plan)];
    const workers = Array.from({ length: plan.workers }, (_, i) => i + 1);
    const database = isRds(plan) ? [databaseInitContainer(plan), backupContainer(plan)] : [postgresContainer(plan), preUpgradeBackupContainer(plan), backupContainer(plan)];
    return [
        volumeOwnersContainer(plan),
        ...database,
        redisContainer(plan),
        mainContainer(plan),
        ...workers.flatMap((index) => [workerContainer(plan, index), runnerContainer(plan, index)]),
    ];
}

function isRds(plan: TenantPlan): plan is TenantPlan & { database: RdsPlan } {
    return plan.database.kind === "rds";
}
