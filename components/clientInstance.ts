import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import type { TenantPlan } from "../fleet/tenants/plan";
import { createHash } from "node:crypto";
import { tenantCgroupParent } from "../fleet/containers/envelopes";
import { ContainerSpec, TenantNetwork, TenantRuntime, TenantSecrets, TenantVolume, envList, fileDirs, tmpfsOptions } from "../fleet/containers/containerSpec";
import { OUT_DIR } from "../fleet/containers/filesWriter";
import { SERVICE_HOSTS } from "../fleet/tenants/names";
import { tenantContainers } from "../fleet/containers/tenantContainers";
import { LABELS, containerLabels, volumeLabels, networkLabels, runVolumeLabels } from "../fleet/containers/labels";
import type { DockerHost } from "./dockerHost";
import { loadRdsDatabase } from "./rdsLoader";

/** The network driver option that names a bridge network's Linux bridge. */
export const BRIDGE_NAME_OPTION = "com.docker.network.bridge.name";

/** An empty list as no list at all: the provider stores an unset block, and `[]` would differ from it. */
function absentIfEmpty<T>(list: T[]): T[] | undefined {
    return list.length > 0 ? list : undefined;
}

/** Arguments of {@link ClientInstance}. */
export interface ClientInstanceArgs {
    /** The tenant's resolved plan: every name, image, limit and setting is already decided. */
    plan: TenantPlan;
    /** The Docker host the tenant runs on; its images are shared by all tenants there. */
    host: DockerHost;
    /** Label value that names the fleet, such as `n8n-fleet/dev`. */
    fleet: string;
    /** The AWS provider of the target's region; required when the tenant's database is RDS. */
    awsProvider?: pulumi.ProviderResource;
}

function fail(message: string): never {
    throw new Error(message);
}

/** Why `pulumi up` stopped at a one-shot, where to read its output, and how to run it again. */
function oneShotFailure(name: string, means: string, exitCode: number, dockerHost: string, urn: string): string {
    return [
        `${name} exited with status ${exitCode}: ${means}.`,
        `Why: its output above, or \`docker logs ${name}\` on ${dockerHost}.`,
        `Fix the cause, then run it again with \`npm run pulumi -- up --replace '${urn}'\` (a plain \`pulumi up\` stops here again: the provider keeps the exit status).`,
    ].join(" ");
}

/** Container names of a tenant, as stack outputs. */
export interface TenantContainers {
    /** Absent for an RDS tenant, and for an archived one. */
    postgres?: string;
    redis?: string;
    main?: string;
    workers: string[];
    runners: string[];
}

/**
 * One client's fully isolated n8n: its own networks, PostgreSQL, Redis, n8n main, queue workers with
 * task runners, volumes and secrets. Resource name: the tenant id.
 *
 * Secrets and volumes are protected and depend on nothing that tenants.json may change, so edits
 * never replace them; containers are always replaceable, so upgrades work.
 */
export class ClientInstance extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    public readonly port: pulumi.Output<number>;
    public readonly target: pulumi.Output<string>;
    public readonly containers: pulumi.Output<TenantContainers>;
    /** Secret; export it for escrow: without it the tenant's stored credentials are lost. */
    public readonly encryptionKey: pulumi.Output<string>;
    /** Secret; the owner's generated password, when tenants.json names an owner. */
    public readonly ownerPassword: pulumi.Output<string> | undefined;
    /** Behind an edge: the tenant's edge network and its main, which the edge joins and routes to. */
    public readonly edgeNetwork: docker.Network | undefined;
    public readonly main: docker.Container | undefined;

    constructor(name: string, args: ClientInstanceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("n8n-fleet:index:ClientInstance", name, {}, { ...opts, providers: [args.host.provider] });
        const { plan } = args;
        const names = plan.names;
        const child: pulumi.CustomResourceOptions = { parent: this };
        const archived = plan.status === "archived";
        // Data and keys survive every edit of tenants.json; removing the tenant fails instead of deleting them.
        // Once archived, a tenant may leave the file: its data then stays on the host, no longer managed.
        const keep: pulumi.CustomResourceOptions = archived ? { parent: this, retainOnDelete: true } : { parent: this, protect: true };
        // Marked secret here rather than relying on the provider, so every value derived from them is too.
        const secret = (suffix: string, length: number) =>
            pulumi.secret(new random.RandomPassword(`${name}-${suffix}`, { length, special: false }, keep).result);
        const encryptionKey = secret("encryption-key", 48);
        // The owner's password, generated once; n8n gets only its bcrypt hash (as a file).
        const ownerPassword = plan.owner !== undefined ? new random.RandomPassword(`${name}-owner-password`, { length: 24, special: false }, keep) : undefined;
        const rds = plan.database.kind === "rds";
        const secrets: pulumi.Output<TenantSecrets> = pulumi.output({
            // The PostgreSQL superuser, or RDS's master user: creates n8n's role, never given to n8n.
            postgresPassword: secret(rds ? "rds-master-password" : "postgres-password", 32),
            databasePassword: secret("database-password", 32),
            redisPassword: secret("redis-password", 32),
            encryptionKey,
            runnerToken: secret("runner-token", 48),
            ownerPasswordHash: ownerPassword ? pulumi.secret(ownerPassword.bcryptHash) : "",
        });

        // An archived tenant keeps only the internal network, where its final backup ran.
        // Each on a bridge of a fixed name, which the host guard's rules name (fleet/containers/hostGuard.ts).
        // Fixed names: the old network must go (with its containers) before its replacement is created.
        const network = (role: TenantNetwork, internal: boolean) =>
            new docker.Network(
                names.networks[role],
                { name: names.networks[role], internal, options: { [BRIDGE_NAME_OPTION]: names.bridges[role] }, labels: networkLabels(plan, args.fleet, role) },
                { ...child, deleteBeforeReplace: true },
            );
        const networks: Partial<Record<TenantNetwork, docker.Network>> = {
            backend: network("backend", true),
            egress: archived ? undefined : network("egress", false),
            // Behind an edge: the main and the edge only, with no route out.
            edge: archived || plan.domain === undefined ? undefined : network("edge", true),
        };
        const networkName = (role: TenantNetwork) => {
            const found = networks[role];
            if (!found) throw new Error(`internal: a container of ${name} joins the ${role} network, which it does not have`);
            return found.name;
        };

        const volume = (volumeName: string, role: TenantVolume) => new docker.Volume(volumeName, { name: volumeName, labels: volumeLabels(plan, role) }, keep);
        const volumes: Partial<Record<TenantVolume, docker.Volume>> = {
            // An RDS tenant keeps its data in RDS: no PostgreSQL volume on the host.
            postgres: rds ? undefined : volume(names.volumes.postgres, "postgres"),
            redis: volume(names.volumes.redis, "redis"),
            n8n: volume(names.volumes.n8n, "n8n"),
            // The folder workflows read and write files in (n8n's N8N_RESTRICT_FILE_ACCESS_TO).
            files: volume(names.volumes.files, "files"),
            // An RDS tenant's sets hold its n8n files; RDS keeps the database's backups.
            backups: volume(names.volumes.backups, "backups"),
        };
        const volumeName = (role: TenantVolume) => {
            const found = volumes[role];
            if (!found) throw new Error(`internal: a container of ${name} mounts the ${role} volume, which it does not have`);
            return found.name;
        };

        let databaseHost: pulumi.Input<string> = SERVICE_HOSTS.postgres;
        if (plan.database.kind === "rds") {
            if (!args.awsProvider) throw new Error(`internal: RDS tenant ${name} was given no AWS provider`);
            const { RdsDatabase } = loadRdsDatabase();
            const database = new RdsDatabase(`${name}-rds`, { plan, database: plan.database, masterPassword: secrets.postgresPassword, fleet: args.fleet }, { parent: this, provider: args.awsProvider });
            databaseHost = database.address;
        }
        const runtime: pulumi.Output<TenantRuntime> = pulumi.all([secrets, databaseHost]).apply(([s, host]) => ({ ...s, databaseHost: host }));

        const tenantRuns = plan.status === "active";
        // Each container's files (secrets, scripts), on a volume of its own that it mounts read-only.
        const runVolumes = new Map<string, docker.Volume>();
        const runVolume = (containerName: string) => {
            const volumeName = names.runVolume(containerName);
            let found = runVolumes.get(volumeName);
            if (!found) {
                found = new docker.Volume(volumeName, { name: volumeName, labels: runVolumeLabels(plan, containerName) }, child);
                runVolumes.set(volumeName, found);
            }
            return found.name;
        };
        /** A digest of a container's files, secrets included (a digest of random passwords tells nothing of them). */
        const filesDigest = (spec: ContainerSpec) =>
            pulumi.unsecret(
                runtime.apply((r) => {
                    const digest = createHash("sha256");
                    for (const file of spec.files) digest.update(`${file.path}\0${file.mode}\0${file.content}\0`);
                    for (const file of spec.secretFiles) digest.update(`${file.path}\0${file.owner}\0${file.content(r)}\0`);
                    return digest.digest("hex").slice(0, 10);
                }),
            );
        /** The writer's Docker name: with a digest of what it writes, so new files mean a new writer, run before the old one goes. */
        const writerName = (spec: ContainerSpec) => filesDigest(spec).apply((digest) => `${spec.name}-${digest}`);
        /**
         * A container reads its files at start (n8n its secrets, Redis its config, the sidecar its
         * script): a label with their digest replaces it when they change, as an upload of its own would.
         */
        const labelsOf = (spec: ContainerSpec) => {
            const labels = containerLabels(plan, args.fleet, spec);
            if (spec.writesFilesOf !== undefined || fileDirs(spec).length === 0) return labels;
            return filesDigest(spec).apply((digest) => [...labels, { label: LABELS.files, value: digest }]);
        };
        const declare = (spec: ContainerSpec, dependsOn: pulumi.Input<docker.Container>[]) => {
            const running = tenantRuns || spec.alwaysRuns === true;
            const writer = spec.writesFilesOf !== undefined;
            return new docker.Container(
                spec.name,
                {
                    name: writer ? writerName(spec) : spec.name,
                    image: args.host.imageId(spec.image),
                    envs: runtime.apply((r) => envList(spec.environment(r))),
                    command: spec.command,
                    user: spec.user,
                    networkMode: spec.networkMode,
                    networksAdvanced: absentIfEmpty(spec.networks.map(({ network, aliases }) => ({ name: networkName(network), aliases }))),
                    volumes: absentIfEmpty([
                        ...spec.volumes.map(({ volume: role, containerPath, readOnly }) => ({ volumeName: volumeName(role), containerPath, readOnly })),
                        // The writer writes each container's run volume; each container reads its own, read-only.
                        ...(writer
                            ? (spec.writesFilesOf ?? []).map((target) => ({ volumeName: runVolume(target), containerPath: `${OUT_DIR}/${target}` }))
                            : fileDirs(spec).map((containerPath) => ({ volumeName: runVolume(spec.name), containerPath, readOnly: true }))),
                    ]),
                    // Only the writer receives uploads: Docker writes none into a read-only root file system.
                    uploads: writer
                        ? absentIfEmpty([
                              ...spec.files.map(({ path, content, mode }) => ({ file: path, content, permissions: mode })),
                              // Readable by the process's own user only; marked secret, like everything derived from the passwords.
                              ...spec.secretFiles.map(({ path, content, owner }) => ({ file: path, content: pulumi.secret(runtime.apply(content)), permissions: "0400", owner, group: owner })),
                          ])
                        : undefined,
                    // Nothing a tenant's process does changes its image's files: it writes to its volumes and capped tmpfs only.
                    readOnly: !writer,
                    tmpfs: spec.tmpfs.length > 0 ? Object.fromEntries(spec.tmpfs.map((t) => [t.path, tmpfsOptions(t)])) : undefined,
                    // A container that never runs publishes nothing (the provider reads ports from the running state).
                    ports: running ? absentIfEmpty(spec.ports) : undefined,
                    memory: spec.limits.memoryMb,
                    memorySwap: spec.limits.memoryMb,
                    // CPU by weight inside the tenant's envelope, whose quota is the tenant's budget (fleet/tenants/sizing.ts).
                    cpuShares: spec.limits.cpuShares,
                    cgroupParent: tenantCgroupParent(args.fleet, plan),
                    healthcheck: spec.healthcheck,
                    // A suspended tenant's containers exist but never start; its label forces their replacement both ways.
                    restart: running && !spec.runsOnce ? "unless-stopped" : "no",
                    start: running,
                    mustRun: running && !spec.runsOnce,
                    wait: running && spec.waitForHealthy,
                    // A one-shot is awaited to its end before what depends on it is created.
                    attach: spec.runsOnce ? true : undefined,
                    logs: spec.runsOnce ? true : undefined,
                    waitTimeout: spec.waitTimeoutSeconds ?? 300,
                    destroyGraceSeconds: spec.stopGraceSeconds,
                    stopTimeout: spec.stopGraceSeconds,
                    securityOpts: ["no-new-privileges:true"],
                    capabilities: spec.dropCapabilities ? { drops: ["ALL"], adds: spec.addCapabilities } : undefined,
                    // Docker's local driver rotates by itself (5 files of 20 MB, compressed). No options
                    // are declared: dockerd merges its daemon.json log-opts into a container whose
                    // driver is the daemon's default (moby daemon/logs.go, mergeAndVerifyLogConfig),
                    // and the provider reads declared options back whole (containerLogOptsForState),
                    // so a declared map would be replaced on every `pulumi up` on such a host.
                    logDriver: "local",
                    labels: labelsOf(spec),
                },
                // Fixed names and host ports: the old container must go before its replacement starts
                // (the writer's name changes with what it writes: the new one runs first).
                { ...child, deleteBeforeReplace: !writer, dependsOn },
            );
        };

        const containers = new Map<string, docker.Container>();
        /**
         * What comes after a container waits for: the container itself or, for a one-shot, its
         * success. The provider records a one-shot's exit code and goes on (it never checks it), so
         * the program checks it: a failure stops `pulumi up` here, before anything that comes after
         * is created and before anything that left the program is deleted, with what to do.
         */
        const awaited = new Map<string, pulumi.Input<docker.Container>>();
        const oneShotChecks: pulumi.Output<docker.Container>[] = [];
        for (const spec of tenantContainers(plan)) {
            const dependsOn = [
                // No tenant container runs on a host before the guard's rules are in place.
                args.host.guard,
                // Nor before its envelope holds the tenant's limits.
                args.host.envelopes,
                ...spec.after.map((earlier) => awaited.get(earlier) ?? fail(`internal: ${spec.name} is declared before ${earlier}, which it needs`)),
            ];
            const container = declare(spec, dependsOn);
            containers.set(spec.name, container);
            if (spec.runsOnce && spec.failureMeans !== undefined) {
                const means = spec.failureMeans;
                const succeeded = pulumi.all([container.exitCode, container.urn]).apply(([exitCode, urn]) => {
                    if (exitCode !== undefined && exitCode !== null && exitCode !== 0) throw new pulumi.RunError(oneShotFailure(spec.name, means, exitCode, plan.target.dockerHost, urn));
                    return container;
                });
                oneShotChecks.push(succeeded);
                awaited.set(spec.name, succeeded);
            } else {
                awaited.set(spec.name, container);
            }
        }
        const nameOf = (containerName: string) => {
            const found = containers.get(containerName);
            if (!found) throw new Error(`internal: no container ${containerName}`);
            return found.name;
        };
        const workerIndexes = Array.from({ length: plan.workers }, (_, i) => i + 1);

        this.url = pulumi.output(plan.url);
        this.port = pulumi.output(plan.port);
        this.target = pulumi.output(plan.target.name);
        this.containers = pulumi.output(
            archived
                ? { workers: [], runners: [] }
                : {
                      postgres: rds ? undefined : nameOf(names.containers.postgres),
                      redis: nameOf(names.containers.redis),
                      main: nameOf(names.containers.main),
                      workers: workerIndexes.map((index) => nameOf(names.worker(index))),
                      runners: workerIndexes.map((index) => nameOf(names.runner(index))),
                  },
        );
        this.encryptionKey = encryptionKey;
        this.ownerPassword = ownerPassword ? pulumi.secret(ownerPassword.result) : undefined;
        this.edgeNetwork = networks.edge;
        this.main = containers.get(names.containers.main);
        // A one-shot that nothing comes after (the final backup) still stops the update when it fails.
        this.registerOutputs({ url: this.url, port: this.port, target: this.target, containers: this.containers, encryptionKey: this.encryptionKey, oneShots: pulumi.all(oneShotChecks).apply((done) => done.length) });
    }
}
