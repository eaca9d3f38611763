/**
 * Where a tenant's n8n is reached and who owns it: its URL settings (behind the target's edge or
 * on a host port) and the owner n8n creates from its environment at start, so that no tenant ever
 * shows an owner-setup page.
 */
import type { TenantPlan } from "../tenants/plan";
import { secretFile } from "./containerSpec";

/**
 * The owner's password as n8n 2.41.1 takes it: a bcrypt hash (`N8N_INSTANCE_OWNER_PASSWORD_HASH`,
 * read through `_FILE` like every @n8n/config setting), owned by n8n's user.
 */
export const OWNER_PASSWORD_HASH_FILE = secretFile("owner-password-hash", "1000", (runtime) => runtime.ownerPasswordHash);

/** N8N_HOST, N8N_PROTOCOL, the editor and webhook URLs, secure cookies, and proxy hops behind an edge. */
export function urlEnvironment(plan: TenantPlan): Record<string, string> {
    const url = new URL(plan.url);
    return {
        N8N_HOST: url.hostname,
        N8N_PROTOCOL: url.protocol.replace(":", ""),
        N8N_EDITOR_BASE_URL: plan.url,
        N8N_WEBHOOK_URL: plan.url,
        // Secure cookies only work over https; a plain-http editor would refuse every login.
        N8N_SECURE_COOKIE: String(url.protocol === "https:"),
        // Behind the edge, one proxy sets X-Forwarded-For/-Proto/-Host: n8n trusts exactly that one
        // (client addresses in its logs and rate limits, https seen as https).
        ...(plan.domain !== undefined ? { N8N_PROXY_HOPS: "1" } : {}),
    };
}

/**
 * The owner, created (or set back) by n8n from its environment at every start
 * (`OwnerInstanceSettingsLoader`, overwriteExisting): the setup page then refuses everyone.
 */
export function ownerEnvironment(plan: TenantPlan): Record<string, string> {
    if (plan.owner === undefined) return {};
    return {
        N8N_INSTANCE_OWNER_MANAGED_BY_ENV: "true",
        N8N_INSTANCE_OWNER_EMAIL: plan.owner.email,
        N8N_INSTANCE_OWNER_FIRST_NAME: plan.owner.firstName,
        N8N_INSTANCE_OWNER_LAST_NAME: plan.owner.lastName,
        N8N_INSTANCE_OWNER_PASSWORD_HASH_FILE: OWNER_PASSWORD_HASH_FILE.path,
    };
}
