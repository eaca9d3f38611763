/**
 * The tenant's Redis: the Bull queue between n8n main and workers.
 */
import type { TenantPlan } from "./plan";
import { ContainerSpec, Healthcheck, PORTS, TenantSecrets, shellHealthcheck } from "./containerSpec";
import { SERVICE_HOSTS } from "./names";

export const REDIS_DATA_DIR = "/data";

/**
 * The image's entrypoint only drops root for a command that starts with `redis-server`; ours starts
 * with `sh` (for the password), so the container is told to run as the image's `redis` user.
 */
export const REDIS_USER = "redis";

/** The password comes from the environment, so it never shows in the command or `docker inspect` args. */
const WITH_PASSWORD = 'exec redis-server "$@" --requirepass "$REDIS_PASSWORD"';

export function redisEnvironment(secrets: Pick<TenantSecrets, "redisPassword">): Record<string, string> {
    return { REDIS_PASSWORD: secrets.redisPassword, REDISCLI_AUTH: secrets.redisPassword };
}

/**
 * Persistence on (the queue survives restarts) and `noeviction`, because Bull must never lose a
 * job key to eviction; `maxmemory` stays under the container limit.
 */
export function redisCommand(plan: TenantPlan): string[] {
    return [
        "sh",
        "-c",
        WITH_PASSWORD,
        "redis-server",
        "--port",
        String(PORTS.redis),
        "--dir",
        REDIS_DATA_DIR,
        "--appendonly",
        "yes",
        "--maxmemory",
        `${plan.sizing.redis.maxMemoryMb}mb`,
        "--maxmemory-policy",
        "noeviction",
    ];
}

/** SIGTERM makes Redis fsync its append-only file and exit; seconds even for a full queue. */
export const REDIS_STOP_GRACE_SECONDS = 30;

export function redisContainer(plan: TenantPlan): ContainerSpec {
    return {
        name: plan.names.containers.redis,
        role: "redis",
        image: plan.images.redis,
        limits: plan.sizing.redis,
        command: redisCommand(plan),
        environment: (secrets) => redisEnvironment(secrets),
        user: REDIS_USER,
        networks: [{ network: "backend", aliases: [SERVICE_HOSTS.redis] }],
        volumes: [{ volume: "redis", containerPath: REDIS_DATA_DIR }],
        files: [],
        ports: [],
        healthcheck: redisHealthcheck(),
        dropCapabilities: true,
        stopGraceSeconds: REDIS_STOP_GRACE_SECONDS,
        waitForHealthy: true,
        after: [],
    };
}

export function redisHealthcheck(): Healthcheck {
    return shellHealthcheck("redis-cli ping | grep -q PONG", 10);
}
