/**
 * Talking to the n8n of a deployed tenant: its editor's address on the host, its webhooks, what its
 * processes log, and n8n's CLI run the way the tenant's main runs n8n.
 */
import type Docker from "dockerode";
import type { Registration } from "../harness/recordingMocks";
import { N8nApi, callWebhookOnceRegistered as callOnceRegistered, sumWorkflow } from "../e2e/n8nApi";
import { Created, logsOf } from "./client";
import { DeployedContainer, createFromPlan, runToItsEnd } from "./deploy";
import { translateContainer } from "./engine";
import { RUN_DIR } from "../../fleet/containers/containerSpec";
import { STAGE_DIR } from "../../fleet/containers/filesWriter";

/** What n8n 2.41 and the runner launcher log at the moments the tests look for. */
export const LOG_MARKERS = {
    /** The worker's task broker accepted the runner sidecar (task-broker-ws-server.js). */
    runnerRegistered: 'Registered runner "JS Task Runner"',
    /** The launcher exchanged the auth token for a grant (tests/docker/images/runners). */
    grantObtained: "Obtained a grant token for the javascript runner",
    /** A worker ran a queued execution to its end (scaling/job-processor.js). */
    executionFinished: /Worker finished execution (\d+)/g,
    /** The CLI could not decrypt a credential (n8n-core constants, DECRYPTION_FAILED). */
    decryptionFailed: "Credentials could not be decrypted",
};

/** `http://127.0.0.1:<port>` of a main's published editor port, as Docker publishes it here. */
export function editorUrl(main: DeployedContainer): string {
    const ports: unknown = main.registration.inputs.ports;
    const port = Array.isArray(ports) ? (ports[0] as { ip?: unknown; external?: unknown } | undefined) : undefined;
    if (port === undefined || typeof port.external !== "number") throw new Error(`${main.plan.name} publishes no editor port`);
    return `http://${String(port.ip)}:${port.external}`;
}

/** A production webhook call once it is registered; a call in a container at a low CPU quota may take two minutes. */
export function callWebhookOnceRegistered(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
    return callOnceRegistered(url, body, { callTimeoutMs: 120_000 });
}

/** The owner the tests set up in every tenant, and the workflow they publish there. */
export interface TenantSetup {
    url: string;
    email: string;
    password: string;
    workflowId: string;
    /** The production URL of the published Webhook + Code workflow (tests/e2e/n8nApi.ts sumWorkflow). */
    webhook: string;
}

/** Sets up the owner of a fresh tenant and publishes the Webhook + Code workflow of the end-to-end test. */
export async function setUpTenant(main: DeployedContainer, tenantId: string, password: string): Promise<TenantSetup> {
    const url = editorUrl(main);
    const api = new N8nApi(url);
    const email = `owner@${tenantId}.example.com`;
    await api.setupOwner(email, password);
    const workflowId = await api.publishWorkflow(sumWorkflow(tenantId));
    return { url, email, password, workflowId, webhook: `${url}/webhook/sum-${tenantId}` };
}

/** Executions a worker's log says it finished, by id. */
export async function finishedExecutions(docker: Docker, worker: string): Promise<string[]> {
    return [...(await logsOf(docker, worker)).matchAll(LOG_MARKERS.executionFinished)].map((match) => match[1]);
}

interface UploadInput {
    file: string;
    content?: string;
    contentBase64?: string;
}

function envEntries(registration: Registration): string[] {
    const envs: unknown = registration.inputs.envs;
    return Array.isArray(envs) ? envs.filter((entry): entry is string => typeof entry === "string") : [];
}

function envValue(registration: Registration, name: string): string | undefined {
    const entry = envEntries(registration).find((e) => e.startsWith(`${name}=`));
    return entry?.slice(name.length + 1);
}

function uploadsOf(registration: Registration): UploadInput[] {
    const uploads: unknown = registration.inputs.uploads;
    return Array.isArray(uploads) ? (uploads as UploadInput[]) : [];
}

/**
 * The files each container sees, by Docker name: the tenant's files writer receives them all as
 * uploads under `/stage/<container>/` (fleet/containers/filesWriter.ts). The entries are the
 * writer's own upload objects, so a change to one is what the writer writes.
 */
const stagedFiles = new Map<string, UploadInput[]>();

/** Records the files every files writer of `registrations` stages, for {@link settingOf}. */
export function indexStagedFiles(registrations: readonly Registration[]): void {
    for (const registration of registrations) {
        for (const upload of uploadsOf(registration)) {
            const staged = new RegExp(`^${STAGE_DIR}/([^/]+)/[^/]+$`).exec(upload.file);
            if (!staged) continue;
            const list = stagedFiles.get(staged[1]) ?? [];
            if (!list.includes(upload)) list.push(upload);
            stagedFiles.set(staged[1], list);
        }
    }
}

/** The files `container` sees in its run volume, with the paths it sees them at. */
function filesOf(container: Registration): UploadInput[] {
    return (stagedFiles.get(String(container.inputs.name)) ?? []).map((upload) => ({ ...upload, file: `${RUN_DIR}/${upload.file.slice(upload.file.lastIndexOf("/") + 1)}` }));
}

/** The writer's own upload of `container`'s file at `path` (as the container sees it). */
function stagedUpload(container: Registration, path: string): UploadInput | undefined {
    const name = path.slice(path.lastIndexOf("/") + 1);
    return (stagedFiles.get(String(container.inputs.name)) ?? []).find((upload) => upload.file.endsWith(`/${name}`));
}

/**
 * Changes, in the files writer's declaration, the content of the file through which `container`
 * gets setting `name` (`<NAME>_FILE`): what a bug in the program that staged another value would do.
 */
export function replaceStagedSetting(container: Registration, name: string, value: string): void {
    const path = envValue(container, `${name}_FILE`);
    const upload = path === undefined ? undefined : stagedUpload(container, path);
    if (!upload) throw new Error(`${container.name} gets no ${name} through a staged file`);
    delete upload.contentBase64;
    upload.content = value;
}

/**
 * The value of an n8n setting as the container declares it: the variable itself, or the content of
 * the uploaded file its `<NAME>_FILE` variable names (n8n trims it, so does this).
 */
export function settingOf(container: Registration, name: string): string {
    const direct = envValue(container, name);
    if (direct !== undefined) return direct;
    const path = envValue(container, `${name}_FILE`);
    const file = [...uploadsOf(container), ...filesOf(container)].find((upload) => upload.file === path);
    if (path === undefined || file === undefined) throw new Error(`${container.name} declares neither ${name} nor ${name}_FILE with a file its files writer stages`);
    return (file.content ?? Buffer.from(file.contentBase64 ?? "", "base64").toString("utf8")).trim();
}

/** The container with `name` set to `value`, in whichever form it declares the setting. */
export function withSetting(container: Registration, name: string, value: string): Registration {
    settingOf(container, name);
    if (envValue(container, name) !== undefined) {
        const envs = envEntries(container).map((entry) => (entry.startsWith(`${name}=`) ? `${name}=${value}` : entry));
        return { ...container, inputs: { ...container.inputs, envs } };
    }
    // As uploads of its own: for a test fixture with a writable root, not a declared container.
    const path = envValue(container, `${name}_FILE`);
    const uploads = [...uploadsOf(container), ...filesOf(container)].map((upload) => (upload.file === path ? { ...without({ ...upload }, ["contentBase64"]), content: value } : upload));
    return { ...container, inputs: { ...container.inputs, uploads } };
}

/** Removes inputs from a registration, so the translator sees them as undeclared. */
function without(inputs: Record<string, unknown>, keys: string[]): Record<string, unknown> {
    return Object.fromEntries(Object.entries(inputs).filter(([key]) => !keys.includes(key)));
}

/**
 * Runs `n8n <args>` in a one-shot container declared like the tenant's `main` (same image, n8n
 * install, user, limits, security options, environment and files) with `settings` replacing n8n
 * settings wherever the main declares them, on the main's first (backend) network only, without
 * its data volume and editor port, and waits for it to exit.
 */
export async function runN8nCli(docker: Docker, created: Created, main: DeployedContainer, name: string, args: string[], settings: Record<string, string>): Promise<{ exitCode: number; logs: string }> {
    const withFiles: Registration = { ...main.registration, inputs: { ...main.registration.inputs, uploads: filesOf(main.registration) } };
    const configured = Object.entries(settings).reduce((registration, [key, value]) => withSetting(registration, key, value), withFiles);
    const networks = configured.inputs.networksAdvanced as { name: string }[];
    const oneShot: Registration = {
        ...configured,
        name,
        inputs: {
            // A test fixture: its files come as uploads (withSetting), so its root is writable.
            ...without(configured.inputs, ["ports", "volumes", "healthcheck", "wait", "waitTimeout", "readOnly"]),
            name,
            command: args,
            networksAdvanced: networks.slice(0, 1).map((network) => ({ name: network.name, aliases: [] })),
            restart: "no",
            start: true,
            mustRun: false,
            attach: true,
            logs: true,
            labels: [{ label: "n8n-fleet.test-fixture", value: name }],
        },
    };
    const container = await createFromPlan(docker, translateContainer(oneShot, main.image), created);
    await container.start();
    return runToItsEnd(docker, name, true);
}
