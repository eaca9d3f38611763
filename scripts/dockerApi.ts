/**
 * A target's Docker API as the scripts reach it, and the throwaway containers they run there.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import Docker from "dockerode";
import type { TenantPlan } from "../fleet/tenants/plan";
import { fail } from "./cli";

/**
 * The Docker API of the tenant's host: unix://, and tcp:// with the target's TLS folder, from the
 * stack; anything else through --docker-host (an SSH tunnel's socket).
 */
export function dockerFor(plan: TenantPlan, override: string | undefined): Docker {
    const host = override ?? plan.target.dockerHost;
    if (host.startsWith("unix://")) return new Docker({ socketPath: host.slice("unix://".length) });
    const tcp = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(host);
    const certs = override === undefined ? plan.target.tls?.certPath : undefined;
    if (tcp && certs !== undefined) {
        const pem = (file: string) => readFileSync(join(certs, file));
        return new Docker({ protocol: "https", host: tcp[1], port: Number(tcp[2]), ca: pem("ca.pem"), cert: pem("cert.pem"), key: pem("key.pem") });
    }
    if (tcp) return new Docker({ host: tcp[1], port: Number(tcp[2]) });
    fail(`${host}: the restore talks to unix:// or tcp:// Docker hosts. Fix: open a tunnel (ssh -nNT -L /tmp/fleet.sock:/var/run/docker.sock <host>) and pass --docker-host unix:///tmp/fleet.sock.`);
}

/**
 * Runs a throwaway container to its end: created, given its files (`prepare`), its output streamed
 * (stdout to `stdout`, stderr to ours), then removed whatever happens. Its exit status.
 */
export async function runToEnd(docker: Docker, options: Docker.ContainerCreateOptions, stdout: NodeJS.WritableStream, prepare?: (container: Docker.Container) => Promise<void>): Promise<number> {
    const container = await docker.createContainer(options);
    try {
        await prepare?.(container);
        const stream = await container.attach({ stream: true, stdout: true, stderr: true });
        const done = new Promise<void>((ok) => stream.on("end", () => ok()));
        docker.modem.demuxStream(stream, stdout, process.stderr);
        await container.start();
        const { StatusCode } = (await container.wait()) as { StatusCode: number };
        await done;
        return StatusCode;
    } finally {
        await container.remove({ force: true });
    }
}

/** What `command` prints, run in `image` on no network with `binds`; throws when it fails. */
export async function output(docker: Docker, image: string, command: string[], binds: string[], capabilities: string[] = []): Promise<string> {
    const chunks: Buffer[] = [];
    const out = new PassThrough();
    out.on("data", (chunk: Buffer) => chunks.push(chunk));
    const status = await runToEnd(docker, { Image: image, Cmd: command, User: "0:0", HostConfig: { Binds: binds, NetworkMode: "none", CapDrop: ["ALL"], CapAdd: ["CAP_DAC_READ_SEARCH", ...capabilities] } }, out);
    if (status !== 0) throw new Error(`${command.join(" ")} exited ${status}`);
    return Buffer.concat(chunks).toString("utf8");
}

/** Waits until container `name` is healthy; throws when it stops or the time is up. */
export async function waitHealthy(docker: Docker, name: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const state = (await docker.getContainer(name).inspect()).State;
        if (state.Health?.Status === "healthy") return;
        if (!state.Running) throw new Error(`${name} stopped (exit ${state.ExitCode}) while starting`);
        if (Date.now() > deadline) throw new Error(`${name} was not healthy within ${timeoutMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 2_000));
    }
}

/** Runs `command` in running container `name` as its own user; what it printed, or throws with it when it fails. */
export async function execOutput(docker: Docker, name: string, command: string[]): Promise<string> {
    const exec = await docker.getContainer(name).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (chunk: Buffer) => chunks.push(chunk));
    docker.modem.demuxStream(stream, out, out);
    await new Promise<void>((done, failed) => {
        stream.on("end", () => done());
        stream.on("close", () => done());
        stream.on("error", failed);
    });
    // Docker marks the exec finished a moment after its output ends.
    for (let tries = 0; ; tries++) {
        const info = await exec.inspect();
        if (!info.Running && info.ExitCode !== null) {
            const text = Buffer.concat(chunks).toString("utf8");
            if (info.ExitCode !== 0) throw new Error(`\`${command.join(" ")}\` in ${name} exited ${info.ExitCode}: ${text.trim()}`);
            return text;
        }
        if (tries > 100) throw new Error(`\`${command.join(" ")}\` in ${name} did not finish`);
        await new Promise((r) => setTimeout(r, 100));
    }
}
