/**
 * Drift: what `pulumi refresh --preview-only --json` found changed or gone outside Pulumi, told
 * per tenant. The refresh prints one JSON document, the CLI's preview digest (`PreviewDigest` in
 * pulumi/pulumi `pkg/display`): `steps` with each resource's `op` and `urn`, and a `changeSummary`
 * counting the operations. In a refresh, a resource read back different from the state becomes an
 * `update` step with a `detailedDiff`, one that no longer exists a `delete` step. Which tenant a
 * resource belongs to comes from the stack export (its parents), never from its name: a pattern
 * for `acme` would also match `acme-eu`.
 */
import { z } from "zod";
import { StackExport, stateResourcesByUrn, urnStack } from "./offboarding";

const stepSchema = z.object({
    op: z.string(),
    urn: z.string(),
    diffReasons: z.array(z.string()).nullish(),
    detailedDiff: z.record(z.string(), z.unknown()).nullish(),
});

const digestSchema = z.object({
    steps: z.array(stepSchema).nullish(),
    changeSummary: z.record(z.string(), z.number()).nullish(),
    diagnostics: z.array(z.object({ message: z.string().nullish(), severity: z.string().nullish() })).nullish(),
});

export type RefreshPreview = z.infer<typeof digestSchema>;

/** The digest, or why the text is not the output of `pulumi refresh --preview-only --json`. */
export function parseRefreshPreview(text: string): { ok: true; value: RefreshPreview } | { ok: false; error: string } {
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch (error) {
        const stream = /^\s*\{.*\}\s*\n\s*\{/s.test(text) ? " It looks like a stream of engine events: unset PULUMI_ENABLE_STREAMING_JSON_PREVIEW." : "";
        return { ok: false, error: `it is not one JSON document (${(error as Error).message}).${stream}` };
    }
    if (typeof json === "object" && json !== null && "deployment" in json) {
        return { ok: false, error: "it is a stack export. Fix: pass the refresh preview first and the stack export second." };
    }
    const parsed = digestSchema.safeParse(json);
    if (!parsed.success) return { ok: false, error: "it has no steps or changeSummary of a preview; pass the output of `pulumi refresh --preview-only --json`" };
    return { ok: true, value: parsed.data };
}

export interface DriftedResource {
    /** The name part of the URN, or the whole URN when the export does not know the resource. */
    name: string;
    type: string | undefined;
    kind: "changed" | "deleted";
    /** Top-level properties read back different, such as `envs` or `image`. */
    properties: string[];
}

export interface DriftReport {
    stack: string | undefined;
    /** Per drifted tenant, sorted by tenant id. */
    tenants: { tenant: string; resources: DriftedResource[] }[];
    /** Drifted resources of no tenant: providers, images shared by a host, or resources missing from the export. */
    outsideTenants: DriftedResource[];
    /** Changes Pulumi counted in its summary but named in no step. */
    unnamedChanges: number;
    /** Error diagnostics of the refresh. */
    errors: string[];
    /** False when the refresh did not reach its summary: drift cannot be told. */
    finished: boolean;
}

/** `envs[3]` and `healthcheck.tests[0]` are changes of `envs` and `healthcheck`. */
function topLevelProperties(paths: readonly string[]): string[] {
    return [...new Set(paths.map((path) => path.split(/[.[]/)[0]))].sort();
}

type Step = z.infer<typeof stepSchema>;

/** What a refresh step says about its resource: drifted (and how), or not. */
function driftOf(step: Step): Pick<DriftedResource, "kind" | "properties"> | undefined {
    if (step.op === "delete") return { kind: "deleted", properties: [] };
    const diffPaths = Object.keys(step.detailedDiff ?? {});
    const properties = topLevelProperties(diffPaths.length > 0 ? diffPaths : (step.diffReasons ?? []));
    // Older CLIs left the refresh step itself in the digest, with the changed keys on it.
    if (step.op === "update" || (step.op === "refresh" && properties.length > 0)) return { kind: "changed", properties };
    return undefined;
}

export function driftReport(preview: RefreshPreview, state: StackExport): DriftReport {
    const resources = stateResourcesByUrn(state);
    const byTenant = new Map<string, DriftedResource[]>();
    const outsideTenants: DriftedResource[] = [];
    for (const step of preview.steps ?? []) {
        const drift = driftOf(step);
        if (drift === undefined) continue;
        const known = resources.get(step.urn);
        const drifted: DriftedResource = { name: known?.name ?? step.urn, type: known?.type, ...drift };
        if (known?.tenant === undefined) outsideTenants.push(drifted);
        else byTenant.set(known.tenant, [...(byTenant.get(known.tenant) ?? []), drifted]);
    }
    const named = [...byTenant.values()].reduce((sum, list) => sum + list.length, outsideTenants.length);
    const counted = Object.entries(preview.changeSummary ?? {})
        .filter(([op]) => op !== "same")
        .reduce((sum, [, count]) => sum + count, 0);
    const firstUrn = state.deployment.resources[0]?.urn ?? preview.steps?.[0]?.urn;
    return {
        stack: firstUrn === undefined ? undefined : urnStack(firstUrn),
        tenants: [...byTenant.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([tenant, list]) => ({ tenant, resources: list })),
        outsideTenants,
        unnamedChanges: Math.max(0, counted - named),
        errors: (preview.diagnostics ?? []).filter((d) => d.severity === "error" && d.message).map((d) => (d.message ?? "").trim()),
        finished: preview.changeSummary !== undefined && preview.changeSummary !== null,
    };
}

/**
 * `drift` when anything was read back different or gone; `unknown` when the refresh did not finish
 * or reported errors without finding drift (a resource it could not read may have drifted).
 */
export function driftOutcome(report: DriftReport): "none" | "drift" | "unknown" {
    if (report.tenants.length > 0 || report.outsideTenants.length > 0 || report.unnamedChanges > 0) return "drift";
    return report.finished && report.errors.length === 0 ? "none" : "unknown";
}

function stackLabel(report: DriftReport): string {
    return report.stack === undefined ? "this stack" : `stack ${report.stack}`;
}

function plural(count: number, word: string): string {
    return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** One line that names the drifted tenants: the message CI fails with. */
function driftHeadline(report: DriftReport): string {
    const outcome = driftOutcome(report);
    if (outcome === "unknown") return `Drift in ${stackLabel(report)} cannot be told: the refresh preview ${report.finished ? "reported errors" : "did not finish"}.`;
    if (outcome === "none") return `No drift in ${stackLabel(report)}: the refresh preview found every resource as Pulumi left it.`;
    const parts: string[] = [];
    if (report.tenants.length > 0) parts.push(`${report.tenants.length === 1 ? "tenant" : "tenants"} ${report.tenants.map((t) => t.tenant).join(", ")}`);
    if (report.outsideTenants.length > 0) parts.push(`${plural(report.outsideTenants.length, "resource")} of no tenant`);
    if (report.unnamedChanges > 0) parts.push(`${plural(report.unnamedChanges, "change")} Pulumi did not name`);
    return `Drift in ${stackLabel(report)}: ${parts.join("; ")}.`;
}

function whatDrifted(resource: DriftedResource): string {
    if (resource.kind === "deleted") return "deleted outside Pulumi";
    return resource.properties.length > 0 ? `changed outside Pulumi: ${resource.properties.join(", ")}` : "changed outside Pulumi";
}

function unnamedNote(report: DriftReport): string {
    return `Pulumi counted ${plural(report.unnamedChanges, "more change")} than its JSON names; \`pulumi refresh --preview-only --diff${report.stack === undefined ? "" : ` --stack ${report.stack}`}\` shows them.`;
}

export function formatDriftText(report: DriftReport): string {
    const lines = [driftHeadline(report)];
    const resourceLine = (r: DriftedResource) => `  ${r.kind === "deleted" ? "-" : "~"} ${r.name}${r.type === undefined ? " (not in the stack export)" : ` (${r.type})`}: ${whatDrifted(r)}`;
    for (const { tenant, resources } of report.tenants) lines.push(`${tenant}:`, ...resources.map(resourceLine));
    if (report.outsideTenants.length > 0) lines.push("no tenant:", ...report.outsideTenants.map(resourceLine));
    if (report.unnamedChanges > 0) lines.push(unnamedNote(report));
    if (report.errors.length > 0) lines.push("The refresh reported errors:", ...report.errors.map((e) => `  ${e}`));
    return `${lines.join("\n")}\n`;
}

/** Markdown for the job summary; cell text is escaped so that a property or URN cannot break the table. */
export function formatDriftMarkdown(report: DriftReport): string {
    const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
    const out = [`### ${driftHeadline(report)}`, ""];
    const rows = [
        ...report.tenants.flatMap(({ tenant, resources }) => resources.map((r) => ({ tenant, r }))),
        ...report.outsideTenants.map((r) => ({ tenant: "(no tenant)", r })),
    ];
    if (rows.length > 0) {
        out.push("| tenant | resource | type | what drifted |", "|---|---|---|---|");
        for (const { tenant, r } of rows) out.push(`| ${cell(tenant)} | \`${cell(r.name)}\` | ${r.type === undefined ? "not in the stack export" : `\`${cell(r.type)}\``} | ${cell(whatDrifted(r))} |`);
        out.push("");
    }
    if (report.unnamedChanges > 0) out.push(unnamedNote(report), "");
    if (report.errors.length > 0) out.push("The refresh reported errors:", "", "```text", ...report.errors, "```", "");
    return out.join("\n");
}
