/**
 * `npm run --silent drift -- <refresh-preview.json> <stack-export.json> [--format text|markdown]`:
 * the tenants whose resources `pulumi refresh --preview-only --json` found changed or gone outside
 * Pulumi, with what drifted, mapped to tenants through `pulumi stack export`. Exit 0 without drift,
 * 1 with drift, 2 when drift cannot be told (a wrong command line or file, or a refresh that failed).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { driftOutcome, driftReport, formatDriftMarkdown, formatDriftText, parseRefreshPreview } from "../fleet/review/drift";
import { parseStackExport } from "../fleet/review/offboarding";
import { fail, parseCommandLine } from "./cli";

const USAGE =
    "usage: npm run --silent drift -- <refresh-preview.json> <stack-export.json> [--format text|markdown]\n" +
    "  refresh-preview.json: pulumi refresh --preview-only --json --stack <stack>\n" +
    "  stack-export.json:    pulumi stack export --stack <stack>\n" +
    "exit 0: no drift; 1: drift; 2: drift cannot be told";

function read(file: string): string {
    try {
        // npm runs scripts in the project folder; a path is meant from where the user typed it.
        return readFileSync(resolve(process.env.INIT_CWD ?? process.cwd(), file), "utf8");
    } catch (error) {
        fail(`cannot read ${file}: ${(error as Error).message}`, 2);
    }
}

function main(): void {
    const { values, positionals } = parseCommandLine({ allowPositionals: true, options: { format: { type: "string", default: "text" } } }, USAGE);
    if (values.format !== "text" && values.format !== "markdown") fail(`--format must be text or markdown, not ${values.format}\n${USAGE}`, 2);
    if (positionals.length !== 2) fail(USAGE, 2);
    const [previewFile, exportFile] = positionals;

    const preview = parseRefreshPreview(read(previewFile));
    if (!preview.ok) fail(`${previewFile} is not a refresh preview: ${preview.error}`, 2);
    const state = parseStackExport(read(exportFile));
    if (!state.ok) fail(`${exportFile} is not a stack export: ${state.error}`, 2);

    const report = driftReport(preview.value, state.value);
    process.stdout.write(values.format === "markdown" ? formatDriftMarkdown(report) : formatDriftText(report));
    const outcome = driftOutcome(report);
    process.exitCode = outcome === "none" ? 0 : outcome === "drift" ? 1 : 2;
}

main();
