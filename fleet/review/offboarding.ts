/**
 * Offboarding reads the stack's state (`pulumi stack export`) to find exactly one tenant's
 * protected resources. Names are not enough: a pattern for `acme` also matches `acme-eu`. Every
 * resource of a tenant is a child of its `ClientInstance`, so the parent URN identifies it.
 */
import { z } from "zod";

export const CLIENT_INSTANCE_TYPE = "n8n-fleet:index:ClientInstance";

const exportSchema = z.object({
    deployment: z.object({
        resources: z
            .array(z.object({ urn: z.string(), type: z.string(), parent: z.string().optional(), protect: z.boolean().optional() }))
            .default([]),
    }),
});

export type StackExport = z.infer<typeof exportSchema>;

/** The export's resources, or why the text is not a `pulumi stack export`. */
export function parseStackExport(text: string): { ok: true; value: StackExport } | { ok: false; error: string } {
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch (error) {
        return { ok: false, error: `it is not JSON (${(error as Error).message})` };
    }
    const parsed = exportSchema.safeParse(json);
    return parsed.success ? { ok: true, value: parsed.data } : { ok: false, error: "it has no deployment.resources; pass the output of `pulumi stack export`" };
}

/** The name part of a URN: `urn:pulumi:dev::n8n-fleet::<type>::<name>`. */
function urnName(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

/** The stack part of a URN. */
export function urnStack(urn: string): string {
    return urn.slice("urn:pulumi:".length).split("::")[0];
}

export type TenantProtected = { ok: true; stack: string; urns: string[] } | { ok: false; error: string };

/** The URNs of every protected resource that descends from the tenant's ClientInstance, and of no other tenant. */
export function tenantProtectedUrns(state: StackExport, tenantId: string): TenantProtected {
    const resources = state.deployment.resources;
    const instances = resources.filter((r) => r.type === CLIENT_INSTANCE_TYPE);
    const instance = instances.find((r) => urnName(r.urn) === tenantId);
    if (!instance) {
        const known = instances.map((r) => urnName(r.urn)).sort();
        return { ok: false, error: `tenant "${tenantId}" is not in this stack's state. Tenants in it: ${known.join(", ") || "none"}.` };
    }
    const descendants = new Set([instance.urn]);
    // Parents come before their children in an export, but a second pass costs nothing and needs no such promise.
    for (let grew = true; grew; ) {
        grew = false;
        for (const r of resources) {
            if (r.parent !== undefined && descendants.has(r.parent) && !descendants.has(r.urn)) {
                descendants.add(r.urn);
                grew = true;
            }
        }
    }
    const urns = resources.filter((r) => r.protect === true && descendants.has(r.urn) && r.urn !== instance.urn).map((r) => r.urn);
    return { ok: true, stack: urnStack(instance.urn), urns };
}

/** One `pulumi state unprotect` line per URN, quoted for a POSIX shell (URNs hold `$`). */
export function unprotectCommands(stack: string, urns: readonly string[]): string[] {
    return urns.map((urn) => `pulumi state unprotect --stack '${stack}' --yes '${urn.replace(/'/g, `'\\''`)}'`);
}

/**
 * Every resource of the export by URN: its type, the name part of its URN, and its tenant, found
 * through its parents (never its name): the ClientInstance it descends from, the instance itself
 * included; undefined for shared resources such as providers and images.
 */
export function stateResourcesByUrn(state: StackExport): Map<string, { type: string; name: string; tenant: string | undefined }> {
    const byUrn = new Map(state.deployment.resources.map((r) => [r.urn, r]));
    const tenantOf = (urn: string): string | undefined => {
        const seen = new Set<string>();
        for (let r = byUrn.get(urn); r !== undefined && !seen.has(r.urn); r = r.parent === undefined ? undefined : byUrn.get(r.parent)) {
            if (r.type === CLIENT_INSTANCE_TYPE) return urnName(r.urn);
            seen.add(r.urn);
        }
        return undefined;
    };
    return new Map(state.deployment.resources.map((r) => [r.urn, { type: r.type, name: urnName(r.urn), tenant: tenantOf(r.urn) }]));
}
