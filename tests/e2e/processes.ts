/**
 * Real PostgreSQL, Redis and n8n processes on loopback for the end-to-end test: started in their
 * own process groups, logged to files, waited for, measured, and always stopped.
 */
import { ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { chownSync, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fetch } from "../harness/http";

export interface Running {
    name: string;
    child: ChildProcess;
    logFile: string;
    /** Resolves with the exit code (or signal) once the process has ended. */
    exited: Promise<string>;
}

const running = new Set<Running>();

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.unref();
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
        });
    });
}

/** The last lines a process logged: what a failure message shows. */
export function tail(proc: Running, lines = 25): string {
    if (!existsSync(proc.logFile)) return "(no log)";
    return readFileSync(proc.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

export interface StartOptions {
    name: string;
    command: string;
    args: string[];
    env: Record<string, string>;
    logDir: string;
    uid?: number;
    gid?: number;
    cwd?: string;
}

export function start(options: StartOptions): Running {
    const logFile = join(options.logDir, `${options.name.replace(/\W+/g, "-")}.log`);
    const log = createWriteStream(logFile, { flags: "a" });
    const child = spawn(options.command, options.args, {
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...options.env },
        cwd: options.cwd,
        uid: options.uid,
        gid: options.gid,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const proc: Running = {
        name: options.name,
        child,
        logFile,
        exited: new Promise((resolve) => child.on("exit", (code, signal) => resolve(signal ?? String(code)))),
    };
    running.add(proc);
    void proc.exited.then(() => running.delete(proc));
    return proc;
}

/** Stops a process and its children (SIGTERM, then SIGKILL after `graceMs`). */
export async function stop(proc: Running, graceMs = 20_000): Promise<void> {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
    const group = -(proc.child.pid ?? 0);
    try {
        process.kill(group, "SIGTERM");
    } catch {
        return;
    }
    const timer = setTimeout(() => {
        try {
            process.kill(group, "SIGKILL");
        } catch {
            // already gone
        }
    }, graceMs);
    await proc.exited;
    clearTimeout(timer);
}

/** Stops everything still running; called from `after`, so a failed check leaves nothing behind. */
export async function stopAll(): Promise<void> {
    await Promise.all([...running].map((proc) => stop(proc, 5_000)));
}

/** Polls `url` until it answers 200; fails early, with the process's log, if the process exits. */
export async function waitForHttp(proc: Running, url: string, what: string, timeoutMs = 240_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "no answer";
    while (Date.now() < deadline) {
        if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
            throw new Error(`${what}: ${proc.name} exited (${proc.child.exitCode ?? proc.child.signalCode}) before ${url} answered 200. Its last log lines:\n${tail(proc)}`);
        }
        try {
            const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
            if (response.status === 200) return;
            last = `HTTP ${response.status}`;
        } catch (error) {
            last = (error as Error).message;
        }
        await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${what}: ${url} did not answer 200 within ${timeoutMs / 1000} s (last: ${last}). ${proc.name}'s last log lines:\n${tail(proc)}`);
}

/**
 * Runs a command to completion; the result carries its combined output. Asynchronous, so that the
 * test's own timers and connections keep running while it waits.
 */
export function runToEnd(
    command: string,
    args: string[],
    env: Record<string, string>,
    options: { uid?: number; gid?: number; input?: string } = {},
): Promise<{ status: number | null; output: string }> {
    return new Promise((resolve) => {
        const child = execFile(
            command,
            args,
            { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env }, uid: options.uid, gid: options.gid, encoding: "utf8", timeout: 300_000, maxBuffer: 64 * 1024 * 1024 },
            (error, stdout, stderr) => {
                const status = error === null ? 0 : typeof error.code === "number" ? error.code : null;
                resolve({ status, output: `${stdout ?? ""}${stderr ?? ""}` });
            },
        );
        if (options.input !== undefined) child.stdin?.end(options.input);
        else child.stdin?.end();
    });
}

/** PostgreSQL refuses to run as root: the OS user its processes and files belong to. */
export function postgresOsUser(): { uid: number; gid: number } {
    for (const name of ["postgres", "nobody"]) {
        const id = spawnSync("id", ["-u", name], { encoding: "utf8" });
        const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
        if (id.status === 0) return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
    }
    throw new Error("no postgres or nobody user to run PostgreSQL as");
}

/** Folder of PostgreSQL's server binaries (Debian keeps them out of PATH). */
export function postgresBinDir(): string {
    const base = "/usr/lib/postgresql";
    const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, "bin", "initdb"))) : [];
    if (versions.length === 0) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql; .ci/run installs them");
    return join(base, versions.sort((a, b) => Number(b) - Number(a))[0], "bin");
}

/** Creates a folder owned by the given user. */
export function ownedDir(path: string, owner?: { uid: number; gid: number }): string {
    mkdirSync(path, { recursive: true });
    if (owner) chownSync(path, owner.uid, owner.gid);
    return path;
}

export function writeFile(path: string, content: string, owner?: { uid: number; gid: number }, mode = 0o644): string {
    writeFileSync(path, content, { mode });
    if (owner) chownSync(path, owner.uid, owner.gid);
    return path;
}
