/**
 * The whole program under the SDK's mock monitor, for a fleet of several tenants on two hosts:
 * what `pulumi up` would ask the engine to create.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { FleetRun, TYPES, envOf, processEnvOf, runFleet, uploadOf } from "./harness/runFleet";
import { Registration, isSecretValue } from "./harness/recordingMocks";

const FLEET = {
    defaults: { resources: { cpus: 2, memoryGb: 4, diskGb: 10 } },
    tenants: [
        { id: "acme", port: 5701 },
        { id: "globex", port: 5702, workers: 2, concurrency: 5 },
        { id: "initech", port: 5701, target: "us-1", url: "https://initech.example.com" },
    ],
};
const IDS = FLEET.tenants.map((t) => t.id);

let run: FleetRun;
before(async () => {
    run = await runFleet({ tenants: FLEET });
});

const tenantOf = (resource: Registration) => resource.inputs.labels?.find((l: { label: string }) => l.label === "n8n-fleet.tenant")?.value;
const containersOf = (id: string) => run.ofType(TYPES.container).filter((c) => tenantOf(c) === id);
const roleOf = (resource: Registration) => resource.inputs.labels?.find((l: { label: string }) => l.label === "n8n-fleet.role")?.value;
const container = (id: string, role: string) => {
    const found = containersOf(id).filter((c) => roleOf(c) === role);
    assert.ok(found.length > 0, `${id} has no ${role} container`);
    return found;
};

describe("networks", () => {
    test("each tenant gets an internal backend network and an egress network named after it", () => {
        for (const id of IDS) {
            const backend = run.named(`${id}-backend`);
            const egress = run.named(`${id}-egress`);
            assert.equal(backend.inputs.name, `${id}-backend`);
            assert.equal(backend.inputs.internal, true);
            assert.notEqual(egress.inputs.internal, true);
        }
    });

    test("no container is attached to a network of another tenant", () => {
        for (const c of run.ofType(TYPES.container)) {
            for (const network of c.inputs.networksAdvanced as { name: string }[]) {
                assert.ok(network.name.startsWith(`${tenantOf(c)}-`), `${c.name} is attached to ${network.name}`);
            }
        }
    });

    test("PostgreSQL, Redis and the runners sit on the backend network only; n8n processes also reach the internet", () => {
        for (const id of IDS) {
            for (const role of ["postgres", "redis", "runner"]) {
                for (const c of container(id, role)) assert.deepEqual(c.inputs.networksAdvanced.map((n: { name: string }) => n.name), [`${id}-backend`]);
            }
            for (const role of ["main", "worker"]) {
                for (const c of container(id, role)) assert.deepEqual(c.inputs.networksAdvanced.map((n: { name: string }) => n.name).sort(), [`${id}-backend`, `${id}-egress`]);
            }
        }
    });
});

describe("ports", () => {
    test("only the n8n main publishes a port: the tenant's port, to n8n's 5678", () => {
        for (const id of IDS) {
            const tenant = FLEET.tenants.find((t) => t.id === id);
            for (const c of containersOf(id)) {
                if (roleOf(c) === "main") assert.deepEqual(c.inputs.ports, [{ internal: 5678, external: tenant?.port, ip: "0.0.0.0" }]);
                else assert.equal(c.inputs.ports, undefined, `${c.name} publishes ${JSON.stringify(c.inputs.ports)}`);
            }
        }
    });
});

describe("secrets", () => {
    test("every tenant has its own encryption key, passwords and runner token", () => {
        const values = IDS.map((id) => processEnvOf(container(id, "main")[0]));
        for (const name of ["N8N_ENCRYPTION_KEY", "DB_POSTGRESDB_PASSWORD", "QUEUE_BULL_REDIS_PASSWORD", "N8N_RUNNERS_AUTH_TOKEN"]) {
            const perTenant = values.map((env) => env[name]);
            assert.equal(new Set(perTenant).size, IDS.length, `${name} is shared between tenants`);
        }
        const superuser = IDS.map((id) => processEnvOf(container(id, "postgres")[0]).POSTGRES_PASSWORD);
        assert.equal(new Set(superuser).size, IDS.length);
    });

    test("environment lists of every container are secret on the wire", () => {
        for (const c of run.ofType(TYPES.container)) assert.ok(isSecretValue(c.rawInputs.envs), `${c.name} sends its environment in plain text`);
    });

    test("no secret value appears in plain text in any input or in the plain outputs", () => {
        const secrets = IDS.flatMap((id) => {
            const n8n = processEnvOf(container(id, "main")[0]);
            return [n8n.N8N_ENCRYPTION_KEY, n8n.DB_POSTGRESDB_PASSWORD, n8n.QUEUE_BULL_REDIS_PASSWORD, n8n.N8N_RUNNERS_AUTH_TOKEN, processEnvOf(container(id, "postgres")[0]).POSTGRES_PASSWORD];
        });
        const plainParts = (value: unknown): string[] => {
            if (isSecretValue(value)) return [];
            if (Array.isArray(value)) return value.flatMap(plainParts);
            if (value !== null && typeof value === "object") return Object.values(value).flatMap(plainParts);
            return [String(value)];
        };
        const plain = [...run.resources.flatMap((r) => plainParts(r.rawInputs)), ...plainParts(run.rawOutputs)].join("\n");
        for (const secret of secrets) assert.ok(!plain.includes(secret), "a secret leaked into plain inputs or outputs");
    });

    test("no container's environment or command holds a generated secret: each comes as a file only its process's user can read", () => {
        // The uid each image's process reads its files as: n8n's node, the postgres and redis images' users (999), the runners image's (1000).
        const readerOf = (c: Registration) =>
            roleOf(c) === "runner" ? "1000" : ({ "1000:1000": "1000", redis: "999", postgres: "999", "0:0": "0" })[(c.inputs.user as string | undefined) ?? "postgres"];
        const generated = new Set<string>();
        for (const c of run.ofType(TYPES.container)) {
            for (const upload of (c.inputs.uploads ?? []) as { file: string; content: string; permissions: string; owner?: string; group?: string }[]) {
                if (!upload.file.startsWith("/run/secrets/")) continue;
                generated.add(upload.content.replace(/^requirepass (.*)\n$/, "$1"));
                assert.equal(upload.permissions, "0400", `${c.name} ${upload.file}`);
                assert.deepEqual([upload.owner, upload.group], [readerOf(c), readerOf(c)], `${c.name} ${upload.file}: owned by the process's user`);
            }
        }
        // Per tenant: superuser and n8n role passwords, Redis password, key, runner token.
        assert.equal(generated.size, IDS.length * 5);
        for (const c of run.ofType(TYPES.container)) {
            const plain = [...(c.inputs.envs as string[]), ...((c.inputs.command as string[] | undefined) ?? [])].join("\n");
            for (const secret of generated) assert.ok(!plain.includes(secret), `${c.name} shows a secret in its environment or command`);
        }
    });

    test("the runner sidecar's launcher reads the runner token from its file (N8N_RUNNERS_AUTH_TOKEN_FILE), never from a variable", () => {
        for (const id of IDS) {
            for (const runner of container(id, "runner")) {
                assert.equal(envOf(runner).N8N_RUNNERS_AUTH_TOKEN, undefined);
                assert.equal(processEnvOf(runner).N8N_RUNNERS_AUTH_TOKEN, processEnvOf(container(id, "main")[0]).N8N_RUNNERS_AUTH_TOKEN);
            }
        }
    });

    test("the encryption keys are exported for escrow as a secret output", () => {
        assert.ok(isSecretValue(run.rawOutputs.encryptionKeys));
        for (const id of IDS) assert.equal(run.outputs.encryptionKeys[id], processEnvOf(container(id, "main")[0]).N8N_ENCRYPTION_KEY);
    });
});

describe("wiring", () => {
    test("main and workers of a tenant share one environment: key, database, Redis and URLs", () => {
        for (const id of IDS) {
            const main = envOf(container(id, "main")[0]);
            for (const worker of container(id, "worker")) assert.deepEqual(envOf(worker), main);
        }
    });

    test("n8n's database and Redis host names resolve, on the tenant's own backend network, to the tenant's own containers", () => {
        for (const id of IDS) {
            const env = envOf(container(id, "main")[0]);
            const aliasOwner = (alias: string) =>
                run.ofType(TYPES.container).filter((c) => c.inputs.networksAdvanced.some((n: { name: string; aliases?: string[] }) => n.name === `${id}-backend` && n.aliases?.includes(alias)));
            assert.deepEqual(aliasOwner(env.DB_POSTGRESDB_HOST).map((c) => c.name), [`${id}-postgres`]);
            assert.deepEqual(aliasOwner(env.QUEUE_BULL_REDIS_HOST).map((c) => c.name), [`${id}-redis`]);
        }
    });

    test("n8n logs in with the role and password the tenant's PostgreSQL creates, never the superuser", () => {
        for (const id of IDS) {
            const n8n = processEnvOf(container(id, "main")[0]);
            const postgres = processEnvOf(container(id, "postgres")[0]);
            assert.equal(n8n.DB_POSTGRESDB_USER, postgres.N8N_DB_USER);
            assert.equal(n8n.DB_POSTGRESDB_PASSWORD, postgres.N8N_DB_PASSWORD);
            assert.equal(n8n.DB_POSTGRESDB_DATABASE, postgres.POSTGRES_DB);
            assert.notEqual(n8n.DB_POSTGRESDB_USER, postgres.POSTGRES_USER);
            assert.notEqual(n8n.DB_POSTGRESDB_PASSWORD, postgres.POSTGRES_PASSWORD);
        }
    });

    test("n8n uses the password the tenant's Redis requires", () => {
        for (const id of IDS) {
            const [redis] = container(id, "redis");
            const password = processEnvOf(container(id, "main")[0]).QUEUE_BULL_REDIS_PASSWORD;
            assert.equal(uploadOf(redis, "/run/secrets/redis.conf"), `requirepass ${password}\n`);
            assert.deepEqual(redis.inputs.command.slice(0, 2), ["redis-server", "/run/secrets/redis.conf"]);
            assert.equal(uploadOf(redis, "/run/secrets/redis-password"), password);
        }
    });

    test("each worker has a runner sidecar that dials that worker's broker with the tenant's token", () => {
        for (const id of IDS) {
            const workers = container(id, "worker");
            const runners = container(id, "runner");
            assert.equal(runners.length, workers.length);
            const token = processEnvOf(workers[0]).N8N_RUNNERS_AUTH_TOKEN;
            runners.forEach((runner, i) => {
                const env = processEnvOf(runner);
                assert.equal(env.N8N_RUNNERS_AUTH_TOKEN, token);
                const host = new URL(env.N8N_RUNNERS_TASK_BROKER_URI).hostname;
                const worker = workers.find((w) => w.inputs.networksAdvanced.some((n: { aliases?: string[] }) => n.aliases?.includes(host)));
                assert.equal(worker?.name, `${id}-n8n-worker-${i + 1}`);
            });
        }
    });

    test("the stores come first, the main once they are healthy, workers once the main has migrated, each runner after its worker", () => {
        const urnOf = (c: Registration) => c.urn;
        // Inputs add their own dependencies (networks, volumes, images, secrets); the order is in the container ones.
        const containerDeps = (c: Registration) => c.dependencies.filter((urn) => urn.includes("docker:index/container:Container::"));
        for (const id of IDS) {
            const [postgres] = container(id, "postgres");
            const [redis] = container(id, "redis");
            const [main] = container(id, "main");
            const preUpgrade = run.named(`${id}-backup-before-n8n-2.41.1`);
            for (const awaited of [postgres, redis, main]) assert.equal(awaited.inputs.wait, true, `${awaited.name} is not awaited healthy`);
            assert.deepEqual(
                [preUpgrade.inputs.attach, preUpgrade.inputs.restart, preUpgrade.inputs.command.slice(1)],
                [true, "no", ["once", "before-n8n-2.41.1"]],
                "the backup before this version is a one-shot awaited to its end",
            );
            assert.deepEqual(containerDeps(preUpgrade), [urnOf(postgres)]);
            assert.deepEqual(containerDeps(main).sort(), [urnOf(postgres), urnOf(preUpgrade), urnOf(redis)].sort());
            const workers = container(id, "worker");
            for (const worker of workers) assert.deepEqual(containerDeps(worker).sort(), [urnOf(postgres), urnOf(preUpgrade), urnOf(redis), urnOf(main)].sort(), `${worker.name} may start before the main has migrated`);
            container(id, "runner").forEach((runner, i) => assert.deepEqual(containerDeps(runner), [urnOf(workers[i])]));
        }
    });

    test("the PostgreSQL init script is executed by the image's postgres user, not sourced into the entrypoint's shell", () => {
        for (const id of IDS) {
            const [upload] = container(id, "postgres")[0].inputs.uploads;
            assert.match(upload.file, /^\/docker-entrypoint-initdb\.d\/.+\.sh$/);
            // Uploaded files belong to root: the postgres user executes it through the "others" bits.
            assert.equal(parseInt(upload.permissions, 8) & 0o005, 0o005, `mode ${upload.permissions}`);
        }
    });

    test("workers and their concurrency follow tenants.json", () => {
        assert.equal(container("acme", "worker").length, 1);
        assert.equal(container("globex", "worker").length, 2);
        for (const worker of container("globex", "worker")) assert.deepEqual(worker.inputs.command, ["worker", "--concurrency=5"]);
    });

    test("an https URL gives secure cookies; the default URL is the target's public host and the port", () => {
        const initech = envOf(container("initech", "main")[0]);
        assert.equal(initech.N8N_EDITOR_BASE_URL, "https://initech.example.com/");
        assert.equal(initech.N8N_SECURE_COOKIE, "true");
        assert.equal(envOf(container("acme", "main")[0]).N8N_WEBHOOK_URL, "http://eu-1.example.com:5701/");
        assert.equal(run.outputs.tenants.acme.url, "http://eu-1.example.com:5701/");
    });
});

describe("limits and hardening", () => {
    test("every container has a memory limit, no extra swap and a CPU quota, within the tenant's budget", () => {
        for (const id of IDS) {
            const containers = containersOf(id);
            for (const c of containers) {
                assert.ok(c.inputs.memory > 0, `${c.name} has no memory limit`);
                assert.equal(c.inputs.memorySwap, c.inputs.memory);
                assert.ok(Number(c.inputs.cpus) > 0, `${c.name} has no CPU limit`);
            }
            // One-shots (a backup before an upgrade) run for minutes beside the rest and are left out of the split.
            const lasting = containers.filter((c) => !c.inputs.attach);
            assert.ok(lasting.reduce((sum, c) => sum + c.inputs.memory, 0) <= 4 * 1024);
            assert.ok(lasting.reduce((sum, c) => sum + Number(c.inputs.cpus), 0) <= 2 + 1e-9);
        }
    });

    test("n8n and Redis run as their images' unprivileged users, with every capability dropped", () => {
        for (const id of IDS) {
            for (const role of ["main", "worker"]) for (const c of container(id, role)) assert.equal(c.inputs.user, "1000:1000");
            assert.equal(container(id, "redis")[0].inputs.user, "redis");
            for (const role of ["main", "worker", "runner", "redis"]) for (const c of container(id, role)) assert.deepEqual(c.inputs.capabilities, { drops: ["ALL"] });
        }
    });

    test("PostgreSQL's entrypoint keeps only the capabilities it needs to own its data folder and drop to its user", () => {
        for (const id of IDS) {
            assert.deepEqual(container(id, "postgres")[0].inputs.capabilities, { drops: ["ALL"], adds: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID"] });
        }
    });

    test("every container rotates its logs, restarts unless stopped, forbids new privileges and names its tenant and fleet", () => {
        for (const c of run.ofType(TYPES.container)) {
            assert.equal(c.inputs.restart, c.inputs.attach ? "no" : "unless-stopped", c.name);
            assert.deepEqual(c.inputs.securityOpts, ["no-new-privileges:true"]);
            // The local driver rotates by itself; options would be merged with the host's daemon.json and read back changed.
            assert.equal(c.inputs.logDriver, "local");
            assert.equal(c.inputs.logOpts, undefined);
            assert.ok(IDS.includes(tenantOf(c)));
            assert.ok(c.inputs.labels.some((l: { label: string; value: string }) => l.label === "n8n-fleet.fleet" && l.value === "n8n-fleet/test"));
            if (!c.inputs.attach) assert.ok(c.inputs.healthcheck.tests.length > 1, `${c.name} has no healthcheck`);
        }
    });
});

describe("state that must survive", () => {
    test("volumes, passwords and keys are protected; containers, networks and images are not", () => {
        for (const r of run.resources) {
            const stateful = r.type === TYPES.volume || r.type === TYPES.password;
            assert.equal(r.protect, stateful, `${r.type} ${r.name} protect=${r.protect}`);
        }
    });

    test("every container gets longer to stop than its process needs to shut down cleanly, on replacement and deletion alike", () => {
        for (const c of run.ofType(TYPES.container)) {
            assert.equal(c.inputs.destroyGraceSeconds, c.inputs.stopTimeout, `${c.name}: a replacement and a docker stop wait alike`);
            const role = roleOf(c);
            if (role === "main" || role === "worker") {
                // n8n exits at most 2 s after its own graceful-shutdown timeout.
                assert.ok(c.inputs.destroyGraceSeconds >= Number(envOf(c).N8N_GRACEFUL_SHUTDOWN_TIMEOUT) + 5, `${c.name}: ${c.inputs.destroyGraceSeconds} s`);
            }
            // The JS runner force-exits 30 s + 10 s after SIGTERM; PostgreSQL writes a checkpoint; Redis fsyncs;
            // an interrupted backup leaves only an incomplete folder, never counted as a set.
            const floor = { postgres: 60, redis: 30, runner: 40, main: 0, worker: 0, backup: 10 }[role as string] ?? Infinity;
            assert.ok(c.inputs.destroyGraceSeconds >= floor, `${c.name}: ${c.inputs.destroyGraceSeconds} s`);
        }
    });

    test("containers are replaced by deleting first, because their names and ports are fixed", () => {
        for (const c of run.ofType(TYPES.container)) assert.equal(c.deleteBeforeReplace, true);
    });

    test("backups go to a volume of the tenant's own; the backup containers read n8n's files without being able to change them", () => {
        for (const id of IDS) {
            for (const name of [`${id}-backup`, `${id}-backup-before-n8n-2.41.1`]) {
                const backup = run.named(name);
                assert.deepEqual(backup.inputs.volumes, [
                    { volumeName: `${id}-backups`, containerPath: "/backups" },
                    { volumeName: `${id}-n8n-data`, containerPath: "/n8n-data", readOnly: true },
                ]);
                assert.deepEqual(backup.inputs.networksAdvanced.map((n: { name: string }) => n.name), [`${id}-backend`], "the internal network only");
                assert.deepEqual(backup.inputs.capabilities, { drops: ["ALL"], adds: ["CAP_DAC_READ_SEARCH"] });
            }
        }
    });

    test("PostgreSQL, Redis and n8n keep their data on the tenant's own volumes", () => {
        for (const id of IDS) {
            assert.deepEqual(container(id, "postgres")[0].inputs.volumes, [{ volumeName: `${id}-postgres-data`, containerPath: "/var/lib/postgresql/data" }]);
            assert.deepEqual(container(id, "redis")[0].inputs.volumes, [{ volumeName: `${id}-redis-data`, containerPath: "/data" }]);
            for (const role of ["main", "worker"]) {
                for (const c of container(id, role)) assert.deepEqual(c.inputs.volumes, [{ volumeName: `${id}-n8n-data`, containerPath: "/home/node/.n8n" }]);
            }
        }
    });

    test("resource names are the tenant id and stable names derived from it", () => {
        const acme = run.resources.filter((r) => r.parent.endsWith("::acme")).map((r) => r.name).sort();
        assert.deepEqual(acme, [
            "acme-backend",
            "acme-backup",
            "acme-backup-before-n8n-2.41.1",
            "acme-backups",
            "acme-database-password",
            "acme-egress",
            "acme-encryption-key",
            "acme-n8n",
            "acme-n8n-data",
            "acme-n8n-worker-1",
            "acme-n8n-worker-1-runner",
            "acme-postgres",
            "acme-postgres-data",
            "acme-postgres-password",
            "acme-redis",
            "acme-redis-data",
            "acme-redis-password",
            "acme-runner-token",
        ]);
        assert.deepEqual(run.ofType(TYPES.clientInstance).map((r) => r.name).sort(), [...IDS].sort());
    });
});

describe("images", () => {
    test("one image resource per image and host, shared by the tenants on it, pinned by exact tag", () => {
        const images = run.ofType(TYPES.image);
        const keys = images.map((i) => `${i.parent.split("::").pop()} ${i.inputs.name}`);
        assert.equal(new Set(keys).size, keys.length);
        assert.equal(images.filter((i) => i.parent.endsWith("::eu-1")).length, 4);
        assert.equal(images.filter((i) => i.parent.endsWith("::us-1")).length, 4);
        for (const image of images) assert.match(image.inputs.name, /:\d+\.\d+(\.\d+)?$/);
        const acmeMain = container("acme", "main")[0];
        const globexMain = container("globex", "main")[0];
        assert.equal(acmeMain.inputs.image, globexMain.inputs.image);
    });

    test("tenants on a host use that host's Docker provider", () => {
        const providers = run.ofType(TYPES.dockerProvider);
        assert.deepEqual(providers.map((p) => p.inputs.host).sort(), ["ssh://deploy@eu-1.example.com", "ssh://deploy@us-1.example.com"]);
        const usProvider = providers.find((p) => p.inputs.host.includes("us-1"));
        for (const c of containersOf("initech")) assert.ok(c.provider.includes("::us-1-docker::"), `${c.name} uses ${c.provider}`);
        for (const c of containersOf("acme")) assert.ok(c.provider.includes("::eu-1-docker::"), `${c.name} uses ${c.provider}`);
        assert.ok(usProvider);
    });
});
