/**
 * A stack's whole fleet: its `n8n-fleet:*` config validated, then the tenants file it names (or one
 * given instead) validated against its targets. `config.ts` feeds it from Pulumi; `npm run validate`
 * from the YAML file.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { loadFleet } from "../validation/loadFleet";
import type { TenantPlan } from "../tenants/plan";
import type { Problem } from "../forms/problems";
import { CONFIG_NAMESPACE, RawStackSettings, StackSettings, parseStackSettings } from "../targets/stackSettings";

export function stackFileName(stack: string): string {
    return `Pulumi.${stack}.yaml`;
}

/** The tenants file as read: `file` is the path as messages show it. */
export type TenantsFileRead = { file: string; text: string } | { file: string; error: string };

export interface StackFleetSource {
    stack: string;
    raw: RawStackSettings;
    /** Reads the tenants file; receives the path the stack config names. */
    readTenants: (tenantsFile: string) => TenantsFileRead;
}

export type StackFleetResult = { ok: true; settings: StackSettings; tenants: TenantPlan[] } | { ok: false; problems: Problem[] };

export function loadFleetForStack(source: StackFleetSource): StackFleetResult {
    const stackFile = stackFileName(source.stack);
    const stack = parseStackSettings(source.raw, stackFile);
    if (!stack.ok) return stack;

    const tenants = source.readTenants(stack.settings.tenantsFile);
    if ("error" in tenants) {
        return {
            ok: false,
            problems: [{ file: tenants.file, path: [], message: `cannot be read (${tenants.error}). Fix: create it, or point ${CONFIG_NAMESPACE}:tenantsFile in ${stackFile} at the tenants file.` }],
        };
    }
    const fleet = loadFleet({ file: tenants.file, text: tenants.text, targets: stack.settings.targets, defaultTarget: stack.settings.defaultTarget, stackFile });
    return fleet.ok ? { ok: true, settings: stack.settings, tenants: fleet.tenants } : fleet;
}

/** Reads a file for {@link StackFleetSource.readTenants}, turning a read error into its message. */
export function readTenantsFile(path: string, shownAs: string): TenantsFileRead {
    try {
        return { file: shownAs, text: readFileSync(path, "utf8") };
    } catch (error) {
        return { file: shownAs, error: (error as Error).message };
    }
}

/**
 * The n8n-fleet keys of a stack file's text (`Pulumi.<stack>.yaml`), as Pulumi reads them; the
 * rest of the file (encryptionsalt, other namespaces) is not ours.
 */
export function stackSettingsFromYaml(text: string, stackFile: string): { ok: true; raw: RawStackSettings } | { ok: false; problems: Problem[] } {
    let parsed: { config?: Record<string, unknown> } | null;
    try {
        parsed = parseYaml(text) as { config?: Record<string, unknown> } | null;
    } catch (error) {
        return { ok: false, problems: [{ file: stackFile, path: [], message: `is not valid YAML: ${(error as Error).message}` }] };
    }
    const config = parsed?.config ?? {};
    const key = (name: string) => config[`${CONFIG_NAMESPACE}:${name}`];
    return { ok: true, raw: { tenantsFile: key("tenantsFile"), targets: key("targets"), defaultTarget: key("defaultTarget") } };
}
