/**
 * The test's connection to its private Docker daemon (DOCKER_HOST, set by tests/docker/withDaemon.ts)
 * through dockerode, and the few operations every Docker test needs on top of it: run a command in
 * a container, read its logs, poll with a deadline, and remove everything the test created.
 */
import { setTimeout as pause } from "node:timers/promises";
import Docker from "dockerode";

/** The machine's own daemon: a test must never touch it. */
const DEFAULT_SOCKET = "/var/run/docker.sock";

/**
 * A client of the daemon DOCKER_HOST names. Refuses to run without DOCKER_HOST or against the
 * machine's default socket, so the test can never create anything in the machine's own Docker.
 */
export function testDaemon(): Docker {
    const host = process.env.DOCKER_HOST;
    if (!host) throw new Error("DOCKER_HOST is not set: run the Docker tests with `npm run test:docker`, which starts a private daemon and sets it");
    if (!host.startsWith("unix://")) throw new Error(`DOCKER_HOST=${host}: the Docker tests only use a private daemon on a unix socket (npm run test:docker)`);
    const socketPath = host.slice("unix://".length);
    if (socketPath === DEFAULT_SOCKET) throw new Error(`DOCKER_HOST points at the machine's own daemon (${DEFAULT_SOCKET}); run the Docker tests with \`npm run test:docker\``);
    return new Docker({ socketPath });
}

/** The output of a command run in a container. */
export interface ExecResult {
    exitCode: number;
    stdout: string;
    stderr: string;
}

/**
 * Docker's multiplexed stream format (containers without a TTY): frames of an 8-byte header
 * (stream, 3 zero bytes, big-endian length) and a payload; stream 1 is stdout, 2 is stderr.
 */
function* frames(raw: Buffer): Generator<{ stream: number; payload: Buffer }> {
    let offset = 0;
    while (offset + 8 <= raw.length) {
        const length = raw.readUInt32BE(offset + 4);
        yield { stream: raw[offset], payload: raw.subarray(offset + 8, offset + 8 + length) };
        offset += 8 + length;
    }
}

/** stdout and stderr of a multiplexed stream, apart. */
function demux(raw: Buffer): { stdout: string; stderr: string } {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    for (const { stream, payload } of frames(raw)) (stream === 2 ? err : out).push(payload);
    return { stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

/**
 * Runs `command` in a running container (as the container's user unless `user` is given) and
 * waits for it to end. Rejects after `timeoutMs`; the probes the tests run have shorter timeouts of
 * their own, so this only catches a command that hangs.
 */
export async function execIn(docker: Docker, container: string, command: string[], options: { timeoutMs?: number; user?: string } = {}): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const exec = await docker.getContainer(container).exec({ Cmd: command, AttachStdout: true, AttachStderr: true, ...(options.user && { User: options.user }) });
    const stream = await exec.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    let timer: NodeJS.Timeout | undefined;
    try {
        await new Promise<void>((resolve, reject) => {
            timer = setTimeout(() => reject(new Error(`${container}: \`${command.join(" ").slice(0, 120)}\` did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
            stream.on("end", resolve);
            stream.on("close", resolve);
            stream.on("error", reject);
        });
    } finally {
        clearTimeout(timer);
        stream.removeAllListeners();
    }
    // The exec is marked finished a moment after its output stream closes.
    const exitCode = await poll(`the exit code of \`${command[0]}\` in ${container}`, 10_000, async () => {
        const info = await exec.inspect();
        return info.Running || info.ExitCode === null ? undefined : info.ExitCode;
    });
    return { exitCode, ...demux(Buffer.concat(chunks)) };
}

/** The container's last `lines` log lines, stdout and stderr interleaved as Docker stored them. */
export async function logsOf(docker: Docker, container: string, lines?: number): Promise<string> {
    const raw = await docker.getContainer(container).logs({ stdout: true, stderr: true, follow: false, ...(lines !== undefined && { tail: lines }) });
    return Buffer.concat([...frames(raw)].map((frame) => frame.payload)).toString("utf8");
}

/** Resolves after `ms`: the pause between two polls, never a wait for something to have happened. */
export { pause };

/**
 * Calls `check` until it returns a value (not undefined) and returns it; throws, naming `what`
 * and the last error `check` threw, when `timeoutMs` passes first.
 */
export async function poll<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 500): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = "no answer yet";
    for (;;) {
        try {
            const value = await check();
            if (value !== undefined) return value;
        } catch (error) {
            last = (error as Error).message;
        }
        if (Date.now() > deadline) throw new Error(`${what}: not reached within ${Math.round(timeoutMs / 1000)} s (last: ${last})`);
        await pause(intervalMs);
    }
}

/**
 * Everything a test file created in the daemon, so that its `after` hook removes all of it, also
 * when a check failed halfway: containers first (forced, no grace: the data is thrown away), then
 * networks and volumes.
 */
export class Created {
    private readonly containers = new Set<string>();
    private readonly networks = new Set<string>();
    private readonly volumes = new Set<string>();
    /** What a container changed outside the daemon (the host guard's firewall rules), undone last. */
    private readonly onHost = new Map<string, () => Promise<void>>();

    container(name: string): void {
        this.containers.add(name);
    }

    network(name: string): void {
        this.networks.add(name);
    }

    volume(name: string): void {
        this.volumes.add(name);
    }

    /** `undo` runs after the containers are gone, once per `key`. */
    hostChange(key: string, undo: () => Promise<void>): void {
        this.onHost.set(key, undo);
    }

    /** Removes everything recorded; returns what could not be removed, one line each. */
    async removeAll(docker: Docker): Promise<string[]> {
        const problems: string[] = [];
        const attempt = async (what: string, remove: () => Promise<unknown>) => {
            for (let tries = 1; ; tries++) {
                try {
                    await remove();
                    return;
                } catch (error) {
                    const status = (error as { statusCode?: number }).statusCode;
                    if (status === 404) return;
                    // The daemon may drop the connection of a request it is still working on (EPIPE): ask again, once.
                    const code = (error as NodeJS.ErrnoException).code;
                    if (tries < 2 && (code === "EPIPE" || code === "ECONNRESET")) continue;
                    problems.push(`${what}: ${(error as Error).message}`);
                    return;
                }
            }
        };
        await Promise.all([...this.containers].map((name) => attempt(`container ${name}`, () => docker.getContainer(name).remove({ force: true, v: true }))));
        await Promise.all([...this.networks].map((name) => attempt(`network ${name}`, () => docker.getNetwork(name).remove())));
        await Promise.all([...this.volumes].map((name) => attempt(`volume ${name}`, () => docker.getVolume(name).remove())));
        for (const [key, undo] of this.onHost) await attempt(key, undo);
        this.containers.clear();
        this.networks.clear();
        this.volumes.clear();
        this.onHost.clear();
        return problems;
    }
}
