/**
 * Every container of a tenant, in the order they are created: its PostgreSQL (or, for an RDS
 * tenant, the one-shot that prepares its database) and Redis, the main (it migrates the database),
 * then each worker followed by its runner.
 */
import type { TenantPlan } from "./plan";
import type { ContainerSpec } from "./containerSpec";
import { postgresContainer } from "./postgres";
import { redisContainer } from "./redis";
import { mainContainer, workerContainer } from "./n8n";
import { runnerContainer } from "./runners";
import { RdsPlan, databaseInitContainer } from "./rds";

export function tenantContainers(plan: TenantPlan): ContainerSpec[] {
    const workers = Array.from({ length: plan.workers }, (_, i) => i + 1);
    return [
        isRds(plan) ? databaseInitContainer(plan) : postgresContainer(plan),
        redisContainer(plan),
        mainContainer(plan),
        ...workers.flatMap((index) => [workerContainer(plan, index), runnerContainer(plan, index)]),
    ];
}

function isRds(plan: TenantPlan): plan is TenantPlan & { database: RdsPlan } {
    return plan.database.kind === "rds";
}
