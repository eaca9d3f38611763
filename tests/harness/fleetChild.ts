/**
 * Child process of runFleetInChild: runs the program once under the mock monitor and prints the
 * outcome as JSON on stdout.
 */
import * as pulumi from "@pulumi/pulumi";
import { runFleet } from "./runFleet";
import type { Registration } from "./recordingMocks";

// A program that throws rejects several of the SDK's promises; the first one is the outcome. The
// language host fails the program on an unhandled rejection (the SDK re-rejects a failed resource
// operation, such as registering outputs, for that), even when every registration went through.
let unhandled: unknown;
process.on("unhandledRejection", (reason) => {
    unhandled ??= reason;
});

/** The @pulumi packages this process loaded: what `pulumi up` would load for the same fleet. */
function loadedPulumiPackages(): string[] {
    const names = Object.keys(require.cache).flatMap((path) => /node_modules\/@pulumi\/([^/]+)\//.exec(path)?.[1] ?? []);
    return [...new Set(names)].sort();
}

/** Exits once the whole report has left: a pipe takes 64 KiB at a time, and exiting earlier cuts it short. */
function report(outcome: unknown): void {
    process.stdout.write(JSON.stringify(outcome), () => process.exit(0));
}

async function main(): Promise<void> {
    const options = JSON.parse(process.argv[2]);
    let registered: Registration[] = [];
    try {
        const run = await runFleet({ ...options, onRecording: (resources: Registration[]) => (registered = resources) });
        // Node reports an unhandled rejection once the microtasks of its turn have run.
        await new Promise((resolve) => setImmediate(resolve));
        if (unhandled !== undefined) throw unhandled;
        report({ ok: true, run: { resources: run.resources, outputs: run.outputs, rawOutputs: run.rawOutputs, loadedPulumiPackages: loadedPulumiPackages() } });
    } catch (error) {
        report({ ok: false, error: (error as Error).message, isRunError: pulumi.RunError.isInstance(error), resources: registered });
    }
}

void main();
