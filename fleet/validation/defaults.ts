/**
 * What `defaults` may not say: a choice that must be made tenant by tenant.
 */
import type { TenantSettings } from "../tenants/tenantsSchema";
import type { Report } from "./candidates";

/** `"status": "archived"` in defaults would archive every tenant, those added later included, in one line. */
export function checkDefaults(defaults: TenantSettings, at: Report): void {
    if (defaults.status === "archived") {
        at(
            ["defaults", "status"],
            `"archived" would archive every tenant at once, and every tenant added later on arrival: each loses its n8n after a final backup. Fix: remove it from defaults and set "status": "archived" on each tenant to offboard, one by one.`,
        );
    }
}
