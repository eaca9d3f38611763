import { caddy, hostGuard, n8n, postgres, redis } from "./pins.json";

/** The versions the fleet runs unless a tenant pins another n8n version. */
export const PINNED = {
    n8n,
    postgres,
    redis,
    caddy,
} as const;

/**
 * The image of each target's host guard (fleet/containers/hostGuard.ts): Docker's own `dind`
 * image, pinned by exact tag, for the iptables it ships (nft and legacy); the guard runs a shell
 * script in it, never dockerd.
 */
export const PINNED_HOST_GUARD_IMAGE = hostGuard;

/** The image of a target's HTTPS edge, by exact tag. */
export function edgeImage(): string {
    return `caddy:${PINNED.caddy}`;
}

/** Every image one tenant runs, by exact tag. The runner sidecar always matches n8n's version. */
export interface TenantImages {
    n8n: string;
    runners: string;
    postgres: string;
    redis: string;
}

export function tenantImages(n8nVersion: string): TenantImages {
    return {
        n8n: `docker.n8n.io/n8nio/n8n:${n8nVersion}`,
        runners: `n8nio/runners:${n8nVersion}`,
        postgres: `postgres:${PINNED.postgres}`,
        redis: `redis:${PINNED.redis}`,
    };
}
