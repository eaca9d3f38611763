/**
 * The HTTPS edge in a real Docker daemon: a small fleet of its own (two tenants at the smallest
 * budget, then a change that adds a third and removes one) behind the edge of one target, with the
 * edge's internal CA. Checked from the host as a client would: every tenant at
 * https://<its host name>/ with a certificate of the configured issuer, HTTP redirected, HSTS,
 * `/metrics` and the owner setup not routed, no tenant port published, the provisioned owner signs
 * in with the generated password, the editor's push connection (a websocket) through the edge, and
 * a steady stream of webhook calls to one tenant that loses no request while the others change.
 *
 * The Pulumi Command that joins the edge to a tenant's network is run as declared (its shell
 * script, with the Docker CLI), against this test's daemon instead of the target's address.
 *
 * Run with `npm run test:docker -- tests/docker/edge.test.ts`.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { LookupFunction } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { Agent, WebSocket, fetch as undiciFetch } from "undici";
import type { Registration } from "../harness/recordingMocks";
import { PROJECT_ROOT, TYPES, runFleetInChild } from "../harness/runFleet";
import { EDGE_INTERNAL_ROOT, EDGE_NAMES } from "../../fleet/containers/edge";
import { minimumCpus, minimumMemoryMb } from "../../fleet/tenants/sizing";
import { MIB_PER_GIB } from "../../fleet/tenants/plan";
import { Created, execIn, poll, testDaemon } from "./client";
import { Deployment, deployLogged, removeContainers } from "./deploy";
import { inspectContainer, publishedPorts } from "./inspect";
import { Phases, printTable } from "./report";

const COMMAND = "command:local:Command";
/** Debian's Chromium (package chromium); never a browser download. */
const CHROMIUM = process.env.N8N_FLEET_CHROMIUM ?? "/usr/bin/chromium";
/** Where the run keeps what a person should look at: the signed-in editors' screenshots. */
const OUTPUT_DIR = join(PROJECT_ROOT, "test-results", "edge");
const HTTP_PORT = 18080;
const HTTPS_PORT = 18443;
const BASE_DOMAIN = "fleet.test";

/** One target with an edge on unprivileged ports, its internal CA, published on loopback. */
const TARGETS = {
    local: {
        dockerHost: "ssh://deploy@docker-test.invalid",
        publicHost: "localhost",
        publishAddress: "127.0.0.1",
        capacity: { cpus: 16, memoryGb: 32 },
        edge: { baseDomain: BASE_DOMAIN, httpPort: HTTP_PORT, httpsPort: HTTPS_PORT, certificates: { issuer: "internal" } },
    },
};

const SMALL = { cpus: minimumCpus(1), memoryGb: minimumMemoryMb(1) / MIB_PER_GIB };
const tenant = (id: string) => ({ id, port: 5900, resources: SMALL, owner: { email: `owner@${id}.example`, firstName: "Owner", lastName: id.toUpperCase() } });
const [A, B, C] = ["edge-a", "edge-b", "edge-c"];
const BEFORE = { tenants: [tenant(A), tenant(B)] };
const AFTER = { tenants: [tenant(A), tenant(C)] };

const docker = testDaemon();
const created = new Created();
const phases = new Phases();
let before1: Registration[] = [];
let passwords: Record<string, string> = {};
let deployment: Deployment = { containers: new Map(), rewrites: [] };
let caPem = "";
let client: Agent | undefined;

/** Every host name at 127.0.0.1, as the browser's host-resolver rules do, so that TLS sees the real name. */
const toLoopback: LookupFunction = (_host, options, callback) => {
    if (typeof options === "object" && options.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: "127.0.0.1", family: 4 }]);
    else callback(null, "127.0.0.1", 4);
};

function https(id: string, path = "/"): string {
    return `https://${id}.${BASE_DOMAIN}:${HTTPS_PORT}${path}`;
}

/** A request through the edge, trusting only the edge's internal CA, on a fresh connection. */
function request(url: string, init: Parameters<typeof undiciFetch>[1] = {}) {
    if (!client) throw new Error("internal: the edge's CA is not known yet");
    return undiciFetch(url, { redirect: "manual", signal: AbortSignal.timeout(60_000), ...init, dispatcher: client });
}

async function programFor(tenants: unknown): Promise<{ resources: Registration[]; outputs: Record<string, any> }> {
    const outcome = await runFleetInChild({ tenants, targets: TARGETS, defaultTarget: "local" });
    if (!outcome.ok) throw new Error(`the program failed for the edge test fleet: ${outcome.error}`);
    return outcome.run;
}

const isRoutes = (r: Registration) => r.type === TYPES.container && r.inputs.name === EDGE_NAMES.routes;
const commandsOf = (registrations: Registration[]) => registrations.filter((r) => r.type === COMMAND);
const withoutCommands = (registrations: Registration[]) => registrations.filter((r) => r.type !== COMMAND);
const ofTenant = (id: string) => (r: Registration) => String(r.inputs.name ?? r.name).startsWith(`${id}-`);

/** Runs a declared Command's script as Pulumi's local provider would, against this test's daemon. */
function runCommand(registration: Registration, script: "create" | "delete"): void {
    const environment = registration.inputs.environment as Record<string, string>;
    const result = spawnSync("sh", ["-c", String(registration.inputs[script])], {
        env: { PATH: process.env.PATH, ...environment, DOCKER_HOST: process.env.DOCKER_HOST },
        encoding: "utf8",
        timeout: 60_000,
    });
    assert.equal(result.status, 0, `${registration.name} ${script}: ${result.stderr}${result.stdout}`);
}

/** Deploys, failing with what went wrong. */
async function apply(registrations: Registration[], only: (r: Registration) => boolean): Promise<Deployment> {
    const { deployment: done, failure } = await deployLogged(docker, withoutCommands(registrations), { created, only });
    if (failure) throw failure;
    return done;
}

/** The routes one-shot, run to its end: the edge took the routes. */
async function loadRoutes(registrations: Registration[]): Promise<void> {
    const done = await apply(registrations, isRoutes);
    const ran = done.containers.get(EDGE_NAMES.routes)?.ran;
    assert.equal(ran?.exitCode, 0, `${EDGE_NAMES.routes} failed: ${ran?.logs}`);
}

/** Signs in as the provisioned owner through the edge; the session cookie. */
async function signIn(id: string): Promise<{ cookie: string; setCookie: string }> {
    const response = await request(https(id, "/rest/login"), {
        method: "POST",
        headers: { "content-type": "application/json", "browser-id": "n8n-fleet-edge-test" },
        body: JSON.stringify({ emailOrLdapLoginId: `owner@${id}.example`, password: passwords[id] }),
    });
    const text = await response.text();
    assert.equal(response.status, 200, `sign-in of ${id}'s owner through the edge: ${response.status} ${text.slice(0, 300)}`);
    const setCookie = response.headers.get("set-cookie") ?? "";
    return { cookie: setCookie.split(";")[0], setCookie };
}

/**
 * One session per tenant for the REST calls the checks make: n8n allows 5 sign-ins a minute per
 * e-mail (in production), so signing in before every call would fail on a fast machine.
 */
const sessions = new Map<string, Promise<{ cookie: string; setCookie: string }>>();
function session(id: string): Promise<{ cookie: string; setCookie: string }> {
    let found = sessions.get(id);
    if (found === undefined) {
        found = signIn(id);
        sessions.set(id, found);
    }
    return found;
}

async function rest(id: string, cookie: string, method: string, path: string, body?: unknown): Promise<any> {
    const response = await request(https(id, path), {
        method,
        headers: { "content-type": "application/json", "browser-id": "n8n-fleet-edge-test", cookie },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} on ${id} answered ${response.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text).data : undefined;
}

/** A Webhook trigger that answers at once (the edge is under test, not the workers). */
function pingWorkflow(id: string): Record<string, unknown> {
    return {
        name: `ping for ${id}`,
        nodes: [
            {
                id: "7a0c1f0e-0000-4000-8000-000000000001",
                name: "Webhook",
                type: "n8n-nodes-base.webhook",
                typeVersion: 2,
                position: [0, 0],
                webhookId: "7a0c1f0e-0000-4000-8000-0000000000aa",
                parameters: { httpMethod: "POST", path: `ping-${id}`, responseMode: "onReceived", options: {} },
            },
        ],
        connections: {},
        settings: { executionOrder: "v1" },
    };
}

before(async () => {
    const program = await programFor(BEFORE);
    before1 = program.resources;
    passwords = program.outputs.ownerPasswords as Record<string, string>;
    await phases.time("deploy", async () => {
        deployment = await apply(before1, (r) => !isRoutes(r));
        for (const join of commandsOf(before1)) runCommand(join, "create");
        await loadRoutes(before1);
    });
    caPem = (
        await poll("the edge's internal CA root", 60_000, async () => {
            const read = await execIn(docker, EDGE_NAMES.container, ["cat", EDGE_INTERNAL_ROOT]);
            return read.exitCode === 0 && read.stdout.includes("BEGIN CERTIFICATE") ? read : undefined;
        })
    ).stdout;
    client = new Agent({ pipelining: 0, connect: { ca: caPem, lookup: toLoopback } });
});

after(async () => {
    await client?.close();
    const problems = await phases.time("clean-up", () => created.removeAll(docker));
    phases.print("Docker edge test, time per phase");
    assert.deepEqual(problems, []);
});

describe("a target with an edge", () => {
    test("every tenant answers at https://<its host name>/ with a certificate of the edge's internal CA; HTTP redirects; HSTS", async () => {
        for (const id of [A, B]) {
            const health = await poll(`${id} through the edge`, 180_000, async () => {
                const response = await request(https(id, "/healthz")).catch(() => undefined);
                return response?.status === 200 ? response : undefined;
            });
            assert.equal(health.headers.get("strict-transport-security"), "max-age=31536000");
            const plain = await request(`http://${id}.${BASE_DOMAIN}:${HTTP_PORT}/workflows`);
            assert.equal(plain.status, 308);
            assert.match(plain.headers.get("location") ?? "", new RegExp(`^https://${id}\\.${BASE_DOMAIN.replace(".", "\\.")}(:\\d+)?/workflows$`));
        }
        // Without the CA, the certificate is not trusted: it is the edge's own, not a public one.
        const untrusted = await undiciFetch(https(A, "/healthz"), { dispatcher: new Agent({ pipelining: 0, connect: { lookup: toLoopback } }) }).then(
            () => "accepted",
            (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
        );
        assert.match(untrusted, /SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY/);
    });

    test("no tenant container publishes a port; only the edge does, and it mounts no Docker socket", async () => {
        const rows: string[][] = [];
        for (const c of deployment.containers.values()) {
            const info = await inspectContainer(docker, c.plan.name);
            const ports = publishedPorts(info).map((p) => `${p.ip}:${p.external}->${p.internal}`);
            rows.push([c.plan.name, ports.join(", ") || "none"]);
            if (c.plan.name === EDGE_NAMES.container) {
                assert.deepEqual(publishedPorts(info).map((p) => p.external).sort(), [HTTP_PORT, HTTPS_PORT]);
                assert.ok(!(info.Mounts ?? []).some((m) => String(m.Source).includes("docker.sock")), "the edge mounts the Docker socket");
            } else {
                assert.deepEqual(ports, [], `${c.plan.name} publishes ${ports.join(", ")}`);
            }
        }
        printTable("Published ports", ["container", "ports"], rows);
    });

    test("a tenant's edge network holds only its main and the edge", async () => {
        for (const id of [A, B]) {
            const network = await docker.getNetwork(`${id}-edge`).inspect();
            const members = Object.values(network.Containers ?? {}).map((c: any) => String(c.Name)).sort();
            assert.deepEqual(members, [`${id}-n8n`, EDGE_NAMES.container].sort());
            assert.equal(network.Internal, true);
        }
    });

    test("/metrics and the owner setup are not routed, and n8n itself refuses a second owner", async () => {
        for (const path of ["/metrics", "/metrics/anything"]) assert.equal((await request(https(A, path))).status, 404, path);
        const setup = await request(https(A, "/rest/owner/setup"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: "mallory@example.com", password: "Mallory-Passw0rd", firstName: "M", lastName: "M" }) });
        assert.equal(setup.status, 404);
        // Behind the edge's back, inside the main: n8n answers that the owner is already set.
        const inside = await execIn(docker, `${A}-n8n`, [
            "node",
            "-e",
            `fetch("http://127.0.0.1:5678/rest/owner/setup",{method:"POST",headers:{"content-type":"application/json"},body:JSON.stringify({email:"mallory@example.com",password:"Mallory-Passw0rd",firstName:"M",lastName:"M"})}).then(async r=>console.log(r.status, await r.text()))`,
        ]);
        assert.match(inside.stdout, /^400 .*already/i, inside.stdout + inside.stderr);
    });

    test("the provisioned owner signs in with the generated password, with a secure cookie for that host only", async () => {
        for (const id of [A, B]) {
            const { setCookie } = await signIn(id);
            assert.match(setCookie, /^n8n-auth=/);
            assert.match(setCookie, /;\s*Secure/i);
            assert.doesNotMatch(setCookie, /;\s*Domain=/i, "a Domain attribute would send the cookie to other hosts");
        }
        const wrong = await request(https(A, "/rest/login"), { method: "POST", headers: { "content-type": "application/json", "browser-id": "x" }, body: JSON.stringify({ emailOrLdapLoginId: `owner@${A}.example`, password: passwords[B] }) });
        assert.equal(wrong.status, 401, "tenant B's password opened tenant A");
    });

    test("in Debian's Chromium, trusting the edge's CA: each owner signs in, sees the workflow list, and one tenant's cookie never reaches the other's host", async () => {
        // The browser trusts the internal CA the way an operator's machine would: in its NSS database.
        const home = mkdtempSync(join(tmpdir(), "n8f-browser-"));
        const browser = await (async () => {
            const nssdb = join(home, ".pki", "nssdb");
            mkdirSync(nssdb, { recursive: true });
            writeFileSync(join(home, "edge-ca.pem"), caPem);
            for (const args of [["-N", "-d", `sql:${nssdb}`, "--empty-password"], ["-A", "-d", `sql:${nssdb}`, "-t", "C,,", "-n", "n8n-fleet edge test CA", "-i", join(home, "edge-ca.pem")]]) {
                const done = spawnSync("certutil", args, { encoding: "utf8" });
                assert.equal(done.status, 0, `certutil ${args.join(" ")}: ${done.stderr}`);
            }
            return chromium.launch({
                executablePath: CHROMIUM,
                headless: true,
                env: { ...process.env, HOME: home },
                args: [
                    `--host-resolver-rules=MAP *.${BASE_DOMAIN} 127.0.0.1`,
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            });
        })().catch((error: Error) => {
            rmSync(home, { recursive: true, force: true });
            throw error;
        });
        try {
            const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
            const page = await context.newPage();
            // Every cookie header the browser sends, by host.
            const sent: { host: string; cookie: string }[] = [];
            page.on("request", (r) => {
                void r.allHeaders().then((headers) => sent.push({ host: new URL(r.url()).hostname, cookie: headers.cookie ?? "" }));
            });
            const authCookie = async (id: string) => (await context.cookies(https(id))).find((c) => c.name === "n8n-auth");
            mkdirSync(OUTPUT_DIR, { recursive: true });
            const rows: string[][] = [];
            // A workflow of each tenant's own, for its list to show (and the other's list not to).
            for (const id of [A, B]) {
                const { cookie } = await session(id);
                await rest(id, cookie, "POST", "/rest/workflows", { name: `Hello from ${id}`, nodes: [], connections: {}, settings: { executionOrder: "v1" } });
            }
            for (const id of [A, B]) {
                // Chromium drops what is in flight when the host's interfaces change (ERR_NETWORK_CHANGED),
                // as they do whenever Docker adds a bridge or a veth; only that failure is tried again.
                for (let attempt = 1; ; attempt++) {
                try {
                    // Waits are for elements, not for "load": the editor's first load at a small CPU budget is slow.
                    const response = await page.goto(https(id, "/signin"), { waitUntil: "commit", timeout: 240_000 });
                    assert.ok(response, `no answer from ${https(id)}`);
                    const email = page.locator('[data-test-id="emailOrLdapLoginId"] input, input[type="email"]').first();
                    await email.waitFor({ state: "visible", timeout: 240_000 });
                    await email.fill(`owner@${id}.example`);
                    await page.locator('input[type="password"]').first().fill(passwords[id]);
                    await page.getByRole("button", { name: "Sign in" }).click();
                    await page.waitForURL((url) => !url.pathname.startsWith("/signin"), { waitUntil: "commit", timeout: 240_000 });
                    // n8n may land on another page first (the assistant's introduction): the workflow list itself.
                    await page.goto(https(id, "/home/workflows"), { waitUntil: "commit", timeout: 240_000 });
                    await page.locator('[data-test-id="resources-list-item-workflow"]', { hasText: `Hello from ${id}` }).first().waitFor({ state: "visible", timeout: 240_000 });
                    await page.waitForLoadState("networkidle", { timeout: 60_000 }).catch(() => undefined);
                    break;
                } catch (error) {
                    // What the browser showed when it went wrong, beside the screenshots of a passing run.
                    await page.screenshot({ path: join(OUTPUT_DIR, `${id}-failed-${attempt}.png`) }).catch(() => undefined);
                    const networkChanged = String(error).includes("ERR_NETWORK_CHANGED") || (await page.content().catch(() => "")).includes("ERR_NETWORK_CHANGED");
                    if (!networkChanged || attempt >= 3) throw error;
                    console.log(`${id}: Chromium saw the host's network change (ERR_NETWORK_CHANGED); signing in again (attempt ${attempt + 1})`);
                    // Signed out of this tenant only, so that the next attempt finds its sign-in page.
                    await context.clearCookies({ domain: `${id}.${BASE_DOMAIN}` });
                }
                }
                const file = join(OUTPUT_DIR, `${id}-signed-in.png`);
                await page.screenshot({ path: file });
                const other = id === A ? B : A;
                assert.equal(await page.getByText(`Hello from ${other}`).count(), 0, `${id}'s list shows ${other}'s workflow`);
                const cookie = await authCookie(id);
                assert.ok(cookie, `no n8n-auth cookie for ${id}`);
                assert.equal(cookie.domain, `${id}.${BASE_DOMAIN}`, "the cookie is not scoped to the tenant's host");
                assert.equal(cookie.secure, true);
                assert.equal(cookie.httpOnly, true);
                rows.push([id, new URL(page.url()).pathname, file]);
            }
            // Back to A's editor, so that A is asked with both cookies in the jar.
            for (let attempt = 1; ; attempt++) {
                try {
                    await page.goto(https(A, "/home/workflows"), { waitUntil: "commit", timeout: 240_000 });
                    await page.locator('[data-test-id="resources-list-item-workflow"]', { hasText: `Hello from ${A}` }).first().waitFor({ state: "visible", timeout: 240_000 });
                    break;
                } catch (error) {
                    const networkChanged = String(error).includes("ERR_NETWORK_CHANGED") || (await page.content().catch(() => "")).includes("ERR_NETWORK_CHANGED");
                    if (!networkChanged || attempt >= 3) throw error;
                }
            }
            const [cookieA, cookieB] = [await authCookie(A), await authCookie(B)];
            assert.ok(cookieA && cookieB);
            assert.notEqual(cookieA.value, cookieB.value);
            const leaks = sent.filter(({ host, cookie }) => (host === `${A}.${BASE_DOMAIN}` && cookie.includes(cookieB.value)) || (host === `${B}.${BASE_DOMAIN}` && cookie.includes(cookieA.value)));
            assert.deepEqual(leaks, [], "a tenant's cookie was sent to another tenant's host");
            assert.ok(sent.some(({ host, cookie }) => host === `${A}.${BASE_DOMAIN}` && cookie.includes(cookieA.value)), "A's own cookie was never sent to A: the check above proves nothing");
            printTable("Signed in through the edge in Chromium", ["tenant", "page", "screenshot"], rows);
            console.log(`Requests the browser sent: ${sent.length}, none of them with another tenant's cookie`);
            await context.close();
        } finally {
            await browser.close();
            rmSync(home, { recursive: true, force: true });
        }
    });

    test("the editor's push connection (a websocket) works through the edge", async () => {
        const { cookie } = await session(A);
        const opened = await new Promise<string>((resolve, reject) => {
            const socket = new WebSocket(https(A, "/rest/push?pushRef=edge-test").replace("https:", "wss:"), {
                dispatcher: client,
                headers: { cookie, origin: https(A, "").replace(/\/$/, ""), "browser-id": "n8n-fleet-edge-test" },
            } as any);
            const timer = setTimeout(() => reject(new Error("no websocket within 30 s")), 30_000);
            socket.addEventListener("open", () => {
                clearTimeout(timer);
                socket.close();
                resolve("open");
            });
            socket.addEventListener("error", (event) => {
                clearTimeout(timer);
                reject(new Error(`websocket error: ${String((event as { message?: string }).message ?? event.type)}`));
            });
        });
        assert.equal(opened, "open");
    });

    test("adding a tenant and removing another drops none of tenant A's webhook calls through the edge", async () => {
        const { cookie } = await session(A);
        const workflow = await rest(A, cookie, "POST", "/rest/workflows", pingWorkflow(A));
        await rest(A, cookie, "POST", `/rest/workflows/${workflow.id}/activate`, { versionId: workflow.versionId });
        const webhook = https(A, `/webhook/ping-${A}`);
        await poll("A's webhook registered", 120_000, async () => ((await request(webhook, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status === 200 ? true : undefined));
        const edgeBefore = await inspectContainer(docker, EDGE_NAMES.container);

        const failures: string[] = [];
        let ok = 0;
        let running = true;
        const stream = async () => {
            while (running) {
                const started = Date.now();
                try {
                    const response = await request(webhook, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ at: started }) });
                    await response.text();
                    if (response.status === 200) ok++;
                    else failures.push(`${new Date(started).toISOString()} HTTP ${response.status}`);
                } catch (error) {
                    failures.push(`${new Date(started).toISOString()} ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`);
                }
            }
        };
        const streams = [stream(), stream()];
        const steps: string[][] = [];
        const step = async (what: string, work: () => Promise<void>) => {
            const started = Date.now();
            const okBefore = ok;
            await work();
            steps.push([what, ((Date.now() - started) / 1000).toFixed(1), String(ok - okBefore), String(failures.length)]);
        };
        try {
            const program = await programFor(AFTER);
            const after1 = program.resources;
            passwords = { ...passwords, ...(program.outputs.ownerPasswords as Record<string, string>) };
            // In pulumi up's order: what is created or replaced first, what left the program last.
            await step(`create ${C} (networks, volumes, containers)`, async () => {
                const added = await apply(after1, ofTenant(C));
                for (const [name, c] of added.containers) deployment.containers.set(name, c);
            });
            await step(`join the edge to ${C}-edge`, async () => {
                for (const join of commandsOf(after1).filter((r) => r.name.endsWith(`-joins-${C}`))) runCommand(join, "create");
            });
            await step("replace the routes one-shot (caddy reload)", async () => {
                await docker.getContainer(EDGE_NAMES.routes).remove({ force: true });
                await loadRoutes(after1);
                // What a declaration that replaced the edge at every route change would do (N8N_FLEET_BREAK=edge-restarted: the count must fail).
                if (process.env.N8N_FLEET_BREAK === "edge-restarted") await docker.getContainer(EDGE_NAMES.container).restart({ t: 1 });
            });
            await step(`leave ${B}-edge, delete ${B}'s containers and networks`, async () => {
                for (const leave of commandsOf(before1).filter((r) => r.name.endsWith(`-joins-${B}`))) runCommand(leave, "delete");
                const gone = new Map([...deployment.containers].filter(([name]) => name.startsWith(`${B}-`)));
                await removeContainers(docker, { containers: gone, rewrites: [] });
                for (const name of gone.keys()) deployment.containers.delete(name);
                for (const network of [`${B}-backend`, `${B}-egress`, `${B}-edge`]) await docker.getNetwork(network).remove();
            });
            await step(`${C} healthy through the edge`, async () => {
                await poll(`${C} through the edge`, 180_000, async () => ((await request(https(C, "/healthz")).catch(() => undefined))?.status === 200 ? true : undefined));
            });
            // A few more calls after the last step, so that the new configuration served them too.
            const settled = ok;
            await poll("more calls after the change", 60_000, async () => (ok >= settled + 10 ? true : undefined), 200);
        } finally {
            running = false;
            await Promise.all(streams);
        }
        printTable("Tenant A's webhook through the edge while the fleet changed", ["step", "seconds", "calls answered 200 meanwhile", "failed calls so far"], steps);
        console.log(`Webhook calls to ${A} through the edge during the change: ${ok} answered 200, ${failures.length} failed${failures.length > 0 ? `:\n  ${failures.slice(0, 20).join("\n  ")}` : ""}`);
        assert.ok(ok >= 20, `only ${ok} calls were made: the stream did not run through the change`);
        assert.equal(failures.length, 0);

        // The edge is the same container, never restarted; C is served, B no longer.
        if (process.env.N8N_FLEET_BREAK === "edge-restarted") return;
        const edgeAfter = await inspectContainer(docker, EDGE_NAMES.container);
        assert.equal(edgeAfter.Id, edgeBefore.Id);
        assert.equal(edgeAfter.State.StartedAt, edgeBefore.State.StartedAt);
        assert.equal(edgeAfter.RestartCount, 0);
        const { setCookie } = await signIn(C);
        assert.match(setCookie, /^n8n-auth=/);
        const goneB = await request(https(B, "/healthz")).then(
            (r) => `HTTP ${r.status}`,
            (error: Error & { cause?: Error }) => error.cause?.message ?? error.message,
        );
        assert.notEqual(goneB, "HTTP 200", `${B} is still served after its removal`);
    });
});
