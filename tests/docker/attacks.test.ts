/**
 * The attack suite: what a hostile tenant's code could try once it has escaped n8n's sandbox (or
 * runs as a community package), tried for real from inside the tenant's own containers, as the
 * user each container's process runs as, on the private Docker daemon of `npm run test:docker`.
 *
 * Two tenants are deployed exactly as the program declares them: `mallory`, with no outbound
 * exception, and `trusted`, whose `outbound.allowIpRanges` names every target below. Each attack
 * is also run from a control container declared without the protection (root, Docker's default
 * capabilities plus CAP_DAC_READ_SEARCH, on a network no guard rule covers), so the suite shows
 * it would have caught the hole. Everything is printed as one table: attack, container, expected,
 * observed.
 *
 * The targets are the test's own: a TCP listener on this machine (the Docker host's services,
 * reached through a bridge's gateway address and through the host's own address), and a listener
 * "beyond the host" in a network namespace the test creates, with a link-local address (where
 * clouds answer metadata), a carrier-grade NAT address and a private one, each checked to be
 * unused on this machine before anything is created.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { AddressInfo, Server, createServer } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import type { Registration } from "../harness/recordingMocks";
import { RUN_DIR } from "../../fleet/containers/containerSpec";
import { Created, execIn, poll, testDaemon } from "./client";
import { Deployment, deployLogged, tarOf } from "./deploy";
import { DOCKER_TEST_TARGETS, Tenant, registrationsFor, roleOf, tenantsOf } from "./fleetUnderTest";
import { processView } from "./inspect";
import { printTable } from "./report";

const docker = testDaemon();
const created = new Created();

/** Beyond the host: a network namespace on a veth pair, with one address of each kind n8n-fleet blocks. */
const BEYOND = {
    namespace: `n8f-atk-${process.pid}`,
    hostSide: `n8fa${process.pid % 100000}h`,
    farSide: `n8fa${process.pid % 100000}f`,
    hostAddress: "169.254.77.1",
    port: 7171,
    targets: {
        "link-local (metadata)": "169.254.77.77",
        "carrier-grade NAT": "100.64.77.77",
        "private network": "10.77.77.77",
    },
} as const;

const PROBE_PATH = `${RUN_DIR}/n8n-fleet-attack-probe`;
const CONTROL = { name: "attack-control", network: "attack-control-network" };

let hostListener: Server | undefined;
let beyondListener: ChildProcess | undefined;
let probeDir: string | undefined;
let probeBinary: Buffer;
let registrations: Registration[] = [];
let deployment: Deployment = { containers: new Map(), rewrites: [] };
let deployFailure: Error | undefined;
let tenants = new Map<string, Tenant>();
const rows: string[][] = [];

function sh(command: string, args: string[]): string {
    const run = spawnSync(command, args, { encoding: "utf8" });
    if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${run.status}): ${run.stderr}`);
    return run.stdout;
}

/** This machine's own IPv4 addresses on interfaces that are not Docker's, loopback or the test's. */
function hostAddress(): string {
    for (const [name, addresses] of Object.entries(networkInterfaces())) {
        if (/^(lo|docker|br-|veth|n8f)/.test(name)) continue;
        const found = addresses?.find((a) => a.family === "IPv4" && !a.internal);
        if (found) return found.address;
    }
    throw new Error("this machine has no IPv4 address outside loopback and Docker's bridges");
}

/** Refuses to touch an address this machine already uses or routes somewhere specific. */
function assertUnused(address: string): void {
    const local = sh("ip", ["-o", "-4", "addr", "show"]);
    if (local.includes(` ${address}/`)) throw new Error(`${address} is already an address of this machine; the attack suite will not reuse it`);
    const route = sh("ip", ["-4", "route", "show", "match", address]).split("\n").filter((line) => line.trim() !== "" && !line.startsWith("default"));
    if (route.length > 0) throw new Error(`${address} is already routed on this machine (${route.join("; ")}); the attack suite will not shadow it`);
}

function startBeyondTheHost(): Promise<void> {
    for (const address of [BEYOND.hostAddress, ...Object.values(BEYOND.targets)]) assertUnused(address);
    sh("ip", ["netns", "add", BEYOND.namespace]);
    sh("ip", ["link", "add", BEYOND.hostSide, "type", "veth", "peer", "name", BEYOND.farSide]);
    sh("ip", ["link", "set", BEYOND.farSide, "netns", BEYOND.namespace]);
    sh("ip", ["addr", "add", `${BEYOND.hostAddress}/24`, "dev", BEYOND.hostSide]);
    sh("ip", ["link", "set", BEYOND.hostSide, "up"]);
    const inside = (...args: string[]) => sh("ip", ["netns", "exec", BEYOND.namespace, "ip", ...args]);
    for (const address of Object.values(BEYOND.targets)) {
        inside("addr", "add", `${address}/${address.startsWith("169.254.") ? 24 : 32}`, "dev", BEYOND.farSide);
        if (!address.startsWith("169.254.")) sh("ip", ["route", "add", `${address}/32`, "dev", BEYOND.hostSide]);
    }
    inside("link", "set", BEYOND.farSide, "up");
    inside("link", "set", "lo", "up");
    inside("route", "add", "default", "via", BEYOND.hostAddress);
    const script = `require("node:net").createServer((s) => s.destroy()).listen(${BEYOND.port}, "0.0.0.0", () => console.log("listening"));`;
    beyondListener = spawn("ip", ["netns", "exec", BEYOND.namespace, process.execPath, "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    return new Promise((resolve, reject) => {
        beyondListener?.stdout?.once("data", () => resolve());
        beyondListener?.once("exit", (code) => reject(new Error(`the listener beyond the host exited (${code})`)));
    });
}

function stopBeyondTheHost(): void {
    beyondListener?.kill("SIGKILL");
    spawnSync("ip", ["link", "del", BEYOND.hostSide]);
    spawnSync("ip", ["netns", "del", BEYOND.namespace]);
}

/** The Docker host's services: a listener on all of this machine's addresses. */
function startHostListener(): Promise<number> {
    hostListener = createServer((socket) => socket.destroy());
    return new Promise((resolve) => hostListener?.listen(0, "0.0.0.0", () => resolve((hostListener?.address() as AddressInfo).port)));
}

/** Two tenants at the default budget; `trusted` names every target in its allow list. */
function attackFleet(hostIp: string) {
    return {
        tenants: [
            { id: "mallory", port: 5831, workers: 1 },
            {
                id: "trusted",
                port: 5832,
                workers: 1,
                outbound: { allowIpRanges: [...Object.values(BEYOND.targets).map((a) => `${a}/32`), "172.16.0.0/12", "192.168.0.0/16", `${hostIp}/32`] },
            },
        ],
    };
}

/** What the probe printed: `ok ...` or `refused <ERRNO> ...`. */
interface Outcome {
    ok: boolean;
    text: string;
}

async function probe(container: string, user: string, args: string[]): Promise<Outcome> {
    const result = await execIn(docker, container, [PROBE_PATH, ...args], { user, timeoutMs: 30_000 });
    const text = (result.stdout.trim() || result.stderr.trim() || `exit ${result.exitCode}`).split("\n")[0];
    return { ok: text.startsWith("ok"), text };
}

/** The uid:gid a container's main process runs as, as the kernel reports it: the user its code runs as. */
async function processUser(container: string): Promise<string> {
    const info = await docker.getContainer(container).inspect();
    const status = readFileSync(`/proc/${info.State.Pid}/status`, "utf8");
    const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1];
    const gid = /^Gid:\s+\d+\s+(\d+)/m.exec(status)?.[1];
    return `${uid}:${gid}`;
}

/**
 * Puts the probe where the container sees it: into its run volume (mounted read-only at RUN_DIR),
 * through the volume's folder on this machine, since nothing can be written into the container
 * itself; into the control's own file system through the Engine API.
 */
async function installProbe(container: string): Promise<void> {
    const info = await docker.getContainer(container).inspect();
    if (!info.HostConfig.ReadonlyRootfs) {
        const tar = await tarOf({ path: PROBE_PATH, content: probeBinary, mode: 0o755, uid: 0, gid: 0 });
        await docker.getContainer(container).putArchive(tar, { path: "/" });
        return;
    }
    const mount = info.Mounts.find((m) => m.Destination === RUN_DIR);
    if (!mount?.Source) throw new Error(`${container} has no run volume at ${RUN_DIR} to put the probe in`);
    writeFileSync(join(mount.Source, PROBE_PATH.slice(RUN_DIR.length + 1)), probeBinary, { mode: 0o755 });
}

/** Running containers of a tenant, by role. */
function running(tenant: Tenant): { name: string; role: string }[] {
    return tenant.containers.filter((c) => !c.plan.lifecycle.attach).map((c) => ({ name: c.plan.name, role: roleOf(c) ?? "?" }));
}

function record(attack: string, container: string, expected: "refused" | "reached", observed: Outcome): string | undefined {
    rows.push([attack, container, expected, observed.text]);
    const reached = observed.ok;
    if (expected === "refused" && reached) return `${container}: ${attack} succeeded (${observed.text}); it must be refused`;
    if (expected === "reached" && !reached) return `${container}: ${attack} was refused (${observed.text}); the allow list names it`;
    return undefined;
}

/** The gateway of a network: the Docker host's address on that bridge. */
async function gatewayOf(network: string): Promise<string> {
    const info = await docker.getNetwork(network).inspect();
    const gateway = info.IPAM?.Config?.[0]?.Gateway;
    if (!gateway) throw new Error(`network ${network} has no gateway address`);
    return gateway;
}

let hostPort = 0;
let hostIp = "";

before(async () => {
    probeDir = mkdtempSync(join(tmpdir(), "n8f-probe-"));
    sh("gcc", ["-static", "-O2", "-o", join(probeDir, "probe"), join(__dirname, "attack", "probe.c")]);
    probeBinary = readFileSync(join(probeDir, "probe"));
    hostIp = hostAddress();
    hostPort = await startHostListener();
    await startBeyondTheHost();

    registrations = await registrationsFor(attackFleet(hostIp));
    ({ deployment, failure: deployFailure } = await deployLogged(docker, registrations, { created }));
    tenants = tenantsOf(registrations, deployment);

    // The control: the same n8n image, declared without the protections.
    const image = [...deployment.containers.values()].find((c) => c.plan.name === "mallory-n8n-worker-1")?.plan.create.Image;
    if (!image) throw new Error("mallory's worker was not deployed");
    await docker.createNetwork({ Name: CONTROL.network, CheckDuplicate: true, Driver: "bridge", Labels: { "n8n-fleet.test-fixture": CONTROL.name } });
    created.network(CONTROL.network);
    const control = await docker.createContainer({
        name: CONTROL.name,
        Image: String(image),
        User: "0:0",
        Entrypoint: ["sleep", "infinity"],
        Cmd: [],
        Labels: { "n8n-fleet.test-fixture": CONTROL.name },
        HostConfig: { NetworkMode: CONTROL.network, CapAdd: ["CAP_DAC_READ_SEARCH"], Memory: 128 * 1024 * 1024 },
    });
    created.container(CONTROL.name);
    await control.start();
    for (const tenant of tenants.values()) for (const { name } of running(tenant)) await installProbe(name);
    await installProbe(CONTROL.name);
});

after(async () => {
    if (rows.length > 0) printTable("Attacks from inside the tenants' containers", ["attack", "container", "expected", "observed"], rows);
    const problems = await created.removeAll(docker);
    hostListener?.close();
    stopBeyondTheHost();
    if (probeDir) rmSync(probeDir, { recursive: true, force: true });
    assert.deepEqual(problems, []);
});

describe("a hostile tenant, from inside its own containers", () => {
    test("the attack fleet deployed as declared", () => {
        assert.equal(deployFailure, undefined, deployFailure?.message);
        assert.deepEqual([...tenants.keys()].sort(), ["mallory", "trusted"]);
    });

    test("every container runs with its declared capabilities only, under seccomp, as its declared user; the control has what they lack", async () => {
        const problems: string[] = [];
        const table: string[][] = [];
        for (const tenant of tenants.values()) {
            for (const { name } of running(tenant)) {
                const info = await docker.getContainer(name).inspect();
                const view = processView(info.State.Pid);
                const user = await processUser(name);
                const status = await probe(name, user, ["status"]);
                const adds = info.HostConfig.CapAdd ?? [];
                table.push([name, info.Config.User || "(image)", user, status.text.replace(/^ok /, ""), `0x${view.boundingCapabilities.toString(16)}`, JSON.stringify(adds), String(info.HostConfig.ReadonlyRootfs)]);
                if (!(info.HostConfig.CapDrop ?? []).includes("ALL")) problems.push(`${name}: Docker does not drop ALL capabilities (${JSON.stringify(info.HostConfig.CapDrop)})`);
                if (!/Seccomp=2\b/.test(status.text)) problems.push(`${name}: not under a seccomp filter (${status.text})`);
                if (!/NoNewPrivs=1\b/.test(status.text)) problems.push(`${name}: new privileges allowed (${status.text})`);
                // A process that is not root has no effective capability, whatever the bounding set holds.
                if (!user.startsWith("0:") && !/CapEff=0+\b/.test(status.text)) problems.push(`${name}: its code runs as ${user} with capabilities (${status.text})`);
                if (user.startsWith("0:")) problems.push(`${name}: its code runs as root`);
            }
        }
        const control = await probe(CONTROL.name, "0:0", ["status"]);
        table.push([CONTROL.name, "0:0", "0:0", control.text.replace(/^ok /, ""), "", "[\"CAP_DAC_READ_SEARCH\"] (control)", "false"]);
        printTable("Each container as Docker and the kernel report it", ["container", "declared user", "process uid:gid", "probe (as that user)", "CapBnd", "CapAdd", "read-only root"], table);
        assert.ok(/CapEff=0*[1-9a-f]/.test(control.text), `the control must hold capabilities, or the checks prove nothing (${control.text})`);
        assert.deepEqual(problems, []);
    });

    test("open_by_handle_at (the \"shocker\" escape) fails with EPERM in every container; it works in the control", async () => {
        const problems: string[] = [];
        for (const tenant of tenants.values()) {
            for (const { name } of running(tenant)) {
                const outcome = await probe(name, await processUser(name), ["handle", "/etc/hostname"]);
                const problem = record("open_by_handle_at on /etc/hostname (a file of the host)", name, "refused", outcome);
                if (problem) problems.push(problem);
                else if (!outcome.text.includes("EPERM")) problems.push(`${name}: refused with ${outcome.text}, not EPERM`);
            }
        }
        const control = await probe(CONTROL.name, "0:0", ["handle", "/etc/hostname"]);
        const problem = record("open_by_handle_at on /etc/hostname (a file of the host)", `${CONTROL.name} (control)`, "reached", control);
        if (problem) problems.push(`the control could not open by handle, so the check proves nothing: ${control.text}`);
        assert.deepEqual(problems, []);
    });

    test("no process writes outside its volumes and capped tmpfs: the root file system is read-only in every container; the control's is not", async () => {
        const problems: string[] = [];
        // `/` (root's) and /var/tmp (anyone's, in every image): a read-only root refuses both, whoever asks.
        const attempts = ["/n8n-fleet-attack", "/var/tmp/n8n-fleet-attack"];
        for (const tenant of tenants.values()) {
            for (const { name } of running(tenant)) {
                const info = await docker.getContainer(name).inspect();
                if (!info.HostConfig.ReadonlyRootfs) problems.push(`${name}: Docker reports a writable root file system`);
                for (const path of attempts) {
                    const outcome = await probe(name, await processUser(name), ["write", path]);
                    const problem = record(`create ${path}`, name, "refused", outcome);
                    if (problem) problems.push(problem);
                    else if (!outcome.text.includes("EROFS")) problems.push(`${name}: ${path} refused with ${outcome.text}, not EROFS (read-only file system)`);
                }
            }
        }
        for (const path of attempts) {
            const outcome = await probe(CONTROL.name, "0:0", ["write", path]);
            if (record(`create ${path}`, `${CONTROL.name} (control)`, "reached", outcome)) problems.push(`the control could not write ${path} (${outcome.text}), so the refusals prove nothing`);
        }
        assert.deepEqual(problems, []);
    });

    test("no tenant reaches the Docker host's services, the metadata range, carrier-grade NAT or private networks, unless its allow list names them", async () => {
        const problems: string[] = [];
        const attempt = async (tenant: Tenant, container: string, expected: "refused" | "reached", what: string, address: string, port: number) => {
            const outcome = await probe(container, await processUser(container), ["connect", address, String(port)]);
            const problem = record(`TCP to ${what} ${address}:${port}`, container, expected, outcome);
            if (problem) problems.push(`${tenant.id} ${problem}`);
        };
        for (const tenant of tenants.values()) {
            const allowed = tenant.id === "trusted";
            const egress = tenant.networks.get("egress");
            const backend = tenant.networks.get("backend");
            if (!egress || !backend) throw new Error(`${tenant.id} has no egress or backend network`);
            for (const { name, role } of running(tenant)) {
                const onEgress = role === "main" || role === "worker";
                // Every container: the host through the gateway of its internal network (the allow list is the tenant's, on both of its networks).
                await attempt(tenant, name, allowed ? "reached" : "refused", "the Docker host (backend gateway)", await gatewayOf(backend), hostPort);
                if (!onEgress) continue;
                // The main and the workers reach the internet: everything else must be refused by the host guard.
                await attempt(tenant, name, allowed ? "reached" : "refused", "the Docker host (egress gateway)", await gatewayOf(egress), hostPort);
                await attempt(tenant, name, allowed ? "reached" : "refused", "the Docker host (its own address)", hostIp, hostPort);
                for (const [what, address] of Object.entries(BEYOND.targets)) await attempt(tenant, name, allowed ? "reached" : "refused", what, address, BEYOND.port);
            }
        }
        // The control, on a network no rule covers, reaches all of them: the refusals above are the guard's.
        for (const [what, address, port] of [["the Docker host (gateway)", await gatewayOf(CONTROL.network), hostPort], ["the Docker host (its own address)", hostIp, hostPort], ...Object.entries(BEYOND.targets).map(([w, a]) => [w, a, BEYOND.port])] as [string, string, number][]) {
            const outcome = await probe(CONTROL.name, "0:0", ["connect", address, String(port)]);
            if (record(`TCP to ${what} ${address}:${port}`, `${CONTROL.name} (control)`, "reached", outcome)) problems.push(`the control did not reach ${what} (${outcome.text}), so the refusals prove nothing`);
        }
        assert.deepEqual(problems, []);
    });

    test("the guard's rules are in place as the host guard declares them, and healthy", async () => {
        const guard = [...deployment.containers.values()].find((c) => roleOf(c) === "host-guard");
        assert.ok(guard, "no host guard was deployed");
        const health = await poll("the host guard to be healthy", 120_000, async () => {
            const info = await docker.getContainer(guard.plan.name).inspect();
            return info.State.Health?.Status === "healthy" ? info.State.Health.Status : undefined;
        });
        assert.equal(health, "healthy");
    });
});

