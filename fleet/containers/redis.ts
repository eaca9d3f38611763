/**
 * The tenant's Redis: the Bull queue between n8n main and workers.
 */
import type { TenantPlan } from "../tenants/plan";
import { ContainerSpec, Healthcheck, PORTS, secretFile, shellHealthcheck } from "./containerSpec";
import { SERVICE_HOSTS } from "../tenants/names";

export const REDIS_DATA_DIR = "/data";

/** The image's `redis` user; running as it from the start, the container needs no capability to change users. */
export const REDIS_USER = "redis";
const REDIS_UID = "999";

/**
 * Redis reads no password from a file or a `_FILE` variable, but it reads a config file: the
 * password is in one (`requirepass`), so it is in neither the environment nor the command line.
 * The health check's `redis-cli` takes it from a second file.
 */
export const REDIS_SECRET_FILES = {
    config: secretFile("redis.conf", REDIS_UID, (runtime) => `requirepass ${runtime.redisPassword}\n`),
    password: secretFile("redis-password", REDIS_UID, (runtime) => runtime.redisPassword),
};

/**
 * Persistence on (the queue survives restarts) and `noeviction`, because Bull must never lose a
 * job key to eviction; `maxmemory` stays under the container limit.
 */
export function redisCommand(plan: TenantPlan): string[] {
    return [
        "redis-server",
        REDIS_SECRET_FILES.config.path,
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
        environment: () => ({}),
        user: REDIS_USER,
        networks: [{ network: "backend", aliases: [SERVICE_HOSTS.redis] }],
        volumes: [{ volume: "redis", containerPath: REDIS_DATA_DIR }],
        tmpfs: [{ path: "/tmp", sizeMb: 16 }],
        files: [],
        secretFiles: Object.values(REDIS_SECRET_FILES),
        ports: [],
        healthcheck: redisHealthcheck(),
        dropCapabilities: true,
        stopGraceSeconds: REDIS_STOP_GRACE_SECONDS,
        waitForHealthy: true,
        after: [],
    };
}

export function redisHealthcheck(): Healthcheck {
    return shellHealthcheck(`REDISCLI_AUTH="$(cat ${REDIS_SECRET_FILES.password.path})" redis-cli ping | grep -q PONG`, 10);
}
