#!/usr/local/bin/node
// @ts-check
/**
 * Stand-in for n8n's task-runner-launcher (a Go program in the official n8nio/runners image) for the
 * n8n-fleet Docker test. Same inputs as the real one: N8N_RUNNERS_AUTH_TOKEN,
 * N8N_RUNNERS_TASK_BROKER_URI, N8N_RUNNERS_LAUNCHER_HEALTH_CHECK_PORT, the runner types as
 * arguments, and the runner definitions in /etc/n8n-task-runners.json (N8N_RUNNERS_CONFIG_PATH).
 *
 * One difference on purpose: the real launcher registers with the broker itself and starts a runner
 * only when a task is waiting; this one starts each runner as soon as it holds a grant token, and
 * starts it again (with a fresh token) whenever it exits.
 */
"use strict";

const { spawn } = require("node:child_process");
const { accessSync, constants, readFileSync } = require("node:fs");
const { createServer } = require("node:http");

const DEFAULT_CONFIG_PATH = "/etc/n8n-task-runners.json";
const DEFAULT_HEALTH_PORT = "5680";
const DEFAULT_RUNNER_HEALTH_PORT = "5681";
// The broker answers the token exchange and its health endpoint under this path and at its root.
const AUTH_PATH = "/runners/auth";
const BROKER_POLL_MS = 2_000;
const STILL_WAITING_LOG_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;
// A runner that exits sooner than this after its start counts as a failed start (backoff applies).
const HEALTHY_RUN_MS = 10_000;

/**
 * @typedef {object} RunnerDefinition
 * @property {string} type
 * @property {string} workdir
 * @property {string} command
 * @property {string[]} args
 * @property {string} healthPort
 * @property {string[]} allowedEnv
 * @property {Record<string, string>} envOverrides
 */

/** @param {string} message */
function log(message) {
    process.stdout.write(`${new Date().toISOString()} [task-runner-launcher] ${message}\n`);
}

/** @param {string[]} problems */
function exitWithProblems(problems) {
    for (const problem of problems) process.stderr.write(`task-runner-launcher: ${problem}\n`);
    process.exit(1);
}

/** @param {unknown} value @returns {value is string[]} */
function isStringArray(value) {
    return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** @param {unknown} value @returns {value is Record<string, string>} */
function isStringRecord(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((item) => typeof item === "string");
}

/**
 * The definitions of the requested runner types, or the reasons they cannot be used.
 * @param {string} path
 * @param {string[]} types
 * @returns {{ runners: RunnerDefinition[], problems: string[] }}
 */
function readRunnerDefinitions(path, types) {
    /** @type {unknown} */
    let parsed;
    try {
        parsed = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
        return { runners: [], problems: [`cannot read the runner config ${path}: ${messageOf(error)}`] };
    }
    const entries = typeof parsed === "object" && parsed !== null && "task-runners" in parsed ? parsed["task-runners"] : undefined;
    if (!Array.isArray(entries) || entries.length === 0) {
        return { runners: [], problems: [`${path} lists no "task-runners"`] };
    }
    /** @type {RunnerDefinition[]} */
    const runners = [];
    const problems = [];
    for (const type of types) {
        /** @type {Record<string, unknown> | undefined} */
        const entry = entries.find((candidate) => typeof candidate === "object" && candidate !== null && candidate["runner-type"] === type);
        if (!entry) {
            const known = entries.map((candidate) => candidate?.["runner-type"]).join(", ");
            problems.push(`${path} has no runner of type "${type}" (it has: ${known})`);
            continue;
        }
        const { workdir, command, args } = entry;
        const healthPort = entry["health-check-server-port"] ?? DEFAULT_RUNNER_HEALTH_PORT;
        const allowedEnv = entry["allowed-env"] ?? [];
        const envOverrides = entry["env-overrides"] ?? {};
        if (typeof workdir !== "string" || typeof command !== "string" || !isStringArray(args) || typeof healthPort !== "string" || !isStringArray(allowedEnv) || !isStringRecord(envOverrides)) {
            problems.push(`the "${type}" runner in ${path} needs string "workdir" and "command", string arrays "args" and "allowed-env", a string "health-check-server-port" and string values in "env-overrides"`);
            continue;
        }
        runners.push({ type, workdir, command, args, healthPort, allowedEnv, envOverrides });
    }
    return { runners, problems };
}

/**
 * The runner's program and script must exist: in this stand-in they come from the mounted n8n
 * install, and a missing mount should say so rather than fail later in a restart loop.
 * @param {RunnerDefinition} runner
 * @returns {string[]}
 */
function missingFiles(runner) {
    const paths = [runner.command, ...runner.args.filter((arg) => arg.startsWith("/"))];
    const problems = [];
    for (const path of paths) {
        try {
            accessSync(path, constants.R_OK);
        } catch {
            problems.push(
                `the "${runner.type}" runner needs ${path}, which does not exist: mount the n8n install read-only at /usr/local/lib/node_modules (n8nInstallMounts in tests/docker/images/build.ts)`,
            );
        }
    }
    return problems;
}

/** @param {unknown} error */
function messageOf(error) {
    if (error instanceof Error) {
        const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
        return `${error.message}${cause}`;
    }
    return String(error);
}

/** @type {AbortController} */
const shutdown = new AbortController();

/**
 * Resolves after `ms`, or early once shutdown starts.
 * @param {number} ms
 */
function sleep(ms) {
    return new Promise((resolve) => {
        const wake = () => {
            clearTimeout(timer);
            shutdown.signal.removeEventListener("abort", wake);
            resolve(undefined);
        };
        const timer = setTimeout(wake, ms);
        shutdown.signal.addEventListener("abort", wake, { once: true });
    });
}

/** @param {number} failures */
function backoffMs(failures) {
    return Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** Math.max(0, failures - 1));
}

/**
 * Polls the broker's health endpoint until it answers 200; the broker comes up only once its n8n
 * process has started, which can take minutes on a first migration.
 * @param {string} brokerUri
 */
async function waitForBroker(brokerUri) {
    const startedAt = Date.now();
    let lastReport = startedAt;
    let lastProblem = "";
    let reported = false;
    while (!shutdown.signal.aborted) {
        try {
            const response = await fetch(`${brokerUri}/healthz`, { signal: AbortSignal.any([AbortSignal.timeout(5_000), shutdown.signal]) });
            if (response.ok) {
                if (reported) log(`Task broker at ${brokerUri} is ready`);
                return;
            }
            lastProblem = `HTTP ${response.status}`;
        } catch (error) {
            lastProblem = messageOf(error);
        }
        if (!reported) {
            log(`Waiting for the task broker at ${brokerUri} to answer (${lastProblem})`);
            reported = true;
        } else if (Date.now() - lastReport >= STILL_WAITING_LOG_MS) {
            log(`Still waiting for the task broker at ${brokerUri} after ${Math.round((Date.now() - startedAt) / 1000)} s (${lastProblem})`);
            lastReport = Date.now();
        }
        await sleep(BROKER_POLL_MS);
    }
}

/**
 * Exchanges the auth token for a single-use grant token.
 * @param {string} brokerUri
 * @param {string} authToken
 * @returns {Promise<{ grantToken: string } | { refusal: string }>}
 */
async function fetchGrantToken(brokerUri, authToken) {
    let response;
    try {
        response = await fetch(`${brokerUri}${AUTH_PATH}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ token: authToken }),
            signal: AbortSignal.any([AbortSignal.timeout(10_000), shutdown.signal]),
        });
    } catch (error) {
        return { refusal: `the request failed (${messageOf(error)})` };
    }
    const body = await response.text().catch(() => "");
    if (!response.ok) {
        return { refusal: `the task broker refused the auth token with HTTP ${response.status}${body ? `: ${body.slice(0, 200)}` : ""}` };
    }
    try {
        const token = JSON.parse(body)?.data?.token;
        if (typeof token === "string" && token !== "") return { grantToken: token };
    } catch {
        // reported below
    }
    return { refusal: `the task broker answered HTTP ${response.status} without a grant token: ${body.slice(0, 200)}` };
}

/**
 * The runner's environment: what the config allows through from ours, its overrides, and what the
 * launcher always decides itself.
 * @param {RunnerDefinition} runner
 * @param {string} brokerUri
 * @param {string} grantToken
 * @returns {NodeJS.ProcessEnv}
 */
function runnerEnvironment(runner, brokerUri, grantToken) {
    /** @type {NodeJS.ProcessEnv} */
    const env = {};
    for (const name of runner.allowedEnv) {
        const value = process.env[name];
        if (value !== undefined) env[name] = value;
    }
    return {
        ...env,
        ...runner.envOverrides,
        N8N_RUNNERS_TASK_BROKER_URI: brokerUri,
        N8N_RUNNERS_GRANT_TOKEN: grantToken,
        N8N_RUNNERS_HEALTH_CHECK_SERVER_ENABLED: "true",
        N8N_RUNNERS_HEALTH_CHECK_SERVER_PORT: runner.healthPort,
    };
}

/** @type {Set<import("node:child_process").ChildProcess>} */
const children = new Set();

/**
 * Keeps one runner of a type running until shutdown: broker ready, grant token, start, and again
 * after every exit.
 * @param {RunnerDefinition} runner
 * @param {string} brokerUri
 * @param {string} authToken
 */
async function superviseRunner(runner, brokerUri, authToken) {
    let failures = 0;
    while (!shutdown.signal.aborted) {
        await waitForBroker(brokerUri);
        if (shutdown.signal.aborted) return;

        const grant = await fetchGrantToken(brokerUri, authToken);
        if (shutdown.signal.aborted) return;
        if ("refusal" in grant) {
            failures++;
            const waitMs = backoffMs(failures);
            log(`No grant token for the ${runner.type} runner from ${brokerUri}${AUTH_PATH}: ${grant.refusal}; trying again in ${waitMs / 1000} s`);
            await sleep(waitMs);
            continue;
        }
        log(`Obtained a grant token for the ${runner.type} runner from the task broker at ${brokerUri}`);

        const startedAt = Date.now();
        const child = spawn(runner.command, runner.args, {
            cwd: runner.workdir,
            env: runnerEnvironment(runner, brokerUri, grant.grantToken),
            stdio: ["ignore", "inherit", "inherit"],
        });
        children.add(child);
        const ended = new Promise((resolve) => {
            child.once("error", (error) => resolve(`could not be started: ${messageOf(error)}`));
            child.once("exit", (code, signal) => resolve(signal ? `was ended by ${signal}` : `exited with code ${code}`));
        });
        if (child.pid !== undefined) {
            log(`Started the ${runner.type} runner (pid ${child.pid}): ${runner.command} ${runner.args.join(" ")}`);
        }
        const how = await ended;
        children.delete(child);
        if (shutdown.signal.aborted) return;

        if (Date.now() - startedAt < HEALTHY_RUN_MS) {
            failures++;
        } else {
            failures = 0;
        }
        const waitMs = failures > 0 ? backoffMs(failures) : 0;
        log(`The ${runner.type} runner ${how}; starting it again with a fresh grant token${waitMs ? ` in ${waitMs / 1000} s` : ""}`);
        await sleep(waitMs);
    }
}

/**
 * Answers `GET /healthz` on all interfaces from the start, also while the broker is unreachable.
 * @param {number} port
 */
function startHealthServer(port) {
    const server = createServer((request, response) => {
        const path = (request.url ?? "").split("?")[0];
        if (path !== "/healthz") {
            response.writeHead(404).end();
            return;
        }
        if (request.method !== "GET") {
            response.writeHead(405).end();
            return;
        }
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "ok" }));
    });
    server.on("error", (error) => exitWithProblems([`the health server cannot listen on 0.0.0.0:${port}: ${messageOf(error)}`]));
    server.listen(port, "0.0.0.0", () => log(`Health check server listening on 0.0.0.0:${port}/healthz`));
    return server;
}

/**
 * Forwards SIGTERM to the runners, gives them their graceful shutdown period, then kills what is left.
 * @param {string} reason
 * @param {import("node:http").Server} server
 * @param {number} exitCode
 */
async function stopEverything(reason, server, exitCode) {
    if (shutdown.signal.aborted) return;
    log(`${reason}; stopping ${children.size} runner(s)`);
    shutdown.abort();
    server.close();
    const runnerGraceS = Number(process.env.N8N_RUNNERS_GRACEFUL_SHUTDOWN_TIMEOUT) || 30;
    const graceMs = (Number(process.env.N8N_RUNNERS_LAUNCHER_GRACEFUL_SHUTDOWN_TIMEOUT) || runnerGraceS + 20) * 1000;
    const exits = [...children].map((child) => new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
        child.once("exit", resolve);
        child.kill("SIGTERM");
    }));
    const timer = setTimeout(() => {
        for (const child of children) child.kill("SIGKILL");
    }, graceMs);
    await Promise.all(exits);
    clearTimeout(timer);
    log("Stopped");
    process.exit(exitCode);
}

/**
 * A setting as the real launcher looks it up (1.4.0 and later, internal/config/lookuper.go): the
 * content of the file `<NAME>_FILE` names, trailing CR/LF trimmed, before `<NAME>` itself; a file
 * that cannot be read leaves the setting unset.
 */
function setting(name) {
    const file = process.env[`${name}_FILE`];
    if (file !== undefined) {
        try {
            return readFileSync(file, "utf8").replace(/[\r\n]+$/, "");
        } catch {
            return undefined;
        }
    }
    return process.env[name];
}

function main() {
    const types = process.argv.slice(2);
    const authToken = setting("N8N_RUNNERS_AUTH_TOKEN") ?? "";
    const brokerUri = (process.env.N8N_RUNNERS_TASK_BROKER_URI ?? "").replace(/\/+$/, "");
    const healthPortText = process.env.N8N_RUNNERS_LAUNCHER_HEALTH_CHECK_PORT || DEFAULT_HEALTH_PORT;
    const configPath = process.env.N8N_RUNNERS_CONFIG_PATH || DEFAULT_CONFIG_PATH;

    const problems = [];
    if (authToken === "") {
        problems.push("N8N_RUNNERS_AUTH_TOKEN is not set (nor a readable N8N_RUNNERS_AUTH_TOKEN_FILE): give it the same value as N8N_RUNNERS_AUTH_TOKEN of the n8n process whose broker this launcher joins");
    }
    if (brokerUri === "") {
        problems.push("N8N_RUNNERS_TASK_BROKER_URI is not set: give it the broker's address, for example http://n8n-worker:5679");
    } else if (!/^https?:\/\/[^/]/.test(brokerUri) || !URL.canParse(brokerUri)) {
        problems.push(`N8N_RUNNERS_TASK_BROKER_URI must be an http(s) URL with a host, for example http://n8n-worker:5679 (got "${brokerUri}")`);
    }
    const healthPort = Number(healthPortText);
    if (!Number.isInteger(healthPort) || healthPort <= 0 || healthPort >= 65536) {
        problems.push(`N8N_RUNNERS_LAUNCHER_HEALTH_CHECK_PORT must be a port number (got "${healthPortText}")`);
    }
    if (types.length === 0) {
        problems.push('no runner type given: the container command names the runner types to launch, for example "javascript"');
    }
    const { runners, problems: configProblems } = readRunnerDefinitions(configPath, types);
    problems.push(...configProblems, ...runners.flatMap(missingFiles));
    if (problems.length > 0) exitWithProblems(problems);

    log(`n8n-fleet stand-in launcher (not n8n's Go launcher): runners ${types.join(", ")}, task broker ${brokerUri}`);
    const server = startHealthServer(healthPort);
    for (const name of /** @type {NodeJS.Signals[]} */ (["SIGTERM", "SIGINT"])) {
        process.on(name, () => void stopEverything(`Received ${name}`, server, 0));
    }
    for (const runner of runners) {
        superviseRunner(runner, brokerUri, authToken).catch((error) => {
            void stopEverything(`The ${runner.type} runner's supervisor failed: ${messageOf(error)}`, server, 1);
        });
    }
}

main();
