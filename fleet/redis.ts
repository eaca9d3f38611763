/**
 * The tenant's Redis: the Bull queue between n8n main and workers.
 */
import type { TenantPlan } from "./plan";
import { Healthcheck, PORTS, TenantSecrets, shellHealthcheck } from "./containerSpec";

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

export function redisHealthcheck(): Healthcheck {
    return shellHealthcheck("redis-cli ping | grep -q PONG", "10s");
}
