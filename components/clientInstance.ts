import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import type { TenantPlan } from "../fleet/plan";
import type { Limits } from "../fleet/sizing";
import { Healthcheck, PORTS, TenantSecrets, envList } from "../fleet/containerSpec";
import { POSTGRES_DATA_DIR, POSTGRES_INIT_SCRIPT, postgresCommand, postgresEnvironment, postgresHealthcheck } from "../fleet/postgres";
import { REDIS_DATA_DIR, REDIS_USER, redisCommand, redisEnvironment, redisHealthcheck } from "../fleet/redis";
import { N8N_UID, N8N_USER_FOLDER, mainCommand, n8nEnvironment, n8nHealthcheck, workerCommand } from "../fleet/n8n";
import { runnerEnvironment, runnerHealthcheck } from "../fleet/runners";
import { SERVICE_HOSTS } from "../fleet/names";
import type { DockerHost } from "./dockerHost";

/** Arguments of {@link ClientInstance}. */
export interface ClientInstanceArgs {
    /** The tenant's resolved plan: every name, image, limit and setting is already decided. */
    plan: TenantPlan;
    /** The Docker host the tenant runs on; its images are shared by all tenants there. */
    host: DockerHost;
    /** Label value that names the fleet, such as `n8n-fleet/dev`. */
    fleet: string;
}

/** Container names of a tenant, as stack outputs. */
export interface TenantContainers {
    postgres: string;
    redis: string;
    main: string;
    workers: string[];
    runners: string[];
}

const FLEET_LABEL = "n8n-fleet.fleet";


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

    constructor(name: string, args: ClientInstanceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("n8n-fleet:index:ClientInstance", name, {}, { ...opts, providers: [args.host.provider] });
        const { plan } = args;
        const names = plan.names;
        const child: pulumi.CustomResourceOptions = { parent: this };
        // Data and keys survive every edit of tenants.json; removing the tenant fails instead of deleting them.
        const keep: pulumi.CustomResourceOptions = { parent: this, protect: true };
        const labels = (role: string) => [
            { label: "n8n-fleet.tenant", value: plan.id },
            { label: FLEET_LABEL, value: args.fleet },
            { label: "n8n-fleet.role", value: role },
        ];

        // Marked secret here rather than relying on the provider, so every value derived from them is too.
        const secret = (suffix: string, length: number) =>
            pulumi.secret(new random.RandomPassword(`${name}-${suffix}`, { length, special: false }, keep).result);
        const encryptionKey = secret("encryption-key", 48);
        const secrets: pulumi.Output<TenantSecrets> = pulumi.output({
            postgresPassword: secret("postgres-password", 32),
            databasePassword: secret("database-password", 32),
            redisPassword: secret("redis-password", 32),
            encryptionKey,
            runnerToken: secret("runner-token", 48),
        });

        const backend = new docker.Network(names.networks.backend, { name: names.networks.backend, internal: true, labels: labels("backend") }, child);
        const egress = new docker.Network(names.networks.egress, { name: names.networks.egress, labels: labels("egress") }, child);

        // Only the id decides a volume's inputs (not even the stack's name): Docker replaces a volume whose labels change.
        const volume = (volumeName: string, role: string) =>
            new docker.Volume(volumeName, { name: volumeName, labels: labels(role).filter(({ label }) => label !== FLEET_LABEL) }, keep);
        const volumes = {
            postgres: volume(names.volumes.postgres, "postgres-data"),
            redis: volume(names.volumes.redis, "redis-data"),
            n8n: volume(names.volumes.n8n, "n8n-data"),
        };

        const active = plan.status === "active";
        const container = (
            containerName: string,
            role: string,
            spec: {
                image: string;
                limits: Limits;
                healthcheck: Healthcheck;
                envs: pulumi.Input<string[]>;
                networks: { network: docker.Network; aliases: string[] }[];
                command?: string[];
                volumes?: docker.types.input.ContainerVolume[];
                uploads?: docker.types.input.ContainerUpload[];
                ports?: docker.types.input.ContainerPort[];
                user?: string;
                dropCapabilities?: boolean;
                waitForHealthy?: boolean;
            },
            dependsOn: pulumi.Resource[] = [],
        ) =>
            new docker.Container(
                containerName,
                {
                    name: containerName,
                    image: args.host.imageId(spec.image),
                    envs: spec.envs,
                    command: spec.command,
                    networksAdvanced: spec.networks.map(({ network, aliases }) => ({ name: network.name, aliases })),
                    volumes: spec.volumes,
                    uploads: spec.uploads,
                    ports: spec.ports,
                    user: spec.user,
                    memory: spec.limits.memoryMb,
                    memorySwap: spec.limits.memoryMb,
                    cpus: spec.limits.cpus.toFixed(2),
                    healthcheck: spec.healthcheck,
                    restart: active ? "unless-stopped" : "no",
                    start: active,
                    mustRun: active,
                    wait: active && spec.waitForHealthy === true,
                    waitTimeout: 300,
                    securityOpts: ["no-new-privileges:true"],
                    capabilities: spec.dropCapabilities ? { drops: ["ALL"] } : undefined,
                    logDriver: "json-file",
                    logOpts: { "max-size": "10m", "max-file": "3" },
                    // Docker's local volumes cannot be capped; the budget is declared where monitoring can read it.
                    labels: [...labels(role), { label: "n8n-fleet.disk-budget-gb", value: String(plan.budget.diskGb) }],
                },
                // Fixed names and host ports: the old container must go before its replacement starts.
                { ...child, deleteBeforeReplace: true, dependsOn },
            );

        const postgres = container(names.containers.postgres, "postgres", {
            image: plan.images.postgres,
            limits: plan.sizing.postgres,
            healthcheck: postgresHealthcheck(),
            envs: secrets.apply((s) => envList(postgresEnvironment(plan, s))),
            command: postgresCommand(plan),
            networks: [{ network: backend, aliases: [SERVICE_HOSTS.postgres] }],
            volumes: [{ volumeName: volumes.postgres.name, containerPath: POSTGRES_DATA_DIR }],
            uploads: [{ file: POSTGRES_INIT_SCRIPT.path, content: POSTGRES_INIT_SCRIPT.content, executable: true }],
            waitForHealthy: true,
        });

        const redis = container(names.containers.redis, "redis", {
            image: plan.images.redis,
            limits: plan.sizing.redis,
            healthcheck: redisHealthcheck(),
            envs: secrets.apply((s) => envList(redisEnvironment(s))),
            command: redisCommand(plan),
            networks: [{ network: backend, aliases: [SERVICE_HOSTS.redis] }],
            volumes: [{ volumeName: volumes.redis.name, containerPath: REDIS_DATA_DIR }],
            user: REDIS_USER,
            dropCapabilities: true,
            waitForHealthy: true,
        });

        const n8nProcess = {
            image: plan.images.n8n,
            // Built once: main and workers must agree on database, queue, key and URLs.
            envs: secrets.apply((s) => envList(n8nEnvironment(plan, s))),
            volumes: [{ volumeName: volumes.n8n.name, containerPath: N8N_USER_FOLDER }],
            user: N8N_UID,
            healthcheck: n8nHealthcheck(),
            dropCapabilities: true,
            waitForHealthy: true,
        };
        const stores = [postgres, redis];

        const main = container(
            names.containers.main,
            "main",
            {
                ...n8nProcess,
                limits: plan.sizing.main,
                command: mainCommand(),
                networks: [
                    { network: backend, aliases: [SERVICE_HOSTS.main] },
                    { network: egress, aliases: [] },
                ],
                ports: [{ internal: PORTS.n8n, external: plan.port, ip: plan.target.publishAddress }],
            },
            stores,
        );

        const workerIndexes = Array.from({ length: plan.workers }, (_, i) => i + 1);
        const workers = workerIndexes.map((index) =>
            container(
                names.worker(index),
                "worker",
                {
                    ...n8nProcess,
                    limits: plan.sizing.worker,
                    command: workerCommand(plan),
                    networks: [
                        { network: backend, aliases: [names.workerHost(index)] },
                        { network: egress, aliases: [] },
                    ],
                },
                stores,
            ),
        );

        const runners = workerIndexes.map((index) =>
            container(
                names.runner(index),
                "runner",
                {
                    image: plan.images.runners,
                    limits: plan.sizing.runner,
                    healthcheck: runnerHealthcheck(),
                    envs: secrets.apply((s) => envList(runnerEnvironment(plan, index, s))),
                    networks: [{ network: backend, aliases: [] }],
                    dropCapabilities: true,
                },
                [workers[index - 1]],
            ),
        );

        this.url = pulumi.output(plan.url);
        this.port = pulumi.output(plan.port);
        this.target = pulumi.output(plan.target.name);
        this.containers = pulumi.output({
            postgres: postgres.name,
            redis: redis.name,
            main: main.name,
            workers: workers.map((w) => w.name),
            runners: runners.map((r) => r.name),
        });
        this.encryptionKey = encryptionKey;
        this.registerOutputs({ url: this.url, port: this.port, target: this.target, containers: this.containers, encryptionKey: this.encryptionKey });
    }
}
