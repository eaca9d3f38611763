/**
 * Runs one command against a private Docker daemon that holds the stand-in images:
 *
 *     node --require ts-node/register tests/docker/withDaemon.ts -- <command> [args...]
 *
 * The command inherits the terminal and gets DOCKER_HOST; the daemon is always stopped afterwards,
 * also when the command fails or this process gets SIGINT or SIGTERM. Exits with the command's
 * status (128 + signal number when it was ended by a signal).
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { startDaemon } from "./daemon";
import { ensureImages } from "./images/build";

const USAGE = "usage: node --require ts-node/register tests/docker/withDaemon.ts -- <command> [args...]";

function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
    if (code !== null) return code;
    return 128 + (signal ? constants.signals[signal] : 0);
}

function runCommand(command: string, args: string[], env: NodeJS.ProcessEnv, onStart: (stop: (signal: NodeJS.Signals) => void) => void): Promise<number> {
    return new Promise((resolve) => {
        const child = spawn(command, args, { stdio: "inherit", env });
        onStart((signal) => child.kill(signal));
        child.once("error", (error) => {
            process.stderr.write(`withDaemon: ${command} could not run: ${error.message}\n`);
            resolve(127);
        });
        child.once("exit", (code, signal) => resolve(exitStatus(code, signal)));
    });
}

async function main(): Promise<number> {
    const argv = process.argv.slice(2);
    const [command, ...args] = argv[0] === "--" ? argv.slice(1) : argv;
    if (!command) {
        process.stderr.write(`${USAGE}\n`);
        return 2;
    }

    let received: NodeJS.Signals | undefined;
    let forward: ((signal: NodeJS.Signals) => void) | undefined;
    const setup = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
        received ??= signal;
        // A terminal's Ctrl-C reaches the command too; forwarding covers a signal sent to us alone.
        if (forward) forward(signal);
        else setup.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);

    const daemon = await startDaemon();
    try {
        process.stderr.write(`withDaemon: dockerd at ${daemon.host}\n`);
        await ensureImages(daemon, { signal: setup.signal });
        if (received) return exitStatus(null, received);
        return await runCommand(command, args, { ...process.env, DOCKER_HOST: daemon.host }, (stop) => (forward = stop));
    } catch (error) {
        if (received) return exitStatus(null, received);
        process.stderr.write(`withDaemon: ${(error as Error).message}\n`);
        return 1;
    } finally {
        process.stderr.write("withDaemon: stopping dockerd\n");
        await daemon.stop();
    }
}

main().then(
    (status) => process.exit(status),
    (error: unknown) => {
        process.stderr.write(`withDaemon: ${(error as Error).message}\n`);
        process.exit(1);
    },
);
