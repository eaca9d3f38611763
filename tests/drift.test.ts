/**
 * `npm run drift`: the tenants whose resources `pulumi refresh --preview-only --json` found changed
 * or gone outside Pulumi, told from the stack export's parents and never from names, since a name
 * pattern for `acme` also matches `acme-eu`. The export is the program's own registrations for
 * tenants acme and acme-eu; the refresh output has the shape of the CLI's preview digest.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { driftReport, parseRefreshPreview } from "../fleet/review/drift";
import { parseStackExport } from "../fleet/review/offboarding";
import { runFleetInChild, stackExportOf, TYPES } from "./harness/runFleet";
import { writeTempFile } from "./harness/tempFiles";

const PROJECT_ROOT = resolve(__dirname, "..");

let exportText = "";
let exportFile = "";
let urns: string[] = [];
const PROVIDER = "urn:pulumi:prod::n8n-fleet::n8n-fleet:index:DockerHost$pulumi:providers:docker::eu-1-docker::0b4d3a1e-6f0c-4b8e-9d39-2f1f5c0e7a11";

before(async () => {
    const outcome = await runFleetInChild({ tenants: { tenants: [{ id: "acme", port: 5701 }, { id: "acme-eu", port: 5702 }] }, stack: "prod" });
    if (!outcome.ok) throw new Error(outcome.error);
    exportText = JSON.stringify(stackExportOf(outcome.run), null, 4);
    exportFile = writeTempFile("export.json", exportText);
    urns = outcome.run.resources.map((r) => r.urn);
});

/** The URN of the resource with this name, such as `acme-eu-n8n`. */
function urn(name: string): string {
    const found = urns.find((u) => u.endsWith(`::${name}`));
    assert.ok(found, `no resource ${name}`);
    return found;
}

/** A step as the CLI prints it for a resource that a refresh read back unchanged. */
function unchanged(name: string) {
    return { op: "refresh", urn: urn(name), provider: PROVIDER, oldState: { urn: urn(name), custom: true, type: TYPES.container }, detailedDiff: null };
}

/** acme-eu's editor container, read back with another image and environment than the state holds. */
function acmeEuContainerChanged() {
    const state = (image: string, envs: string[]) => ({
        urn: urn("acme-eu-n8n"),
        custom: true,
        id: "5f0c2d9e41b7a8c3",
        type: TYPES.container,
        inputs: { name: "acme-eu-n8n", image: "docker.n8n.io/n8nio/n8n:2.41.1" },
        outputs: { name: "acme-eu-n8n", image, envs },
        parent: urn("acme-eu"),
        provider: PROVIDER,
    });
    return {
        op: "update",
        urn: urn("acme-eu-n8n"),
        provider: PROVIDER,
        oldState: state("sha256:3b1f0c", ["[secret]"]),
        newState: state("sha256:9e77aa", ["[secret]"]),
        diffReasons: ["envs", "image"],
        detailedDiff: { "envs[12]": { kind: "update", inputDiff: false }, image: { kind: "update", inputDiff: false } },
    };
}

/** The refresh's JSON output, with its config, root stack step and summary around the given steps. */
function digest(steps: unknown[], changeSummary: Record<string, number> | undefined, diagnostics: unknown[] = []): string {
    return JSON.stringify(
        {
            config: { "n8n-fleet:tenantsFile": "tenants.json", "n8n-fleet:defaultTarget": "eu-1" },
            steps: [{ op: "refresh", urn: urn("n8n-fleet-prod"), provider: "", oldState: { urn: urn("n8n-fleet-prod"), custom: false, type: "pulumi:pulumi:Stack" }, detailedDiff: null }, ...steps],
            ...(diagnostics.length > 0 ? { diagnostics } : {}),
            duration: 8_312_446_101,
            ...(changeSummary === undefined ? {} : { changeSummary }),
        },
        null,
        4,
    );
}

function drift(...args: string[]) {
    return spawnSync(process.execPath, ["--require", "ts-node/register", join(PROJECT_ROOT, "scripts", "drift.ts"), ...args], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        encoding: "utf8",
    });
}

const driftOf = (refreshJson: string, ...flags: string[]) => drift(writeTempFile("refresh.json", refreshJson), exportFile, ...flags);

test("drift in acme-eu's container names acme-eu, with what drifted, and not acme, and exits 1", () => {
    const result = driftOf(digest([unchanged("acme-n8n"), acmeEuContainerChanged(), unchanged("acme-eu-redis")], { same: 38, update: 1 }));
    assert.equal(result.status, 1, result.stderr);
    assert.equal(
        result.stdout,
        "Drift in stack prod: tenant acme-eu.\n" + "acme-eu:\n" + "  ~ acme-eu-n8n (docker:index/container:Container): changed outside Pulumi: envs, image\n",
    );
});

test("a resource deleted outside Pulumi is reported as deleted, under its own tenant", () => {
    const deleted = { op: "delete", urn: urn("acme-n8n-data"), provider: PROVIDER, oldState: { urn: urn("acme-n8n-data"), custom: true, type: TYPES.volume }, detailedDiff: null };
    const result = driftOf(digest([deleted, acmeEuContainerChanged()], { same: 37, update: 1, delete: 1 }));
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /^Drift in stack prod: tenants acme, acme-eu\.\n/);
    assert.match(result.stdout, /\nacme:\n  - acme-n8n-data \(docker:index\/volume:Volume\): deleted outside Pulumi\n/);
});

test("drift of an image shared by a host's tenants is reported as of no tenant, and names no tenant", () => {
    const image = urns.find((u) => u.includes("remoteImage:RemoteImage::eu-1-image-postgres"));
    assert.ok(image);
    const result = driftOf(digest([{ op: "update", urn: image, provider: PROVIDER, detailedDiff: { repoDigest: { kind: "update", inputDiff: false } } }], { same: 39, update: 1 }));
    assert.equal(result.status, 1, result.stderr);
    assert.equal(
        result.stdout,
        "Drift in stack prod: 1 resource of no tenant.\nno tenant:\n  ~ eu-1-image-postgres:17.7 (docker:index/remoteImage:RemoteImage): changed outside Pulumi: repoDigest\n",
    );
});

test("without drift it prints one all-clear line and exits 0", () => {
    const result = driftOf(digest([unchanged("acme-n8n"), unchanged("acme-eu-n8n")], { same: 40 }));
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, "No drift in stack prod: the refresh preview found every resource as Pulumi left it.\n");
});

test("changes Pulumi counted but named in no step still fail, with the command that shows them", () => {
    const result = driftOf(digest([unchanged("acme-n8n")], { same: 38, update: 2 }));
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /^Drift in stack prod: 2 changes Pulumi did not name\.\n/);
    assert.match(result.stdout, /`pulumi refresh --preview-only --diff --stack prod` shows them/);
});

test("a refresh that did not finish cannot tell drift: exit 2, with the refresh's errors", () => {
    const error = { severity: "error", message: "error: could not connect to the Docker daemon at ssh://deploy@eu-1.example.com: Permission denied (publickey)\n" };
    const result = driftOf(digest([], undefined, [error]));
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stdout, /^Drift in stack prod cannot be told: the refresh preview did not finish\.\n/);
    assert.match(result.stdout, /The refresh reported errors:\n  error: could not connect to the Docker daemon .* Permission denied \(publickey\)\n$/);
});

test("--format markdown gives the job summary a table row per drifted resource", () => {
    const result = driftOf(digest([acmeEuContainerChanged()], { same: 39, update: 1 }), "--format", "markdown");
    assert.equal(result.status, 1, result.stderr);
    assert.equal(
        result.stdout,
        "### Drift in stack prod: tenant acme-eu.\n\n" +
            "| tenant | resource | type | what drifted |\n|---|---|---|---|\n" +
            "| acme-eu | `acme-eu-n8n` | `docker:index/container:Container` | changed outside Pulumi: envs, image |\n",
    );
});

test("files given the wrong way round, engine events instead of the digest, or a wrong command line exit 2 with the reason", () => {
    const refreshFile = writeTempFile("refresh.json", digest([acmeEuContainerChanged()], { same: 39, update: 1 }));
    const swapped = drift(exportFile, refreshFile);
    assert.equal(swapped.status, 2);
    assert.match(swapped.stderr, /is not a refresh preview: it is a stack export\. Fix: pass the refresh preview first/);

    const events = writeTempFile("events.json", '{"sequence":0,"timestamp":1,"preludeEvent":{"config":{}}}\n{"sequence":1,"timestamp":1,"summaryEvent":{}}\n');
    const streamed = drift(events, exportFile);
    assert.equal(streamed.status, 2);
    assert.match(streamed.stderr, /It looks like a stream of engine events: unset PULUMI_ENABLE_STREAMING_JSON_PREVIEW\./);

    for (const args of [[refreshFile], [refreshFile, exportFile, "--format", "html"], [refreshFile, join(PROJECT_ROOT, "no-such-export.json")]]) {
        const result = drift(...args);
        assert.equal(result.status, 2, `${args.join(" ")}: ${result.stderr}`);
        assert.doesNotMatch(result.stderr, /\n\s+at /, "a stack trace was printed");
    }
});

test("a refresh step that carries the changed keys itself, as older CLIs print it, is drift too", () => {
    const preview = parseRefreshPreview(digest([{ op: "refresh", urn: urn("acme-eu-postgres"), diffReasons: ["healthcheck", "labels"], detailedDiff: null }], { same: 39, update: 1 }));
    const state = parseStackExport(exportText);
    assert.ok(preview.ok && state.ok);
    const report = driftReport(preview.value, state.value);
    assert.deepEqual(
        report.tenants.map((t) => ({ tenant: t.tenant, drifted: t.resources.map((r) => `${r.name}: ${r.properties.join(", ")}`) })),
        [{ tenant: "acme-eu", drifted: ["acme-eu-postgres: healthcheck, labels"] }],
    );
    assert.equal(report.unnamedChanges, 0);
});
