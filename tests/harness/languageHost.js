"use strict";
/**
 * Loads a program exactly as `pulumi up` does: it starts the SDK's language-host entry
 * (`@pulumi/pulumi/cmd/run`) with the arguments the Node.js language host passes, and the SDK
 * registers ts-node with the project's tsconfig because Pulumi.yaml says `typescript: true`.
 * The resource monitor is the SDK's mock monitor. Plain JavaScript, so that no TypeScript loader
 * is registered before the SDK's own.
 *
 * argv[2]: JSON `{ config, program?, recordFile?, reportFile?, exitCodes? }`: the stack config; the
 * program's path (default: this project); a file to write every registration to; the exit status
 * the provider records for one-shot containers, by name. On exit, writes
 * what was registered (type and name), the stack outputs, the peak memory and the time since start
 * as JSON to `reportFile`, or to stdout; the SDK prints the program's errors on stderr and sets the
 * exit code, as it would for the engine.
 */
const { writeFileSync } = require("node:fs");
const path = require("node:path");
const started = process.hrtime.bigint();
const pulumi = require("@pulumi/pulumi");
const { installRecordingMocks } = require("./recordingMocks");

const projectRoot = path.resolve(__dirname, "..", "..");
const stack = "dev";
const { config, program = ".", recordFile, reportFile, exitCodes } = JSON.parse(process.argv[2]);

// What the Node.js language host sets for a project whose Pulumi.yaml has `typescript: true`.
process.env.PULUMI_NODEJS_TYPESCRIPT = "true";

const recording = installRecordingMocks({ stack, exitCodes });
pulumi.runtime.setAllConfig(config);

process.on("exit", () => {
    if (recordFile) writeFileSync(recordFile, JSON.stringify(recording.resources));
    const report = JSON.stringify({
        resources: recording.resources.map((r) => ({ type: r.type, name: r.name })),
        outputs: recording.stackOutputs.raw ?? null,
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
    });
    // A file is written whole before exit; a pipe may not be.
    if (reportFile) writeFileSync(reportFile, report);
    else process.stdout.write(report);
});

process.argv = [process.argv[0], require.resolve("@pulumi/pulumi/cmd/run"), "--monitor=mock", `--project=n8n-fleet`, `--stack=${stack}`, `--pwd=${projectRoot}`, program];
require("@pulumi/pulumi/cmd/run");
