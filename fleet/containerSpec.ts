/**
 * What a container runs, decided in plain TypeScript so that the component only declares it and
 * the end-to-end test can run the very same command and environment as local processes.
 */

/** Ports inside the containers; only the editor is ever published on the host. */
export const PORTS = {
    postgres: 5432,
    redis: 6379,
    n8n: 5678,
    /** n8n's task broker, which each worker's runner sidecar dials. */
    broker: 5679,
    /** Health endpoint of the runner launcher in n8nio/runners. */
    launcherHealth: 5680,
} as const;

/** The generated secrets of one tenant. Never written to tenants.json, logs or plain outputs. */
export interface TenantSecrets {
    /** PostgreSQL superuser: the image's initialisation and an operator's maintenance; never given to n8n. */
    postgresPassword: string;
    /** The least-privilege role n8n logs in with. */
    databasePassword: string;
    redisPassword: string;
    encryptionKey: string;
    runnerToken: string;
}

export interface Healthcheck {
    /** Docker's test: `["CMD", ...]` or `["CMD-SHELL", "..."]`. */
    tests: string[];
    interval: string;
    timeout: string;
    startPeriod: string;
    retries: number;
}

/** An HTTP probe run with the image's own Node.js: the n8n and runner images both ship it, not all ship wget. */
export function httpHealthcheck(url: string, startPeriod: string): Healthcheck {
    return {
        tests: ["CMD", "node", "-e", `fetch(${JSON.stringify(url)}).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`],
        interval: "15s",
        timeout: "5s",
        startPeriod,
        retries: 5,
    };
}

export function shellHealthcheck(script: string, startPeriod: string): Healthcheck {
    return { tests: ["CMD-SHELL", script], interval: "10s", timeout: "5s", startPeriod, retries: 5 };
}

/** `{ A: "1" }` -> `["A=1"]`, the form Docker takes. */
export function envList(env: Readonly<Record<string, string>>): string[] {
    return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}
