/**
 * Runs the whole program (index.ts) under the SDK's mock monitor for a given tenants file and
 * stack config, and returns every registration request and the stack outputs.
 */
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Registration, installRecordingMocks } from "./recordingMocks";
import { writeTempFile } from "./tempFiles";

export const PROJECT_ROOT = resolve(__dirname, "..", "..");

/** Two hosts, so tests can place tenants on either. */
export const TEST_TARGETS = {
    "eu-1": { dockerHost: "ssh://deploy@eu-1.example.com", publicHost: "eu-1.example.com", acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32 } },
    "us-1": { dockerHost: "ssh://deploy@us-1.example.com", publicHost: "us-1.example.com", acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32 } },
};

export interface FleetRun {
    resources: Registration[];
    /** The program's exports, secrets revealed. */
    outputs: Record<string, any>;
    /** The stack outputs as sent to the engine, secrets still wrapped. */
    rawOutputs: Record<string, unknown>;
    /** In a child run, the @pulumi packages the program loaded, such as `aws` or `docker`. */
    loadedPulumiPackages?: string[];
    /** Registrations of one type, such as `docker:index/container:Container`. */
    ofType(type: string): Registration[];
    /** The registration with this resource name; throws when there is none. */
    named(name: string): Registration;
}

export interface FleetRunOptions {
    tenants: unknown;
    targets?: unknown;
    defaultTarget?: string;
    /** More stack config, `namespace:key` -> value as Pulumi holds it. */
    config?: Record<string, string>;
    stack?: string;
    /** Receives the live list of registrations before the program starts. */
    onRecording?: (resources: Registration[]) => void;
    /** The exit status the provider records for a one-shot container, by container name (none: it records none). */
    exitCodes?: Record<string, number>;
}

/** Writes a tenants file to this process's temporary folder and returns its path. */
export function writeTenantsFile(tenants: unknown): string {
    return writeTempFile("tenants.json", typeof tenants === "string" ? tenants : JSON.stringify(tenants, null, 2));
}

function stackConfig(options: FleetRunOptions): Record<string, string> {
    const config: Record<string, string> = {
        "n8n-fleet:tenantsFile": writeTenantsFile(options.tenants),
        "n8n-fleet:targets": JSON.stringify(options.targets ?? TEST_TARGETS),
    };
    if (options.defaultTarget !== undefined) config["n8n-fleet:defaultTarget"] = options.defaultTarget;
    return { ...config, ...options.config };
}

interface RunRecord {
    resources: Registration[];
    outputs: Record<string, any>;
    rawOutputs: Record<string, unknown>;
    loadedPulumiPackages?: string[];
}

function withLookups(record: RunRecord): FleetRun {
    indexFiles(record.resources);
    const { resources } = record;
    return {
        ...record,
        ofType: (type) => resources.filter((r) => r.type === type),
        named: (name) => {
            const found = resources.find((r) => r.name === name);
            if (!found) throw new Error(`no resource named ${name}; registered: ${resources.map((r) => r.name).join(", ")}`);
            return found;
        },
    };
}

/**
 * Loads the program in this process, as `pulumi up` would, and waits until every registration is
 * done. The SDK's runtime is process-wide: call it once per process (see {@link runFleetInChild}).
 */
export async function runFleet(options: FleetRunOptions): Promise<FleetRun> {
    const recording = installRecordingMocks({ stack: options.stack ?? "test", exitCodes: options.exitCodes });
    options.onRecording?.(recording.resources);
    pulumi.runtime.setAllConfig(stackConfig({ defaultTarget: "eu-1", ...options }));
    const exported = await pulumi.runtime.runInPulumiStack(async () => require(join(PROJECT_ROOT, "index.ts")));
    await pulumi.runtime.disconnect();
    return withLookups({ resources: recording.resources, outputs: await resolveOutputs(exported ?? {}), rawOutputs: recording.stackOutputs.raw ?? {} });
}

/** What a run in a child process reports: its registrations, or the error that stopped it. */
export type ChildOutcome = { ok: true; run: FleetRun } | { ok: false; error: string; isRunError: boolean; resources: Registration[] };

/** {@link runFleet} in a fresh process, so one test file can compare several runs. */
export function runFleetInChild(options: FleetRunOptions): Promise<ChildOutcome> {
    return new Promise((resolvePromise, reject) => {
        execFile(
            process.execPath,
            ["--require", "ts-node/register", join(__dirname, "fleetChild.ts"), JSON.stringify(options)],
            { cwd: PROJECT_ROOT, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" }, maxBuffer: 64 * 1024 * 1024 },
            (error, stdout, stderr) => {
                // A failed program leaves SDK promises pending, and the SDK then sets a non-zero exit code.
                let outcome;
                try {
                    outcome = JSON.parse(stdout);
                } catch {
                    return reject(new Error(`fleet child failed: ${error?.message ?? "its report is not JSON"}\n${stderr}\n${stdout.slice(0, 500)}`));
                }
                resolvePromise(outcome.ok ? { ok: true, run: withLookups(outcome.run) } : outcome);
            },
        );
    });
}

function resolveOutputs(value: pulumi.Inputs): Promise<Record<string, any>> {
    return new Promise((done) => pulumi.output(value).apply((resolved) => done(resolved)));
}

export const TYPES = {
    container: "docker:index/container:Container",
    network: "docker:index/network:Network",
    volume: "docker:index/volume:Volume",
    image: "docker:index/remoteImage:RemoteImage",
    password: "random:index/randomPassword:RandomPassword",
    clientInstance: "n8n-fleet:index:ClientInstance",
    dockerHost: "n8n-fleet:index:DockerHost",
    dockerProvider: "pulumi:providers:docker",
} as const;

/** `["A=1", "B=2"]` -> `{ A: "1", B: "2" }` */
export function envOf(container: Registration): Record<string, string> {
    return Object.fromEntries((container.inputs.envs as string[]).map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
}

/** What `pulumi stack export` would hold after `pulumi up` of this run: URN, type, parent and protect of each resource. */
export function stackExportOf(run: FleetRun): { version: number; deployment: { resources: Record<string, unknown>[] } } {
    return {
        version: 3,
        deployment: {
            resources: run.resources.map((r) => ({ urn: r.urn, custom: r.custom, type: r.type, ...(r.parent ? { parent: r.parent } : {}), ...(r.protect ? { protect: true } : {}) })),
        },
    };
}

/** A file a container gets, as the Docker provider's `uploads` declare it. */
export interface FileUpload {
    file: string;
    content?: string;
    contentBase64?: string;
    permissions?: string;
    owner?: string;
    group?: string;
}

/** The files each container sees (its files writer stages them), by registration. */
const stagedFor = new WeakMap<Registration, FileUpload[]>();

/**
 * Indexes, for every container of `resources`, the files its tenant's files writer stages for it
 * (`/stage/<container>/<file>`, fleet/containers/filesWriter.ts), at each path the container sees
 * them: every folder where it mounts its run volume.
 */
function indexFiles(resources: readonly Registration[]): void {
    const staged = new Map<string, FileUpload[]>();
    for (const r of resources) {
        for (const upload of (r.inputs.uploads ?? []) as FileUpload[]) {
            const match = /^\/stage\/([^/]+)\/([^/]+)$/.exec(upload.file);
            if (match) staged.set(match[1], [...(staged.get(match[1]) ?? []), upload]);
        }
    }
    for (const r of resources) {
        const files = staged.get(String(r.inputs.name));
        if (!files) continue;
        const mounts = ((r.inputs.volumes ?? []) as { volumeName?: string; containerPath: string }[]).filter((v) => v.volumeName === `${r.inputs.name}-run`).map((v) => v.containerPath);
        stagedFor.set(r, mounts.flatMap((dir) => files.map((upload) => ({ ...upload, file: `${dir}/${upload.file.slice(upload.file.lastIndexOf("/") + 1)}` }))));
    }
}

/** Gives `copy` (a rewritten copy of `original`) the files `original` sees. */
export function carryFiles(original: Registration, copy: Registration): void {
    const files = stagedFor.get(original);
    if (files) stagedFor.set(copy, files);
}

/** The files `container` sees: its own uploads (the files writer's), or what its files writer stages for it. */
export function filesOf(container: Registration): FileUpload[] {
    return [...((container.inputs.uploads ?? []) as FileUpload[]), ...(stagedFor.get(container) ?? [])];
}

/** The content of a file the container sees, by its path. */
export function uploadOf(container: Registration, path: string): string | undefined {
    return filesOf(container).find((u) => u.file === path)?.content;
}

/**
 * The environment as the container's process sees it once it has read its secret files:
 * `NAME_FILE=/run/n8n-fleet/x` becomes `NAME=<the file's content>`, as n8n and the postgres image read them.
 */
export function processEnvOf(container: Registration): Record<string, string> {
    const env = envOf(container);
    for (const [name, value] of Object.entries(env)) {
        const content = name.endsWith("_FILE") ? uploadOf(container, value) : undefined;
        if (content === undefined) continue;
        delete env[name];
        env[name.slice(0, -"_FILE".length)] = content;
    }
    return env;
}
