/**
 * The Docker test's translation of the program's registrations into Docker Engine API requests
 * (tests/docker/engine.ts) and its only rewrites (tests/docker/rewrites.ts), checked without a
 * daemon on the registrations the program really makes for the Docker test's fleet.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Registration } from "./harness/recordingMocks";
import { TYPES } from "./harness/runFleet";
import { parseCpus } from "../fleet/forms/dockerForms";
import { PINNED, PINNED_HOST_GUARD_IMAGE, tenantImages } from "../fleet/tenants/versions";
import { MIB, goDurationString, imageOf, parseGoDuration, translateContainer, translateNetwork, translateRemoteImage, translateVolume } from "./docker/engine";
import { LOOPBACK, rewriteForThisMachine } from "./docker/rewrites";
import { FLEET, labelOf, registrationsFor } from "./docker/fleetUnderTest";
import { LABELS } from "../fleet/containers/labels";

let registrations: Registration[] = [];
const containers = () => registrations.filter((r) => r.type === TYPES.container);
const named = (name: string) => {
    const found = registrations.find((r) => r.name === name);
    if (!found) throw new Error(`no registration ${name}`);
    return found;
};
const plan = (container: Registration) => translateContainer(container, imageOf(container, registrations));
/** A stand-in for the machine's n8n install, so these tests need none. */
const fakeInstall = (version: string) => [{ source: `/cache/n8n-${version}/node_modules`, target: "/usr/local/lib/node_modules", readOnly: true as const }];

before(async () => {
    registrations = await registrationsFor(FLEET);
});

describe("translating the program's registrations into Docker Engine API requests", () => {
    test("every container, network, volume and image the program declares translates, each container's image resolved through the RemoteImage it depends on", () => {
        const pinned = [...Object.values(tenantImages(PINNED.n8n)), PINNED_HOST_GUARD_IMAGE];
        assert.ok(containers().length >= 12, `the Docker test's fleet declares only ${containers().length} containers`);
        for (const container of containers()) {
            const translated = plan(container);
            assert.equal(translated.name, container.inputs.name);
            assert.ok(pinned.includes(String(translated.create.Image)), `${container.name} runs ${translated.create.Image}, not a pinned reference`);
        }
        for (const r of registrations.filter((r) => r.type === TYPES.network)) assert.equal(translateNetwork(r).Name, r.inputs.name);
        for (const r of registrations.filter((r) => r.type === TYPES.volume)) assert.equal(translateVolume(r).Name, r.inputs.name);
        for (const r of registrations.filter((r) => r.type === TYPES.image)) assert.ok(pinned.includes(translateRemoteImage(r)));
    });

    test("an input the translator does not know fails with its name, at the top level and nested", () => {
        const main = named("alpha-n8n");
        const image = imageOf(main, registrations);
        assert.throws(() => translateContainer({ ...main, inputs: { ...main.inputs, pidMode: "host" } }, image), /container alpha-n8n: the Docker translator does not know input "pidMode"/);
        assert.throws(
            () => translateContainer({ ...main, inputs: { ...main.inputs, healthcheck: { ...main.inputs.healthcheck, startInterval: "5s" } } }, image),
            /does not know input "healthcheck.startInterval"/,
        );
        const backend = named("alpha-backend");
        assert.throws(() => translateNetwork({ ...backend, inputs: { ...backend.inputs, driver: "overlay" } }), /network alpha-backend: the Docker translator does not know input "driver"/);
    });

    test("cpus become NanoCpus exactly as the provider parses them; CPU shares and the cgroup parent go as declared", () => {
        for (const container of containers()) {
            const hostConfig = plan(container).create.HostConfig;
            assert.equal(BigInt(hostConfig?.NanoCpus ?? 0), container.inputs.cpus === undefined ? 0n : parseCpus(container.inputs.cpus), container.name);
            assert.equal(hostConfig?.CpuShares, container.inputs.cpuShares, container.name);
            assert.equal(hostConfig?.CgroupParent, container.inputs.cgroupParent, container.name);
        }
        assert.match(named("alpha-n8n").inputs.cgroupParent, /^\/n8n-fleet-[0-9a-f]{10}\/alpha$/);
        const main = named("alpha-n8n");
        const withCpus = (cpus: string) => translateContainer({ ...main, inputs: { ...main.inputs, cpus } }, "image").create.HostConfig?.NanoCpus;
        assert.equal(withCpus("0.37"), 370_000_000);
        assert.equal(withCpus("1.0"), 1_000_000_000);
        assert.equal(withCpus("2.75"), 2_750_000_000);
    });

    test("health check durations become nanoseconds and format back to the declared Go durations", () => {
        const cases: [string, bigint][] = [["15s", 15_000_000_000n], ["2m0s", 120_000_000_000n], ["1h0m0s", 3_600_000_000_000n], ["1.5s", 1_500_000_000n], ["300ms", 300_000_000n], ["1m30s", 90_000_000_000n]];
        for (const [text, nanoseconds] of cases) {
            assert.equal(parseGoDuration(text), nanoseconds, text);
            assert.equal(goDurationString(nanoseconds), text);
        }
        assert.throws(() => parseGoDuration("120"), /not a Go duration/);
        for (const container of containers().filter((c) => c.inputs.healthcheck)) {
            const healthcheck = plan(container).create.Healthcheck;
            assert.deepEqual(healthcheck?.Test, container.inputs.healthcheck.tests);
            for (const [field, input] of [["Interval", "interval"], ["Timeout", "timeout"], ["StartPeriod", "startPeriod"]] as const) {
                assert.equal(goDurationString(BigInt(healthcheck?.[field] ?? 0)), container.inputs.healthcheck[input], `${container.name} ${input}`);
            }
        }
    });

    test("memory and swap in MB become bytes; a swap of -1 (unlimited) stays -1", () => {
        for (const container of containers()) {
            const host = plan(container).create.HostConfig;
            assert.equal(host?.Memory, container.inputs.memory * MIB, container.name);
            assert.equal(host?.MemorySwap, container.inputs.memorySwap * MIB, container.name);
        }
        const redis = named("alpha-redis");
        assert.equal(translateContainer({ ...redis, inputs: { ...redis.inputs, memorySwap: -1 } }, "image").create.HostConfig?.MemorySwap, -1);
    });

    test("uploads keep their content, with the declared octal permissions, else 0744 when executable and 0644 otherwise", () => {
        // The files writer is the one container given uploads (every other root file system is read-only).
        const writer = named("alpha-files");
        const declared = writer.inputs.uploads.find((u: { file: string }) => u.file === "/stage/alpha-postgres/10-n8n-role.sh");
        const script = plan(writer).uploads.find((u) => u.path === declared.file);
        assert.equal(script?.content.toString("utf8"), declared.content);
        assert.equal(script?.mode, 0o755);
        const withUploads = (uploads: unknown[]) => translateContainer({ ...writer, inputs: { ...writer.inputs, uploads } }, "image").uploads;
        const [executable, plain, encoded] = withUploads([
            { file: "/a", content: "a", executable: true },
            { file: "/b", content: "b" },
            { file: "/c", contentBase64: Buffer.from("secret").toString("base64"), permissions: "0400" },
        ]);
        assert.equal(executable.mode, 0o744);
        assert.equal(plain.mode, 0o644);
        assert.deepEqual([encoded.mode, encoded.content.toString("utf8")], [0o400, "secret"]);
    });

    test("networks: the first is in the create request with its aliases, the others are connected afterwards with theirs", () => {
        const main = plan(named("alpha-n8n"));
        assert.deepEqual(main.create.NetworkingConfig, { EndpointsConfig: { "alpha-backend": { Aliases: ["n8n"] } } });
        assert.deepEqual(main.connect, [{ network: "alpha-egress", aliases: [] }]);
        // Its data volume, and its run volume read-only at each folder where it finds its files.
        assert.deepEqual(plan(named("alpha-postgres")).create.HostConfig?.Binds, [
            "alpha-postgres-data:/var/lib/postgresql/data:rw",
            "alpha-postgres-run:/docker-entrypoint-initdb.d:ro",
            "alpha-postgres-run:/run/n8n-fleet:ro",
        ]);
    });

    test("a suspended tenant's containers are created but neither started nor waited on; an active tenant's are waited on for their declared waitTimeout", () => {
        for (const container of containers()) {
            const { lifecycle } = plan(container);
            // The host agents (guard, envelope keeper) belong to no tenant: they always run, awaited healthy. The one-shots
            // that set a tenant's volume owners and write its containers' files run whatever the tenant's status, awaited to their end.
            const alwaysRuns = ["host-guard", "envelopes", "volume-owners", "files-writer"].includes(labelOf(container, LABELS.role) ?? "");
            const active = labelOf(container, LABELS.status) === "active" || alwaysRuns;
            // The final backup of an archived tenant runs, awaited to its end rather than to health.
            assert.equal(lifecycle.start, active || labelOf(container, LABELS.status) === "archived", container.name);
            assert.equal(lifecycle.waitTimeoutMs, container.inputs.wait ? container.inputs.waitTimeout * 1000 : undefined, container.name);
            assert.equal(lifecycle.destroyGraceSeconds, container.inputs.destroyGraceSeconds, container.name);
        }
    });

    test("a file's declared owner and group become its tar entry's; names are refused, since only numeric ids mean the same everywhere", () => {
        const writer = named("alpha-files");
        const secret = plan(writer).uploads.find((u) => u.path === "/stage/alpha-postgres/postgres-password");
        assert.deepEqual([secret?.mode, secret?.uid, secret?.gid], [0o400, 999, 999]);
        const withName = { ...writer, inputs: { ...writer.inputs, uploads: [{ file: "/x", content: "y", owner: "postgres" }] } };
        assert.throws(() => translateContainer(withName, "image"), /uploads\[0\]\.owner must be a numeric id/);
    });

    test("a one-shot (attach) is awaited to its end, its logs kept when it declares logs", () => {
        const redis = named("alpha-redis");
        const { lifecycle } = translateContainer({ ...redis, inputs: { ...redis.inputs, attach: true, logs: true, mustRun: false } }, "image");
        assert.deepEqual([lifecycle.attach, lifecycle.logs, lifecycle.mustRun], [true, true, false]);
        assert.deepEqual([plan(redis).lifecycle.attach, plan(redis).lifecycle.logs], [false, false]);
    });
});

describe("the rewrites for this machine", () => {
    test("only a published port's address (0.0.0.0 to 127.0.0.1) and, for n8n and runner images, the n8n install mounts change", () => {
        for (const container of containers()) {
            const image = imageOf(container, registrations);
            const { registration, applied } = rewriteForThisMachine(container, image, fakeInstall);
            const isN8n = image.startsWith("docker.n8n.io/n8nio/n8n:") || image.startsWith("n8nio/runners:");
            const changed = Object.keys({ ...container.inputs, ...registration.inputs }).filter((key) => JSON.stringify(container.inputs[key]) !== JSON.stringify(registration.inputs[key]));
            const expected = [...(container.inputs.ports ? ["ports"] : []), ...(isN8n ? ["mounts"] : [])];
            assert.deepEqual(changed.sort(), expected.sort(), `${container.name} changed ${changed.join(", ")}`);
            if (container.inputs.ports) {
                assert.deepEqual(registration.inputs.ports, container.inputs.ports.map((port: Record<string, unknown>) => ({ ...port, ip: LOOPBACK })));
            }
            if (isN8n) {
                assert.deepEqual(registration.inputs.mounts, [{ type: "bind", source: `/cache/n8n-${PINNED.n8n}/node_modules`, target: "/usr/local/lib/node_modules", readOnly: true }]);
            }
            assert.equal(applied.length, expected.length, `${container.name}: ${applied.join("; ")}`);
        }
    });

    test("the declaration itself is left untouched", () => {
        const main = named("alpha-n8n");
        const before = JSON.stringify(main);
        rewriteForThisMachine(main, imageOf(main, registrations), fakeInstall);
        assert.equal(JSON.stringify(main), before);
    });
});
