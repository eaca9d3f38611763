/**
 * Network probes run from inside the fleet's containers with `docker exec` (name lookups and TCP
 * connections), and a TCP listener the test runs in a container on a network of its own. Nothing
 * here sends anything to an address other than the test's own containers.
 */
import { connect } from "node:net";
import type Docker from "dockerode";
import { Created, execIn, logsOf, poll } from "./client";

/** How long one lookup or connection attempt may take inside a container. */
const PROBE_TIMEOUT_MS = 3_000;

/** The outcome of looking a name up from inside a container. */
export interface Lookup {
    name: string;
    /** IPv4 addresses; empty when the name did not resolve. */
    addresses: string[];
    /** The resolver's error code when it did not resolve (ENOTFOUND, ETIMEOUT, ...). */
    error?: string;
}

/** The outcome of a TCP connection attempt from inside a container. */
export interface Connection {
    host: string;
    port: number;
    connected: boolean;
    /** Why it did not connect: ECONNREFUSED, a timeout (dropped), ... */
    error?: string;
}

/**
 * Lookups go through c-ares (`dns.Resolver`) with a short timeout: on an internal network
 * getaddrinfo stalls 10 s for a name no container holds (EAI_AGAIN), and a few such lookups starve
 * Node's thread pool. Connections are plain `net.connect` with a timeout.
 */
const NODE_PROBE = `
const dns = require("node:dns");
const net = require("node:net");
const spec = JSON.parse(process.argv[1]);
const resolver = new dns.promises.Resolver({ timeout: spec.timeoutMs, tries: 1 });
const lookup = (name) => resolver.resolve4(name).then((addresses) => ({ name, addresses }), (error) => ({ name, addresses: [], error: error.code || String(error) }));
const connect = ({ host, port }) => new Promise((done) => {
    const socket = net.connect({ host, port });
    const finish = (result) => { clearTimeout(timer); socket.destroy(); done({ host, port, ...result }); };
    const timer = setTimeout(() => finish({ connected: false, error: "no answer within " + spec.timeoutMs + " ms (dropped)" }), spec.timeoutMs);
    socket.once("connect", () => finish({ connected: true }));
    socket.once("error", (error) => finish({ connected: false, error: error.code || String(error) }));
});
Promise.all([Promise.all(spec.lookups.map(lookup)), Promise.all(spec.connections.map(connect))])
    .then(([lookups, connections]) => process.stdout.write(JSON.stringify({ lookups, connections })));
`;

/** Bash's /dev/tcp under `timeout`, for images without Node (PostgreSQL, Redis). */
const BASH_CONNECT = 'exec 3<>"/dev/tcp/$0/$1"';

async function hasNode(docker: Docker, container: string): Promise<boolean> {
    return (await execIn(docker, container, ["node", "--version"]).catch(() => ({ exitCode: 127 }))).exitCode === 0;
}

/** Looks names up and opens connections from inside `container`, with its image's Node. */
export async function probeWithNode(docker: Docker, container: string, lookups: string[], connections: { host: string; port: number }[]): Promise<{ lookups: Lookup[]; connections: Connection[] }> {
    const spec = JSON.stringify({ lookups, connections, timeoutMs: PROBE_TIMEOUT_MS });
    const result = await execIn(docker, container, ["node", "-e", NODE_PROBE, spec], { timeoutMs: 60_000 });
    if (result.exitCode !== 0) throw new Error(`the network probe failed in ${container} (exit ${result.exitCode}): ${result.stderr.slice(0, 500)}`);
    return JSON.parse(result.stdout);
}

/**
 * Whether a TCP connection from inside `container` to `host:port` succeeds: with the image's Node
 * when it has one (n8n, runners), otherwise with bash (PostgreSQL, Redis).
 */
export async function connectFrom(docker: Docker, container: string, host: string, port: number): Promise<Connection> {
    if (await hasNode(docker, container)) return (await probeWithNode(docker, container, [], [{ host, port }])).connections[0];
    const seconds = String(PROBE_TIMEOUT_MS / 1000);
    const result = await execIn(docker, container, ["timeout", seconds, "bash", "-c", BASH_CONNECT, host, String(port)]);
    if (result.exitCode === 0) return { host, port, connected: true };
    // 124: `timeout` ended it, the SYN went unanswered; anything else is bash's error (refused, unreachable).
    const error = result.exitCode === 124 ? `no answer within ${seconds} s (dropped)` : result.stderr.trim().split("\n").pop() || `exit code ${result.exitCode}`;
    return { host, port, connected: false, error };
}

/** Whether a TCP connection from the host (this process) to `host:port` succeeds. */
export function connectOnHost(host: string, port: number): Promise<Connection> {
    return new Promise((done) => {
        const socket = connect({ host, port });
        const finish = (result: Omit<Connection, "host" | "port">) => {
            clearTimeout(timer);
            socket.destroy();
            done({ host, port, ...result });
        };
        const timer = setTimeout(() => finish({ connected: false, error: `no answer within ${PROBE_TIMEOUT_MS} ms` }), PROBE_TIMEOUT_MS);
        socket.once("connect", () => finish({ connected: true }));
        socket.once("error", (error: NodeJS.ErrnoException) => finish({ connected: false, error: error.code ?? error.message }));
    });
}

/** A container's address on one of its networks, from `docker inspect`. */
export async function addressOn(docker: Docker, container: string, network: string): Promise<string> {
    const info = await docker.getContainer(container).inspect();
    const address = info.NetworkSettings.Networks[network]?.IPAddress;
    if (!address) throw new Error(`${container} has no address on ${network}; it is on ${Object.keys(info.NetworkSettings.Networks).join(", ") || "no network"}`);
    return address;
}

/** A TCP listener in a container on a network of its own, which logs every connection it accepts. */
export interface Listener {
    container: string;
    network: string;
    address: string;
    port: number;
    /** Source addresses of every connection it accepted so far. */
    acceptedFrom(): Promise<string[]>;
}

const LISTENER_PORT = 7070;
const LISTENER_SCRIPT = `
require("node:net").createServer((socket) => { console.log("accepted " + socket.remoteAddress.replace(/^::ffff:/, "")); socket.destroy(); })
    .listen(${LISTENER_PORT}, "0.0.0.0", () => console.log("listening"));
`;

/**
 * Starts the listener in a container of `image` (any image with Node at /usr/local/bin/node), on a
 * new non-internal network that nothing of the fleet is attached to.
 */
export async function startListener(docker: Docker, created: Created, image: string, name: string): Promise<Listener> {
    const network = `${name}-network`;
    await docker.createNetwork({ Name: network, CheckDuplicate: true, Driver: "bridge", Labels: { "n8n-fleet.test-fixture": name } });
    created.network(network);
    const container = await docker.createContainer({
        name,
        Image: image,
        Entrypoint: ["/usr/local/bin/node", "-e", LISTENER_SCRIPT],
        Cmd: [],
        Labels: { "n8n-fleet.test-fixture": name },
        HostConfig: { NetworkMode: network, CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges:true"], Memory: 128 * 1024 * 1024 },
    });
    created.container(name);
    await container.start();
    await poll(`the listener ${name} to listen`, 60_000, async () => ((await logsOf(docker, name)).includes("listening") ? true : undefined));
    return {
        container: name,
        network,
        address: await addressOn(docker, name, network),
        port: LISTENER_PORT,
        acceptedFrom: async () => [...(await logsOf(docker, name)).matchAll(/^accepted (\S+)$/gm)].map((match) => match[1]),
    };
}
