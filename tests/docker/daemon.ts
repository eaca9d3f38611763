/**
 * A private Docker daemon for tests: its own socket, data root, exec root, pid file and log, all in
 * one fresh temporary folder, so a test never touches the machine's default daemon or its images,
 * and stopping it leaves nothing behind.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync } from "node:fs";
import { request } from "node:http";
import { basename, join } from "node:path";
import { setTimeout as pause } from "node:timers/promises";

/** A running private daemon. */
export interface Daemon {
    /** What `docker -H` and `DOCKER_HOST` take: `unix:///tmp/n8f-XXXXXX/docker.sock`. */
    host: string;
    /** The daemon's socket, for Engine API clients that take a path. */
    socketPath: string;
    /** The temporary folder that holds everything the daemon writes. */
    root: string;
    /** The daemon's own log (inside {@link root}), for failure messages; gone after `stop()`. */
    logFile: string;
    /**
     * Removes every container and user-defined network, stops the daemon (SIGTERM, then SIGKILL after
     * a deadline), unmounts what is left under {@link root} and deletes it. Safe to call twice, and
     * after the daemon has died.
     */
    stop(): Promise<void>;
}

/** Tuning for {@link startDaemon}; the defaults suit a test machine. */
export interface StartDaemonOptions {
    /** How long to wait for the daemon to answer `/_ping`. Default 60 s. */
    readyTimeoutMs?: number;
    /** How long `stop()` waits for the daemon to exit after SIGTERM before SIGKILL. Default 45 s. */
    stopTimeoutMs?: number;
}

const DEFAULT_READY_TIMEOUT_MS = 60_000;
// dockerd gives running containers its own 15 s shutdown timeout before it exits.
const DEFAULT_STOP_TIMEOUT_MS = 45_000;
// Unix socket paths are limited to 108 bytes, and containerd nests its shim sockets under the exec
// root: the folder must stay short, so it lives directly under /tmp with a short prefix.
const ROOT_PREFIX = "/tmp/n8f-";

/** Starts a private `dockerd` and waits until it answers. Always call `stop()` on the result. */
export async function startDaemon(options: StartDaemonOptions = {}): Promise<Daemon> {
    const root = mkdtempSync(ROOT_PREFIX);
    const socketPath = join(root, "docker.sock");
    const logFile = join(root, "dockerd.log");
    const id = basename(root);
    const args = [
        "--host",
        `unix://${socketPath}`,
        "--data-root",
        join(root, "data"),
        "--exec-root",
        join(root, "exec"),
        "--pidfile",
        join(root, "dockerd.pid"),
        // Another daemon may own docker0; user-defined networks still work without it.
        "--bridge=none",
        // A name no container holds is then looked up inside the container and fails there, so no
        // DNS query leaves the machine.
        "--dns",
        "127.0.0.1",
        // Should a system containerd appear, our containers stay apart from any other daemon's.
        "--containerd-namespace",
        id,
        "--containerd-plugins-namespace",
        `${id}-plugins`,
        // Log options of the kind hosts set in daemon.json: dockerd merges them into containers that
        // use its default driver, which the read-back check must survive.
        "--log-opt",
        "max-size=7m",
        "--log-opt",
        "tag={{.Name}}",
        // One cgroup parent per daemon, so a forced cleanup can find every process of its containers.
        "--cgroup-parent",
        `/${id}`,
    ];
    const log = openSync(logFile, "a");
    let child: ChildProcess;
    try {
        // Own process group: a Ctrl-C in the terminal reaches the test's cleanup, not the daemon directly.
        child = spawn("dockerd", args, { stdio: ["ignore", log, log], detached: true });
    } finally {
        closeSync(log);
    }
    const exited = new Promise<string>((resolve) => {
        child.once("exit", (code, signal) => resolve(signal ?? `exit code ${code}`));
        child.once("error", (error) => resolve(error.message));
    });
    const cleanup = () => forceStopAndRemove(root, id, child.pid, exited, options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS, socketPath);

    // A test that dies without calling stop() must not leave a daemon behind.
    const onExit = () => {
        if (child.exitCode === null && child.signalCode === null && child.pid) {
            try {
                process.kill(child.pid, "SIGTERM");
            } catch {
                // already gone
            }
        }
    };
    process.once("exit", onExit);

    let stopping: Promise<void> | undefined;
    const stop = () => {
        stopping ??= cleanup().finally(() => process.removeListener("exit", onExit));
        return stopping;
    };

    try {
        await waitUntilAnswering(socketPath, exited, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    } catch (error) {
        const lastLines = tailOf(logFile, 30);
        await stop();
        throw new Error(`dockerd did not start: ${(error as Error).message}\n--- last lines of ${logFile} ---\n${lastLines}`);
    }
    return { host: `unix://${socketPath}`, socketPath, root, logFile, stop };
}

async function waitUntilAnswering(socketPath: string, exited: Promise<string>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let processEnded: string | undefined;
    void exited.then((how) => (processEnded = how));
    let lastError = "no answer yet";
    while (Date.now() < deadline) {
        if (processEnded !== undefined) throw new Error(`dockerd exited (${processEnded})`);
        try {
            const answer = await engineRequest(socketPath, "GET", "/_ping", 2_000);
            if (answer.status === 200) return;
            lastError = `/_ping answered ${answer.status}`;
        } catch (error) {
            lastError = (error as Error).message;
        }
        await pause(200);
    }
    throw new Error(`no answer on ${socketPath} within ${timeoutMs / 1000} s (${lastError})`);
}

/**
 * Best effort at every step: each one must run even when the one before failed, because this is
 * also the path taken after a failed start or a dead daemon.
 */
async function forceStopAndRemove(
    root: string,
    id: string,
    pid: number | undefined,
    exited: Promise<string>,
    stopTimeoutMs: number,
    socketPath: string,
): Promise<void> {
    const alive = () => pid !== undefined && isRunning(pid);
    if (alive()) {
        // Networks outlive the daemon as host bridges and iptables rules unless removed through it.
        await removeContainersAndNetworks(socketPath).catch(() => undefined);
        signal(pid, "SIGTERM");
        if (!(await settlesWithin(exited, stopTimeoutMs))) {
            signal(pid, "SIGKILL");
            await settlesWithin(exited, 5_000);
        }
    }
    // After a SIGKILL (or a crash) containerd, its shims and the containers may still run.
    killProcessesMentioning(root);
    await killAndRemoveCgroups(id);
    unmountUnder(root);
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
}

async function removeContainersAndNetworks(socketPath: string): Promise<void> {
    const containers = await engineRequest(socketPath, "GET", "/containers/json?all=1", 10_000);
    for (const container of parseList(containers.body)) {
        await engineRequest(socketPath, "DELETE", `/containers/${container.Id}?force=1&v=1`, 30_000).catch(() => undefined);
    }
    const networks = await engineRequest(socketPath, "GET", "/networks", 10_000);
    for (const network of parseList(networks.body)) {
        if (network.Name === "bridge" || network.Name === "host" || network.Name === "none") continue;
        await engineRequest(socketPath, "DELETE", `/networks/${network.Id}`, 10_000).catch(() => undefined);
    }
}

function parseList(body: string): { Id: string; Name?: string }[] {
    const parsed: unknown = JSON.parse(body);
    if (!Array.isArray(parsed)) return [];
    return parsed.filter((item): item is { Id: string; Name?: string } => typeof item === "object" && item !== null && typeof item.Id === "string");
}

function killProcessesMentioning(root: string): void {
    for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
        const args = safeRead(`/proc/${entry}/cmdline`).split("\0");
        if (args.some((arg) => arg === root || arg.includes(`${root}/`))) signal(Number(entry), "SIGKILL");
    }
}

/**
 * Kills what is left in a top-level cgroup (the daemon's parent, or a fleet's envelopes), then
 * removes it and its (empty) descendants in every hierarchy.
 */
export async function killAndRemoveCgroups(id: string): Promise<void> {
    const parents = cgroupHierarchies()
        .map((hierarchy) => join(hierarchy, id))
        .filter((parent) => existsSync(parent));
    for (const parent of parents) {
        for (const dir of cgroupTree(parent)) {
            for (const line of safeRead(join(dir, "cgroup.procs")).split("\n")) {
                if (/^\d+$/.test(line)) signal(Number(line), "SIGKILL");
            }
        }
    }
    for (let attempt = 0; attempt < 20; attempt++) {
        let left = 0;
        for (const parent of parents) {
            // Children before parents: a cgroup with sub-cgroups cannot be removed.
            for (const dir of cgroupTree(parent).reverse()) {
                try {
                    rmdirSync(dir);
                } catch (error) {
                    if ((error as NodeJS.ErrnoException).code !== "ENOENT") left++;
                }
            }
        }
        if (left === 0) return;
        // Killed processes take a moment to leave their cgroup.
        await pause(100);
    }
}

/** cgroup v1 mounts one hierarchy per folder of /sys/fs/cgroup; cgroup v2 mounts one at the top. */
function cgroupHierarchies(): string[] {
    try {
        const v1 = readdirSync("/sys/fs/cgroup", { withFileTypes: true })
            .filter((entry) => entry.isDirectory())
            .map((entry) => join("/sys/fs/cgroup", entry.name));
        return ["/sys/fs/cgroup", ...v1];
    } catch {
        return [];
    }
}

/** A cgroup and all its descendants, parents first. */
export function cgroupTree(dir: string): string[] {
    const dirs = [dir];
    try {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
            if (entry.isDirectory()) dirs.push(...cgroupTree(join(dir, entry.name)));
        }
    } catch {
        // the cgroup went away meanwhile
    }
    return dirs;
}

/** Lazily unmounts every mount point below `root`, deepest first (a daemon's or a chroot's leftovers). */
export function unmountUnder(root: string): void {
    const mountPoints = safeRead("/proc/self/mountinfo")
        .split("\n")
        .map((line) => unescapeMountPath(line.split(" ")[4] ?? ""))
        .filter((path) => path.startsWith(`${root}/`))
        // Deepest first, so a parent is never busy because of a child.
        .sort((a, b) => b.length - a.length);
    for (const path of mountPoints) spawnSync("umount", ["--lazy", path], { stdio: "ignore" });
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(path: string): string {
    return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function isRunning(pid: number): boolean {
    try {
        process.kill(pid, 0);
    } catch {
        return false;
    }
    // A zombie still accepts signal 0; it is gone for our purposes.
    return !/\) Z /.test(safeRead(`/proc/${pid}/stat`));
}

function signal(pid: number | undefined, name: NodeJS.Signals): void {
    if (pid === undefined) return;
    try {
        process.kill(pid, name);
    } catch {
        // already gone
    }
}

/** A file's text, or "" when it cannot be read (gone meanwhile). */
export function safeRead(path: string): string {
    try {
        return readFileSync(path, "utf8");
    } catch {
        return "";
    }
}

function tailOf(path: string, lines: number): string {
    return safeRead(path).trimEnd().split("\n").slice(-lines).join("\n") || "(empty log)";
}

/** Whether `promise` settles within `ms`; the timer is cleared either way, so it never holds the process open. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
    });
    try {
        return await Promise.race([promise.then(() => true as const), timeout]);
    } finally {
        clearTimeout(timer);
    }
}

/** The status and body of one Engine API call over the daemon's socket. */
export interface EngineAnswer {
    status: number;
    body: string;
}

/** One Engine API request over a unix socket; rejects on a transport error or after `timeoutMs`. */
export function engineRequest(socketPath: string, method: string, path: string, timeoutMs: number): Promise<EngineAnswer> {
    return new Promise((resolve, reject) => {
        const req = request({ socketPath, method, path, timeout: timeoutMs }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
        req.on("error", reject);
        req.end();
    });
}
