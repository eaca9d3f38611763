/**
 * The task-runner sidecar (n8nio/runners) of one queue worker: runs Code nodes outside n8n's process.
 */
import type { TenantPlan } from "../tenants/plan";
import { ContainerSpec, Healthcheck, PORTS, nodeHealthcheck } from "./containerSpec";
import { N8N_SECRET_FILES, N8N_STOP_GRACE_SECONDS } from "./n8n";

/**
 * The token is a file owned by the image's user (1000), like n8n's own copy: the launcher reads
 * `<NAME>_FILE` for each of its settings since task-runner-launcher 1.4.0
 * (`internal/config/lookuper.go`, `LauncherLookuper.Lookup`), and the runners image of n8n 2.41.1
 * ships a later 1.4.x.
 */
const RUNNER_TOKEN = N8N_SECRET_FILES.runnerToken;

export function runnerEnvironment(plan: TenantPlan, workerIndex: number): Record<string, string> {
    return {
        N8N_RUNNERS_AUTH_TOKEN_FILE: RUNNER_TOKEN.path,
        N8N_RUNNERS_TASK_BROKER_URI: `http://${plan.names.workerHost(workerIndex)}:${PORTS.broker}`,
        N8N_RUNNERS_LAUNCHER_HEALTH_CHECK_PORT: String(PORTS.launcherHealth),
        GENERIC_TIMEZONE: plan.timezone,
        TZ: plan.timezone,
    };
}

/**
 * Healthy only when the launcher answers and its worker's broker accepts this runner's token.
 * The launcher's own endpoint answers even while the broker is unreachable or refuses the token,
 * so on its own it would call a runner that can never take a task healthy. The token exchange is
 * the one the launcher makes before it starts the JavaScript runner; the broker allows 5 a second.
 */
export function runnerHealthcheck(): Healthcheck {
    return nodeHealthcheck(
        [
            `const launcher = await fetch("http://127.0.0.1:${PORTS.launcherHealth}/healthz");`,
            'if (!launcher.ok) throw new Error("launcher health: HTTP " + launcher.status);',
            'const auth = await fetch(process.env.N8N_RUNNERS_TASK_BROKER_URI + "/runners/auth", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: require("node:fs").readFileSync(process.env.N8N_RUNNERS_AUTH_TOKEN_FILE, "utf8").trim() }) });',
            'if (!auth.ok) throw new Error("broker refused the runner token: HTTP " + auth.status);',
        ].join(" "),
        30,
    );
}

/** The runner sidecar of worker `index`; it dials that worker's broker, so it comes after the worker. */
export function runnerContainer(plan: TenantPlan, index: number): ContainerSpec {
    return {
        name: plan.names.runner(index),
        role: "runner",
        image: plan.images.runners,
        limits: plan.sizing.runner,
        environment: () => runnerEnvironment(plan, index),
        networks: [{ network: "backend", aliases: [] }],
        volumes: [],
        // The runner's temporary files: a Code node writes nowhere else.
        tmpfs: [{ path: "/tmp", sizeMb: 64 }],
        files: [],
        secretFiles: [RUNNER_TOKEN],
        ports: [],
        healthcheck: runnerHealthcheck(),
        dropCapabilities: true,
        // A Code node in progress finishes before the worker that waits for it gives up.
        stopGraceSeconds: N8N_STOP_GRACE_SECONDS,
        // A wrong token or an unreachable broker then fails `pulumi up` instead of passing silently.
        waitForHealthy: true,
        after: [plan.names.worker(index)],
    };
}
