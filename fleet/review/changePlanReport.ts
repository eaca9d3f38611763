/**
 * A change plan as text for a terminal and as Markdown for a pull request: risks first, then each
 * tenant, then how full each target gets, drawn as bars.
 */
import type { ChangePlan, Load, TenantChange, TenantChangeKind } from "./changePlan";

/** Where the comparison came from, for the heading. */
export interface PlanContext {
    stack: string;
    tenantsFile: string;
    base: string;
}

const BAR_WIDTH = 20;

/** `█████░░░░░` filled to value/capacity; past capacity the bar is full and ends in `!`. */
export function bar(value: number, capacity: number, width = BAR_WIDTH): string {
    const filled = Math.min(width, Math.round((value / capacity) * width));
    return `${"█".repeat(filled)}${"░".repeat(width - filled)}${value > capacity ? "!" : ""}`;
}

function amount(value: number | undefined): string {
    return value === undefined ? "-" : String(value);
}

const SIGN: Record<TenantChangeKind, string> = { added: "+", removed: "-", changed: "~" };
const ORDER: Record<TenantChangeKind, number> = { removed: 0, changed: 1, added: 2 };

function sorted(changes: readonly TenantChange[]): TenantChange[] {
    return [...changes].sort((a, b) => ORDER[a.kind] - ORDER[b.kind] || a.id.localeCompare(b.id));
}

function counts(plan: ChangePlan): string {
    const count = (kind: TenantChangeKind) => plan.changes.filter((c) => c.kind === kind).length;
    return `${count("added")} added, ${count("changed")} changed, ${count("removed")} removed, ${plan.unchanged.length} unchanged`;
}

function resources(row: ChangePlan["targets"][number]): [string, Load, string][] {
    return [
        ["CPU", row.cpus, ""],
        ["memory", row.memoryGb, " GB"],
        ["disk", row.diskGb, " GB"],
    ];
}

export function renderText(plan: ChangePlan, context: PlanContext): string {
    const lines = [`n8n-fleet plan for stack ${context.stack}: ${context.tenantsFile} against ${context.base}`, ""];
    if (plan.blocked.length > 0) {
        lines.push(`BLOCKED (${plan.blocked.length}): this change cannot be deployed as it is`);
        for (const item of plan.blocked) lines.push(`  x ${item.tenant} ${item.what}`, `    what to do: ${item.todo}`);
        lines.push("");
    }
    if (plan.risks.length > 0) {
        lines.push(`RISKS (${plan.risks.length})`);
        for (const risk of plan.risks) lines.push(`  ! ${risk.tenant} ${risk.what}`, `    what to do: ${risk.todo}`);
        lines.push("");
    }
    lines.push(`TENANTS (${counts(plan)})`);
    if (plan.changes.length === 0) lines.push("  no tenant changes");
    const width = Math.max(0, ...plan.changes.map((c) => c.id.length));
    for (const change of sorted(plan.changes)) {
        const what = change.kind === "removed" ? "removed" : change.details.join("; ");
        lines.push(`  ${SIGN[change.kind]} ${change.id.padEnd(width)}  [${change.target}]  ${change.kind === "added" ? "added: " : ""}${what}`);
    }
    lines.push("", "TARGETS");
    for (const row of plan.targets) {
        lines.push(`  ${row.target} (${row.tenantsBefore} -> ${row.tenantsAfter} tenants)`);
        for (const [name, l, unit] of resources(row)) {
            if (l.capacity === undefined) {
                lines.push(`    ${name.padEnd(7)} ${amount(l.before)} -> ${amount(l.after)}${unit} (no capacity declared)`);
                continue;
            }
            const capacity = l.capacity;
            const side = (label: string, value: number | undefined) => `    ${label === "before" ? name.padEnd(7) : "".padEnd(7)} ${label.padEnd(6)} ${bar(value ?? 0, capacity)}  ${amount(value)} / ${capacity}${unit}`;
            lines.push(side("before", l.before), side("after", l.after));
        }
    }
    return `${lines.join("\n")}\n`;
}

function cell(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** Lines of a fenced text block, its fence longer than any run of backticks in the text. */
function fenced(text: string): string[] {
    const fence = "`".repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
    return [`${fence}text`, text.trimEnd(), fence];
}

/** `note`: what the reader should know about the base (a new stack, a base with problems of its own). */
export function renderMarkdown(plan: ChangePlan, context: PlanContext, note?: string): string {
    const lines = [`### n8n-fleet plan for stack \`${context.stack}\``, `\`${context.tenantsFile}\` against \`${context.base}\`: ${counts(plan)}.`, ""];
    if (note !== undefined) lines.push("Note:", "", ...fenced(note), "");
    if (plan.blocked.length > 0) {
        lines.push(`#### ⛔ Blocked (${plan.blocked.length}): this change cannot be deployed as it is`, "");
        for (const item of plan.blocked) lines.push(`- **${item.tenant}** ${item.what}<br>**What to do:** ${item.todo}`);
        lines.push("");
    }
    if (plan.risks.length > 0) {
        lines.push(`#### ⚠️ Risks (${plan.risks.length})`, "");
        for (const risk of plan.risks) lines.push(`- **${risk.tenant}** ${risk.what}<br>**What to do:** ${risk.todo}`);
        lines.push("");
    }
    lines.push("#### Tenants", "");
    if (plan.changes.length === 0) {
        lines.push("No tenant changes.", "");
    } else {
        lines.push("| | tenant | target | what changes |", "|---|---|---|---|");
        for (const change of sorted(plan.changes)) {
            const what = change.kind === "removed" ? "removed" : change.details.map(cell).join("<br>");
            lines.push(`| ${change.kind} | \`${change.id}\` | ${change.target} | ${what} |`);
        }
        lines.push("");
    }
    lines.push("#### Targets", "", "| target | tenants | | CPU | memory | disk |", "|---|---|---|---|---|---|");
    for (const row of plan.targets) {
        const column = (l: Load, unit: string, side: "before" | "after") => {
            const value = l[side];
            if (l.capacity === undefined) return `${amount(value)}${unit}`;
            return `\`${bar(value ?? 0, l.capacity)}\` ${amount(value)} / ${l.capacity}${unit}`;
        };
        const [cpu, memory, disk] = resources(row);
        lines.push(`| ${row.target} | ${row.tenantsBefore} → ${row.tenantsAfter} | before | ${column(cpu[1], "", "before")} | ${column(memory[1], " GB", "before")} | ${column(disk[1], " GB", "before")} |`);
        lines.push(`| | | after | ${column(cpu[1], "", "after")} | ${column(memory[1], " GB", "after")} | ${column(disk[1], " GB", "after")} |`);
    }
    return `${lines.join("\n")}\n`;
}

/** A stack whose files are invalid: no plan, the problems with their fixes instead. */
export function renderProblemsMarkdown(context: PlanContext, problems: string): string {
    return [
        `### n8n-fleet plan for stack \`${context.stack}\``,
        `#### ❌ Invalid: ${context.tenantsFile ? `\`${context.tenantsFile}\` or ` : ""}the stack file has problems, so there is no plan and nothing would be deployed`,
        "",
        "Each line names the file, line and field, and the fix:",
        "",
        ...fenced(problems),
        "",
    ].join("\n");
}

export type StackState = "invalid" | "blocked" | "risks" | "fine";

const STATE_TEXT: Record<StackState, string> = {
    invalid: "❌ invalid: fix the files first",
    blocked: "⛔ blocked: cannot be deployed as it is",
    risks: "⚠️ risks to review",
    fine: "✅ nothing risky",
};

/** One line per stack, the ones that stop a merge first, above the stacks' sections. */
export function renderStacksSummaryMarkdown(stacks: readonly { stack: string; state: StackState }[]): string {
    return [...stacks.map(({ stack, state }) => `- \`${stack}\`: ${STATE_TEXT[state]}`), ""].join("\n");
}
