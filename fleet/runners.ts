/**
 * The task-runner sidecar (n8nio/runners) of one queue worker: runs Code nodes outside n8n's process.
 */
import type { TenantPlan } from "./plan";
import { Healthcheck, PORTS, TenantSecrets, httpHealthcheck } from "./containerSpec";

export function runnerEnvironment(plan: TenantPlan, workerIndex: number, secrets: Pick<TenantSecrets, "runnerToken">): Record<string, string> {
    return {
        N8N_RUNNERS_AUTH_TOKEN: secrets.runnerToken,
        N8N_RUNNERS_TASK_BROKER_URI: `http://${plan.names.workerHost(workerIndex)}:${PORTS.broker}`,
        N8N_RUNNERS_LAUNCHER_HEALTH_CHECK_PORT: String(PORTS.launcherHealth),
        GENERIC_TIMEZONE: plan.timezone,
        TZ: plan.timezone,
    };
}

export function runnerHealthcheck(): Healthcheck {
    return httpHealthcheck(`http://127.0.0.1:${PORTS.launcherHealth}/healthz`, "30s");
}
