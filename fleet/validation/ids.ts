/**
 * Tenant ids: each used once, and no two that become the same database and container names.
 */
import { collisionKey, tenantNames } from "../tenants/names";
import type { Report } from "./candidates";

/** Every id once; ids that differ only in case, "-" or "_" collide. */
export function checkIds(rawTenants: unknown[], at: Report): void {
    const seen = new Map<string, { index: number; id: string }>();
    rawTenants.forEach((entry, index) => {
        const id = entry !== null && typeof entry === "object" ? (entry as { id?: unknown }).id : undefined;
        if (typeof id !== "string") return;
        const first = seen.get(collisionKey(id));
        if (!first) {
            seen.set(collisionKey(id), { index, id });
        } else if (first.id === id) {
            at(["tenants", index, "id"], `"${id}" is already the id of tenants[${first.index}]. Fix: give every tenant its own id; an id is the permanent key of its data.`);
        } else {
            const names = tenantNames(collisionKey(id));
            at(["tenants", index, "id"], `"${id}" collides with "${first.id}" (tenants[${first.index}]): both become database ${names.database} and containers ${names.containers.main}*. Fix: choose an id that differs in more than case, "-" or "_".`);
        }
    });
}
