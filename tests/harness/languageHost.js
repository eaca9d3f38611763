"use strict";
/**
 * Loads the program exactly as `pulumi up` does: it starts the SDK's language-host entry
 * (`@pulumi/pulumi/cmd/run`) with the arguments the Node.js language host passes, and the SDK
 * registers ts-node with the project's tsconfig because Pulumi.yaml says `typescript: true`.
 * The resource monitor is the SDK's mock monitor. Plain JavaScript, so that no TypeScript loader
 * is registered before the SDK's own.
 *
 * argv[2]: the stack config as JSON. On exit, prints what was registered as JSON on stdout; the
 * SDK prints the program's errors on stderr and sets the exit code, as it would for the engine.
 */
const path = require("node:path");
const pulumi = require("@pulumi/pulumi");
const { installRecordingMocks } = require("./recordingMocks");

const projectRoot = path.resolve(__dirname, "..", "..");
const stack = "dev";
const config = JSON.parse(process.argv[2]);

// What the Node.js language host sets for a project whose Pulumi.yaml has `typescript: true`.
process.env.PULUMI_NODEJS_TYPESCRIPT = "true";

const recording = installRecordingMocks({ stack });
pulumi.runtime.setAllConfig(config);

process.on("exit", () => {
    process.stdout.write(JSON.stringify({ resources: recording.resources.map((r) => ({ type: r.type, name: r.name })), outputs: recording.stackOutputs.raw ?? null }));
});

process.argv = [process.argv[0], require.resolve("@pulumi/pulumi/cmd/run"), "--monitor=mock", `--project=n8n-fleet`, `--stack=${stack}`, `--pwd=${projectRoot}`, "."];
require("@pulumi/pulumi/cmd/run");
