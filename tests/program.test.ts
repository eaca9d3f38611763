/**
 * The whole program under the SDK's mock monitor, for a fleet of several tenants on two hosts:
 * what `pulumi up` would ask the engine to create.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { FileUpload, FleetRun, TYPES, envOf, filesOf, processEnvOf, runFleet, uploadOf } from "./harness/runFleet";
import { Registration, isSecretValue } from "./harness/recordingMocks";
import { PINNED_HOST_GUARD_IMAGE } from "../fleet/tenants/versions";

const FLEET = {
    defaults: { resources: { cpus: 2, memoryGb: 4, diskGb: 10 } },
    tenants: [
        { id: "acme", port: 5701 },
        { id: "globex", port: 5702, workers: 2, concurrency: 5 },
        { id: "initech", port: 5701, target: "us-1", url: "https://initech.example.com" },
    ],
};
const IDS = FLEET.tenants.map((t) => t.id);
/** The target each tenant runs on (the stack's default target is eu-1). */
const targetOf = (id: string) => (FLEET.tenants.find((t) => t.id === id) as { target?: string }).target ?? "eu-1";

let run: FleetRun;
before(async () => {
    run = await runFleet({ tenants: FLEET });
});

const tenantOf = (resource: Registration) => resource.inputs.labels?.find((l: { label: string }) => l.label === "n8n-fleet.tenant")?.value;
const containersOf = (id: string) => run.ofType(TYPES.container).filter((c) => tenantOf(c) === id);
const roleOf = (resource: Registration) => resource.inputs.labels?.find((l: { label: string }) => l.label === "n8n-fleet.role")?.value;
/** A target's host agents (its guard, its envelope keeper): children of the target's DockerHost, of no tenant. */
const isHostGuard = (c: Registration) => c.parent.includes("$n8n-fleet:index:DockerHost::");
const hostGuard = (target: string) => run.named(`${target}-host-guard`);
const envelopeKeeper = (target: string) => run.named(`${target}-envelopes`);
/** The containers of the tenants: all but the hosts' agents. */
const tenantContainers = () => run.ofType(TYPES.container).filter((c) => !isHostGuard(c));
/** The tenant's files writer: the only container given files (as uploads), which it copies into each container's run volume. */
const writerOf = (id: string) => run.ofType(TYPES.container).find((c) => tenantOf(c) === id && roleOf(c) === "files-writer") as Registration;
/** The file a container sees at `path` (its files writer stages it; the harness follows the container's run volume mounts). */
const fileOf = (c: Registration, path: string): FileUpload | undefined => filesOf(c).find((u) => u.file === path);
/** A container's volumes but its run volume (its files, mounted read-only: checked under "limits and hardening"). */
const dataVolumesOf = (c: Registration) => ((c.inputs.volumes ?? []) as { volumeName: string }[]).filter((v) => v.volumeName !== `${c.name}-run`);
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
        for (const c of tenantContainers()) {
            const networks = (c.inputs.networksAdvanced ?? []) as { name: string }[];
            // On no network at all (the volume owners and files writer one-shots): said outright, or Docker would put it on its default bridge.
            if (networks.length === 0) assert.equal(c.inputs.networkMode, "none", `${c.name} is on no network of its tenant, so on Docker's default bridge`);
            for (const network of networks) {
                assert.ok(network.name.startsWith(`${tenantOf(c)}-`), `${c.name} is attached to ${network.name}`);
            }
        }
        // The only containers of no tenant: per target, a host guard on the host's own network and an envelope keeper on none.
        assert.deepEqual(run.ofType(TYPES.container).filter((c) => tenantOf(c) === undefined).map((c) => c.name).sort(), ["eu-1-envelopes", "eu-1-host-guard", "us-1-envelopes", "us-1-host-guard"]);
        for (const target of ["eu-1", "us-1"]) {
            assert.equal(hostGuard(target).inputs.networkMode, "host");
            assert.equal(hostGuard(target).inputs.networksAdvanced, undefined);
            assert.equal(envelopeKeeper(target).inputs.networkMode, "none");
            assert.equal(envelopeKeeper(target).inputs.networksAdvanced, undefined);
        }
    });

    test("each tenant network is a bridge of a fixed name, which the host guard of the tenant's target (and no other) has rules for", () => {
        const bridges = new Set<string>();
        for (const id of IDS) {
            for (const network of [run.named(`${id}-backend`), run.named(`${id}-egress`)]) {
                const bridge = network.inputs.options?.["com.docker.network.bridge.name"] as string;
                assert.match(bridge, /^n8f[0-9a-f]{12}$/, `${network.name}: a Linux interface name (at most 15 characters)`);
                bridges.add(bridge);
                // A fixed name: the old network must be gone before a new one takes its name.
                assert.equal(network.deleteBeforeReplace, true, network.name);
                for (const target of ["eu-1", "us-1"]) {
                    const rules = envOf(hostGuard(target)).GUARD_RULES.split("\n").map((line) => line.split(" ")[0]);
                    assert.equal(rules.includes(bridge), target === targetOf(id), `${network.name} in the rules of ${target}'s guard`);
                }
            }
        }
        assert.equal(bridges.size, IDS.length * 2, "each network its own bridge");
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
        for (const c of tenantContainers()) assert.ok(isSecretValue(c.rawInputs.envs), `${c.name} sends its environment in plain text`);
        // The host guards' environment is derived from no secret: chain names, address rules and the guard's script
        // (in the environment: its root file system is read-only, so it gets no upload). No generated secret
        // appears in any plain input (below).
        for (const target of ["eu-1", "us-1"]) {
            assert.deepEqual(Object.keys(envOf(hostGuard(target))).sort(), ["GUARD_BLOCKED", "GUARD_DIGEST", "GUARD_FORWARD_CHAIN", "GUARD_INPUT_CHAIN", "GUARD_RULES", "GUARD_SCRIPT"], target);
        }
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
        // The uid each image's process reads its files as: n8n's node, the postgres and redis images' users (999, also the backup containers' "999:999"), the runners image's (1000).
        const readerOf = (c: Registration) =>
            roleOf(c) === "runner" ? "1000" : ({ "1000:1000": "1000", "999:999": "999", redis: "999", postgres: "999", "0:0": "0" })[(c.inputs.user as string | undefined) ?? "postgres"];
        const generated = new Set<string>();
        // Every file reaches its container through the tenant's files writer, staged under /stage/<container>/;
        // the secret ones are those sent as secrets.
        for (const id of IDS) {
            const writer = writerOf(id);
            (writer.inputs.uploads as FileUpload[]).forEach((upload, i) => {
                if (!isSecretValue((writer.rawInputs.uploads as { content: unknown }[])[i].content)) return;
                const c = run.named(upload.file.split("/")[2]);
                const path = `/run/n8n-fleet/${upload.file.split("/")[3]}`;
                assert.deepEqual(fileOf(c, path), { ...upload, file: path }, `${c.name} does not find ${upload.file} at ${path}`);
                generated.add(String(upload.content).replace(/^requirepass (.*)\n$/, "$1"));
                assert.equal(upload.permissions, "0400", `${c.name} ${path}`);
                assert.deepEqual([upload.owner, upload.group], [readerOf(c), readerOf(c)], `${c.name} ${path}: owned by the process's user`);
            });
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
                run.ofType(TYPES.container).filter((c) => (c.inputs.networksAdvanced ?? []).some((n: { name: string; aliases?: string[] }) => n.name === `${id}-backend` && n.aliases?.includes(alias)));
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
            assert.deepEqual(redis.inputs.command.slice(0, 2), ["redis-server", "/run/n8n-fleet/redis.conf"]);
            assert.equal(uploadOf(redis, redis.inputs.command[1]), `requirepass ${password}\n`);
            assert.equal(uploadOf(redis, "/run/n8n-fleet/redis-password"), password);
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
            // Before anything of a tenant: its host's guard (healthy once its firewall rules are in place),
            // then the one-shot that gives the backups and files volumes to the users that write them.
            const guard = hostGuard(targetOf(id));
            assert.equal(guard.inputs.wait, true, `${guard.name} is not awaited healthy`);
            for (const c of containersOf(id)) assert.ok(containerDeps(c).includes(urnOf(guard)), `${c.name} may run before the host guard's rules are in place`);
            const keeper = envelopeKeeper(targetOf(id));
            assert.equal(keeper.inputs.wait, true, `${keeper.name} is not awaited healthy`);
            for (const c of containersOf(id)) assert.ok(containerDeps(c).includes(urnOf(keeper)), `${c.name} may run before its envelope holds the tenant's limits`);
            const [owners] = container(id, "volume-owners");
            // Every container given files starts after the one-shot that writes them into its run volume.
            const writer = writerOf(id);
            assert.deepEqual([writer.inputs.attach, writer.inputs.restart, writer.inputs.wait], [true, "no", false], "the files writer is awaited to its end");
            assert.deepEqual(containerDeps(writer), [urnOf(guard), urnOf(keeper)]);
            const [postgres] = container(id, "postgres");
            const [redis] = container(id, "redis");
            const [main] = container(id, "main");
            const preUpgrade = run.named(`${id}-backup-before-n8n-2.41.1`);
            for (const awaited of [postgres, redis, main]) assert.equal(awaited.inputs.wait, true, `${awaited.name} is not awaited healthy`);
            assert.deepEqual(
                [owners.inputs.attach, owners.inputs.restart, owners.inputs.wait],
                [true, "no", false],
                "the volume owners one-shot is awaited to its end",
            );
            assert.deepEqual(containerDeps(owners), [urnOf(guard), urnOf(keeper)]);
            for (const store of [postgres, redis]) assert.deepEqual(containerDeps(store).sort(), [urnOf(guard), urnOf(keeper), urnOf(writer)].sort(), store.name);
            assert.deepEqual(
                [preUpgrade.inputs.attach, preUpgrade.inputs.restart, preUpgrade.inputs.command.slice(1)],
                [true, "no", ["once", "before-n8n-2.41.1"]],
                "the backup before this version is a one-shot awaited to its end",
            );
            assert.deepEqual(containerDeps(preUpgrade).sort(), [urnOf(guard), urnOf(keeper), urnOf(writer), urnOf(owners), urnOf(postgres)].sort());
            assert.deepEqual(containerDeps(run.named(`${id}-backup`)).sort(), [urnOf(guard), urnOf(keeper), urnOf(writer), urnOf(owners), urnOf(postgres), urnOf(preUpgrade)].sort());
            assert.deepEqual(containerDeps(main).sort(), [urnOf(guard), urnOf(keeper), urnOf(writer), urnOf(owners), urnOf(postgres), urnOf(preUpgrade), urnOf(redis)].sort());
            const workers = container(id, "worker");
            for (const worker of workers) {
                assert.deepEqual(containerDeps(worker).sort(), [urnOf(guard), urnOf(keeper), urnOf(writer), urnOf(owners), urnOf(postgres), urnOf(preUpgrade), urnOf(redis), urnOf(main)].sort(), `${worker.name} may start before the main has migrated`);
            }
            container(id, "runner").forEach((runner, i) => assert.deepEqual(containerDeps(runner).sort(), [urnOf(guard), urnOf(keeper), urnOf(writer), urnOf(workers[i])].sort()));
        }
    });

    test("the PostgreSQL init script is executed by the image's postgres user, not sourced into the entrypoint's shell", () => {
        for (const id of IDS) {
            const [postgres] = container(id, "postgres");
            const scripts = (writerOf(id).inputs.uploads as FileUpload[]).filter((u) => u.file.startsWith(`/stage/${postgres.name}/`) && u.file.endsWith(".sh"));
            assert.equal(scripts.length, 1, "one init script");
            const upload = fileOf(postgres, `/docker-entrypoint-initdb.d/${scripts[0].file.split("/").pop()}`);
            assert.ok(upload, "the init script is not in the image's init folder");
            // Uploaded files belong to root: the postgres user executes it through the "others" bits.
            assert.equal(parseInt(String(upload.permissions), 8) & 0o005, 0o005, `mode ${upload.permissions}`);
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
    test("every container of a tenant runs in the tenant's envelope, which holds its budget: a CPU weight and a memory limit of its own, no CPU quota, no extra swap", () => {
        for (const id of IDS) {
            const containers = containersOf(id);
            const parents = new Set(containers.map((c) => c.inputs.cgroupParent));
            assert.equal(parents.size, 1, `${id}'s containers are in ${[...parents].join(", ")}`);
            const [parent] = parents;
            assert.match(parent, new RegExp(`^/n8n-fleet-[0-9a-f]{10}/${id}$`));
            for (const c of containers) {
                assert.ok(c.inputs.memory > 0, `${c.name} has no memory limit`);
                assert.equal(c.inputs.memorySwap, c.inputs.memory);
                assert.equal(c.inputs.cpus, undefined, `${c.name} has a CPU quota of its own, which the rest of its tenant's budget could not use`);
                assert.ok(Number.isInteger(c.inputs.cpuShares) && c.inputs.cpuShares >= 2, `${c.name} has no CPU weight`);
            }
            // One-shots (a backup before an upgrade) run for minutes beside the rest and are left out of the split.
            const lasting = containers.filter((c) => !c.inputs.attach);
            assert.ok(lasting.reduce((sum, c) => sum + c.inputs.memory, 0) <= 4 * 1024);
            // The keeper of the tenant's target holds the envelope: the tenant's cgroup, its whole budget (2 CPU, 4 GiB), a PID cap.
            const env = envOf(envelopeKeeper(targetOf(id)));
            assert.equal(`/${env.ENVELOPE_PARENT}/${id}`, parent);
            const [quota, memory, pids] = (env.ENVELOPE_RULES.split("\n").find((line) => line.startsWith(`${id} `)) ?? assert.fail(`no envelope for ${id}`)).split(" ").slice(1).map(Number);
            assert.deepEqual([quota, memory], [200_000, 4 * 1024 ** 3]);
            assert.ok(pids >= 128 * containers.filter((c) => !c.inputs.attach).length, `${id}: pids.max ${pids}`);
        }
        // Another target's keeper has no rule for them, and two fleets (stacks) on one host never share a folder.
        assert.notEqual(envOf(envelopeKeeper("eu-1")).ENVELOPE_PARENT, envOf(envelopeKeeper("us-1")).ENVELOPE_PARENT);
    });

    test("each target's envelope keeper writes the host's cgroups and nothing else: root with DAC_OVERRIDE only, no network, a read-only root", () => {
        for (const target of ["eu-1", "us-1"]) {
            const keeper = envelopeKeeper(target);
            assert.deepEqual([keeper.inputs.user, keeper.inputs.networkMode, keeper.inputs.readOnly], ["0:0", "none", true]);
            assert.deepEqual(keeper.inputs.capabilities, { drops: ["ALL"], adds: ["CAP_DAC_OVERRIDE"] });
            assert.deepEqual(keeper.inputs.mounts, [{ type: "bind", source: "/sys/fs/cgroup", target: "/host/sys/fs/cgroup" }]);
            assert.equal(keeper.inputs.volumes, undefined);
            assert.equal(keeper.deleteBeforeReplace, false, "a new keeper applies the limits before the old one goes");
            assert.match(keeper.inputs.name, /^n8n-fleet-envelopes-[0-9a-f]{10}$/);
            assert.deepEqual([keeper.inputs.restart, keeper.inputs.wait, keeper.inputs.mustRun], ["unless-stopped", true, true]);
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

    test("every container's root file system is read-only, writable only in capped tmpfs that runs nothing; only the files writer, on no network, is given files", () => {
        for (const c of run.ofType(TYPES.container)) {
            const writer = roleOf(c) === "files-writer";
            assert.equal(c.inputs.readOnly, !writer, c.name);
            // Docker writes no upload into a read-only root: every other container's files come on its run volume, mounted read-only.
            if (!writer) assert.equal(c.inputs.uploads, undefined, c.name);
            for (const v of (c.inputs.volumes ?? []) as { volumeName: string; readOnly?: boolean }[]) if (!writer && v.volumeName === `${c.name}-run`) assert.equal(v.readOnly, true, `${c.name} may change its own files`);
            for (const [path, options] of Object.entries((c.inputs.tmpfs ?? {}) as Record<string, string>)) {
                assert.match(options, /(^|,)noexec(,|$)/, `${c.name} ${path}`);
                assert.match(options, /(^|,)size=\d+m(,|$)/, `${c.name} ${path}: not capped`);
            }
        }
        for (const id of IDS) {
            const writer = writerOf(id);
            assert.deepEqual([writer.inputs.networkMode, writer.inputs.networksAdvanced, writer.inputs.ports], ["none", undefined, undefined]);
            assert.deepEqual(writer.inputs.envs, []);
            // It mounts the run volumes only (nothing the tenant wrote): each container's, where it writes that container's files.
            for (const v of writer.inputs.volumes as { volumeName: string; containerPath: string }[]) assert.equal(v.containerPath, `/out/${v.volumeName.replace(/-run$/, "")}`, writer.name);
            const read = containersOf(id).flatMap((c) => ((c.inputs.volumes ?? []) as { volumeName: string }[]).filter((v) => c !== writer && v.volumeName === `${c.name}-run`).map((v) => v.volumeName));
            assert.deepEqual((writer.inputs.volumes as { volumeName: string }[]).map((v) => v.volumeName).sort(), [...new Set(read)].sort(), `${writer.name} writes every run volume a container reads, and no other`);
        }
    });

    test("each target's host guard is root on the host's network with only the capabilities its firewall rules need, limited, awaited healthy", () => {
        for (const target of ["eu-1", "us-1"]) {
            const guard = hostGuard(target);
            assert.deepEqual([guard.inputs.user, guard.inputs.networkMode], ["0:0", "host"]);
            assert.deepEqual(guard.inputs.capabilities, { drops: ["ALL"], adds: ["CAP_NET_ADMIN", "CAP_NET_RAW"] });
            assert.ok(guard.inputs.memory > 0 && guard.inputs.memorySwap === guard.inputs.memory && Number(guard.inputs.cpus) > 0, `${guard.name} is not limited`);
            assert.deepEqual([guard.inputs.restart, guard.inputs.wait, guard.inputs.mustRun], ["unless-stopped", true, true]);
            assert.ok(guard.inputs.healthcheck.tests.length > 1, `${guard.name} has no healthcheck`);
            assert.ok(guard.inputs.waitTimeout > 0);
        }
    });

    test("every container rotates its logs, restarts unless stopped, forbids new privileges and names its tenant and fleet", () => {
        const guards = run.ofType(TYPES.container).filter(isHostGuard);
        assert.equal(guards.length, 4, "one host guard and one envelope keeper per target");
        for (const c of run.ofType(TYPES.container)) {
            assert.equal(c.inputs.restart, c.inputs.attach ? "no" : "unless-stopped", c.name);
            assert.deepEqual(c.inputs.securityOpts, ["no-new-privileges:true"]);
            // The local driver rotates by itself; options would be merged with the host's daemon.json and read back changed.
            assert.equal(c.inputs.logDriver, "local");
            assert.equal(c.inputs.logOpts, undefined);
            // A host agent belongs to no tenant: its labels name the fleet and its role only.
            if (isHostGuard(c)) assert.deepEqual(c.inputs.labels, [{ label: "n8n-fleet.fleet", value: "n8n-fleet/test" }, { label: "n8n-fleet.role", value: c.name.endsWith("-envelopes") ? "envelopes" : "host-guard" }], c.name);
            else assert.ok(IDS.includes(tenantOf(c)), c.name);
            assert.ok(c.inputs.labels.some((l: { label: string; value: string }) => l.label === "n8n-fleet.fleet" && l.value === "n8n-fleet/test"));
            if (!c.inputs.attach) assert.ok(c.inputs.healthcheck.tests.length > 1, `${c.name} has no healthcheck`);
        }
    });
});

describe("state that must survive", () => {
    test("volumes, passwords and keys are protected; containers, networks and images are not", () => {
        // A container's run volume holds no data, only its files, which the files writer writes again: replaced freely.
        const isRunVolume = (r: Registration) => r.type === TYPES.volume && roleOf(r) === "run";
        for (const r of run.resources) {
            const stateful = (r.type === TYPES.volume && !isRunVolume(r)) || r.type === TYPES.password;
            assert.equal(r.protect, stateful, `${r.type} ${r.name} protect=${r.protect}`);
        }
        // One run volume per container given files, named after it.
        const runVolumes = run.resources.filter(isRunVolume).map((r) => r.name).sort();
        assert.deepEqual(runVolumes, tenantContainers().filter((c) => roleOf(c) !== "files-writer" && c.inputs.volumes?.some((v: { volumeName: string }) => v.volumeName === `${c.name}-run`)).map((c) => `${c.name}-run`).sort());
        assert.ok(runVolumes.includes("acme-n8n-run"));
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
            // The volume owners and files writer one-shots, and the host guard (it exits on SIGTERM, leaving its rules in place), stop at once.
            const floor = { postgres: 60, redis: 30, runner: 40, main: 0, worker: 0, backup: 10, "volume-owners": 10, "files-writer": 10, "host-guard": 10, envelopes: 10 }[role as string] ?? Infinity;
            assert.ok(c.inputs.destroyGraceSeconds >= floor, `${c.name}: ${c.inputs.destroyGraceSeconds} s`);
        }
    });

    test("containers are replaced by deleting first, because their names and ports are fixed", () => {
        for (const c of tenantContainers()) {
            // The files writer's Docker name follows what it writes: a new writer writes the files before the old one goes.
            if (roleOf(c) === "files-writer") {
                assert.equal(c.deleteBeforeReplace, false, c.name);
                assert.match(c.inputs.name, new RegExp(`^${c.name}-[0-9a-f]+$`));
                continue;
            }
            assert.equal(c.deleteBeforeReplace, true, c.name);
            assert.equal(c.inputs.name, c.name);
        }
        // The host guard's Docker name follows its rules, so its replacement is created (and its rules
        // applied) before the old one goes: no moment without rules.
        for (const target of ["eu-1", "us-1"]) {
            const guard = hostGuard(target);
            assert.equal(guard.deleteBeforeReplace, false, guard.name);
            assert.match(guard.inputs.name, /^n8n-fleet-host-guard-[0-9a-f]+$/);
        }
        assert.notEqual(hostGuard("eu-1").inputs.name, hostGuard("us-1").inputs.name, "guards with different rules have different names");
    });

    test("backups go to a volume of the tenant's own; the backup containers read n8n's files without being able to change them", () => {
        for (const id of IDS) {
            for (const name of [`${id}-backup`, `${id}-backup-before-n8n-2.41.1`]) {
                const backup = run.named(name);
                assert.deepEqual(dataVolumesOf(backup), [
                    { volumeName: `${id}-backups`, containerPath: "/backups" },
                    { volumeName: `${id}-n8n-data`, containerPath: "/n8n-data", readOnly: true },
                    { volumeName: `${id}-n8n-files`, containerPath: "/n8n-user-files", readOnly: true },
                ]);
                assert.deepEqual(backup.inputs.networksAdvanced.map((n: { name: string }) => n.name), [`${id}-backend`], "the internal network only");
                // The postgres image's own user, never root, with no capability: it reads files the tenant's code wrote.
                assert.equal(backup.inputs.user, "999:999");
                assert.deepEqual(backup.inputs.capabilities, { drops: ["ALL"] });
            }
            // What lets them write the backups volume as that user: a one-shot that gives the volumes' folders
            // to their writers, root with CHOWN and FOWNER only, on no network, given no file and no secret.
            const [owners] = container(id, "volume-owners");
            assert.deepEqual(owners.inputs.volumes, [
                { volumeName: `${id}-backups`, containerPath: "/backups" },
                { volumeName: `${id}-n8n-files`, containerPath: "/n8n-user-files" },
            ]);
            assert.deepEqual([owners.inputs.user, owners.inputs.networkMode, owners.inputs.networksAdvanced], ["0:0", "none", undefined]);
            assert.deepEqual(owners.inputs.capabilities, { drops: ["ALL"], adds: ["CAP_CHOWN", "CAP_FOWNER"] });
            assert.deepEqual([owners.inputs.uploads, owners.inputs.envs], [undefined, []]);
            assert.equal(owners.inputs.readOnly, true);
            assert.equal(owners.inputs.image, run.named(`${id}-postgres`).inputs.image, "the postgres image, whose user 999 the backups run as");
            assert.match(owners.inputs.command.join(" "), /chown -R -P 999:999 \/backups/);
            // Fixed limits: a new budget does not replace it.
            assert.deepEqual([owners.inputs.memory, owners.inputs.cpuShares], [64, 256]);
        }
    });

    test("PostgreSQL, Redis and n8n keep their data on the tenant's own volumes", () => {
        for (const id of IDS) {
            assert.deepEqual(dataVolumesOf(container(id, "postgres")[0]), [{ volumeName: `${id}-postgres-data`, containerPath: "/var/lib/postgresql/data" }]);
            assert.deepEqual(dataVolumesOf(container(id, "redis")[0]), [{ volumeName: `${id}-redis-data`, containerPath: "/data" }]);
            for (const role of ["main", "worker"]) {
                for (const c of container(id, role)) {
                    assert.deepEqual(dataVolumesOf(c), [
                        { volumeName: `${id}-n8n-data`, containerPath: "/home/node/.n8n" },
                        // The folder workflows read and write files in, on a volume of its own (in the backups too).
                        { volumeName: `${id}-n8n-files`, containerPath: "/home/node/.n8n-files" },
                    ]);
                    assert.equal(envOf(c).N8N_RESTRICT_FILE_ACCESS_TO, "/home/node/.n8n-files", `${c.name}: n8n's file nodes reach the files volume only`);
                }
            }
        }
    });

    test("resource names are the tenant id and stable names derived from it", () => {
        const acme = run.resources.filter((r) => r.parent.endsWith("::acme")).map((r) => r.name).sort();
        assert.deepEqual(acme, [
            "acme-backend",
            "acme-backup",
            "acme-backup-before-n8n-2.41.1",
            "acme-backup-before-n8n-2.41.1-run",
            "acme-backup-run",
            "acme-backups",
            "acme-database-password",
            "acme-egress",
            "acme-encryption-key",
            "acme-files",
            "acme-n8n",
            "acme-n8n-data",
            "acme-n8n-files",
            "acme-n8n-run",
            "acme-n8n-worker-1",
            "acme-n8n-worker-1-run",
            "acme-n8n-worker-1-runner",
            "acme-n8n-worker-1-runner-run",
            "acme-postgres",
            "acme-postgres-data",
            "acme-postgres-password",
            "acme-postgres-run",
            "acme-redis",
            "acme-redis-data",
            "acme-redis-password",
            "acme-redis-run",
            "acme-runner-token",
            "acme-volume-owners",
        ]);
        // The host guard is the target's, not a tenant's.
        assert.deepEqual(run.ofType(TYPES.container).filter((r) => r.parent.endsWith("$n8n-fleet:index:DockerHost::eu-1")).map((r) => r.name), ["eu-1-host-guard", "eu-1-envelopes"]);
        assert.deepEqual(run.ofType(TYPES.clientInstance).map((r) => r.name).sort(), [...IDS].sort());
    });
});

describe("images", () => {
    test("one image resource per image and host, shared by the tenants on it, pinned by exact tag", () => {
        const images = run.ofType(TYPES.image);
        const keys = images.map((i) => `${i.parent.split("::").pop()} ${i.inputs.name}`);
        assert.equal(new Set(keys).size, keys.length);
        // n8n, runners, PostgreSQL, Redis, and the host guard's image.
        assert.equal(images.filter((i) => i.parent.endsWith("::eu-1")).length, 5);
        assert.equal(images.filter((i) => i.parent.endsWith("::us-1")).length, 5);
        for (const image of images) {
            if (image.inputs.name === PINNED_HOST_GUARD_IMAGE) assert.match(image.inputs.name, /^docker:\d+\.\d+\.\d+-dind$/, "Docker's dind image by its exact version");
            else assert.match(image.inputs.name, /:\d+\.\d+(\.\d+)?$/);
        }
        // Each guard runs its host's pulled image.
        for (const target of ["eu-1", "us-1"]) {
            const pulled = images.find((i) => i.parent.endsWith(`::${target}`) && i.inputs.name === PINNED_HOST_GUARD_IMAGE);
            assert.ok(pulled && hostGuard(target).dependencies.includes(pulled.urn), `${target}'s guard does not run its pulled ${PINNED_HOST_GUARD_IMAGE}`);
        }
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
        for (const target of ["eu-1", "us-1"]) assert.ok(hostGuard(target).provider.includes(`::${target}-docker::`), `${target}'s guard uses ${hostGuard(target).provider}`);
        assert.ok(usProvider);
    });
});
