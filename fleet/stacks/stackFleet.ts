/**
 * A stack's whole fleet: its `n8n-fleet:*` config validated, then the tenants file it names (or one
 * given instead) validated against its targets. `config.ts` feeds it from Pulumi; `npm run validate`
 * from the YAML file.
 */
import { readFileSync } from "node:fs";
import { LineCounter, isMap, isScalar, parseDocument, Node as YamlNode } from "yaml";
import { loadFleet } from "../validation/loadFleet";
import type { TenantPlan } from "../tenants/plan";
import type { JsonPath, Problem } from "../forms/problems";
import { CONFIG_NAMESPACE, RawStackSettings, StackSettings, parseStackSettings, plainCertificateParts, rawStackSettings } from "../targets/stackSettings";

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
    if (!fleet.ok) return fleet;
    // A certificate for a host name no tenant has would be uploaded for nothing, and is most often a typo.
    const served = new Set(fleet.tenants.flatMap((t) => (t.domain !== undefined ? [t.domain] : [])));
    const unused = stack.settings.edgeCertificateDomains.filter((domain) => !served.has(domain));
    if (unused.length > 0) {
        return {
            ok: false,
            problems: unused.map((domain) => ({
                file: stackFile,
                path: [`${CONFIG_NAMESPACE}:edgeCertificates`, domain],
                message: `is the host name of no tenant behind an edge in ${tenants.file}. Fix: correct the host name (tenants behind an edge: ${[...served].join(", ") || "none"}), or remove it with pulumi config rm --path '${CONFIG_NAMESPACE}:edgeCertificates["${domain}"]'.`,
                ...source.raw.locate?.([`${CONFIG_NAMESPACE}:edgeCertificates`, domain]),
            })),
        };
    }
    return { ok: true, settings: stack.settings, tenants: fleet.tenants };
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
 * The n8n-fleet keys of a stack file's text (`Pulumi.<stack>.yaml`), as Pulumi reads them, with
 * where each is written; the rest of the file (encryptionsalt, other namespaces) is not ours.
 */
export function stackSettingsFromYaml(text: string, stackFile: string): { ok: true; raw: RawStackSettings } | { ok: false; problems: Problem[] } {
    const lineCounter = new LineCounter();
    const document = parseDocument(text, { lineCounter, uniqueKeys: true });
    const [error] = document.errors;
    if (error) {
        const [position] = error.linePos ?? [];
        const message = error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
        return { ok: false, problems: [{ file: stackFile, path: [], message: `is not valid YAML: ${message}. Fix: correct the YAML at this line and column (indentation, a missing colon or quote, a key written twice).`, ...(position && { line: position.line, column: position.col }) }] };
    }
    const parsed = document.toJS() as { config?: unknown } | null;
    const config = parsed !== null && typeof parsed === "object" && parsed.config !== null && typeof parsed.config === "object" ? (parsed.config as Record<string, unknown>) : {};
    const locate = (path: JsonPath) => {
        const offset = yamlOffset(document.contents, ["config", ...path]);
        return offset === undefined ? undefined : (({ line, col }) => ({ line, column: col }))(lineCounter.linePos(offset));
    };
    return { ok: true, raw: { ...rawStackSettings(config), locate, clearTextCertificateParts: plainCertificateParts(config[`${CONFIG_NAMESPACE}:edgeCertificates`]) } };
}

/** Offset of the deepest key of `path` found in a YAML document: the key itself for the last one. */
function yamlOffset(node: unknown, path: JsonPath): number | undefined {
    let found: number | undefined;
    let current = node;
    for (const segment of path) {
        if (!isMap(current)) break;
        const pair = current.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) break;
        found = (pair.key as YamlNode).range?.[0] ?? found;
        current = pair.value;
    }
    return found;
}
