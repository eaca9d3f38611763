/**
 * Managed RDS PostgreSQL per tenant, AWS providers per region: the program under the mock monitor
 * for a fleet across three targets in two AWS regions, some tenants on RDS.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AWS_REGIONS } from "../fleet/targets/awsRegions";
import { formatProblem } from "../fleet/forms/problems";
import { FileUpload, FleetRun, TYPES, envOf, filesOf, processEnvOf, runFleetInChild } from "./harness/runFleet";
import { isSecretValue } from "./harness/recordingMocks";
import type { Registration } from "./harness/recordingMocks";
import { targetsOf, validate } from "./harness/plans";

const AWS_EU = { region: "eu-west-1", vpcId: "vpc-0a1b2c3d4e5f67890", subnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"], hostSecurityGroupId: "sg-0123456789abcdef0" };
const TARGETS = {
    "eu-1": { dockerHost: "ssh://deploy@eu-1.example.com", publicHost: "eu-1.example.com", acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32 }, aws: AWS_EU },
    "eu-2": { dockerHost: "ssh://deploy@eu-2.example.com", publicHost: "eu-2.example.com", acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32 }, aws: { ...AWS_EU, hostSecurityGroupId: undefined, hostCidrs: ["10.0.2.17/32"] } },
    "us-1": {
        dockerHost: "ssh://deploy@us-1.example.com",
        publicHost: "us-1.example.com", acceptSharedCookies: true,
        capacity: { cpus: 16, memoryGb: 32 },
        aws: { region: "us-east-1", vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0ccccccccccccccc3", "subnet-0ddddddddddddddd4"], hostSecurityGroupId: "sg-0fedcba9876543210" },
    },
};
const RDS_TYPES = {
    instance: "aws:rds/instance:Instance",
    parameterGroup: "aws:rds/parameterGroup:ParameterGroup",
    subnetGroup: "aws:rds/subnetGroup:SubnetGroup",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    snapshot: "aws:rds/snapshot:Snapshot",
    provider: "pulumi:providers:aws",
};

let run: FleetRun;
before(async () => {
    const outcome = await runFleetInChild({
        tenants: {
            tenants: [
                { id: "acme", port: 5701, target: "eu-1", database: { kind: "rds" } },
                { id: "globex", port: 5702, target: "eu-2", database: { kind: "rds", instanceClass: "db.m7g.large", allocatedStorageGb: 50, maxAllocatedStorageGb: 500, engineVersion: "18", multiAz: true, backupRetentionDays: 14 } },
                { id: "initech", port: 5703, target: "us-1", database: { kind: "rds" } },
                { id: "hooli", port: 5704, target: "eu-1" },
            ],
        },
        targets: TARGETS,
    });
    if (!outcome.ok) throw new Error(outcome.error);
    run = outcome.run;
});

const ofTenant = (type: string, id: string) => run.ofType(type).filter((r) => r.name.startsWith(`${id}-`));
const labelOf = (r: Registration, label: string) => r.inputs.labels?.find((l: { label: string }) => l.label === label)?.value;
/** What the tenant's files writer stages for container `c` (`/stage/<container>/<name>`), each with whether it is sent as a secret. */
function stagedFor(c: Registration): { upload: FileUpload; secret: boolean }[] {
    const writer = run.ofType(TYPES.container).find((w) => labelOf(w, "n8n-fleet.tenant") === labelOf(c, "n8n-fleet.tenant") && labelOf(w, "n8n-fleet.role") === "files-writer");
    if (!writer) return [];
    return (writer.inputs.uploads as FileUpload[])
        .map((upload, i) => ({ upload, secret: isSecretValue((writer.rawInputs.uploads as { content: unknown }[])[i].content) }))
        .filter(({ upload }) => upload.file.startsWith(`/stage/${c.name}/`));
}
/** The file container `c` sees at `path`. */
const fileOf = (c: Registration, path: string): FileUpload | undefined => filesOf(c).find((u) => u.file === path);
const one = (type: string, id: string): Registration => {
    const found = ofTenant(type, id);
    assert.equal(found.length, 1, `${id}: ${found.length} ${type}`);
    return found[0];
};

describe("AWS per region", () => {
    test("one AWS provider per region used, each with that region explicitly", () => {
        const providers = run.ofType(RDS_TYPES.provider);
        assert.deepEqual(providers.map((p) => [p.name, p.inputs.region]).sort(), [["aws-eu-west-1", "eu-west-1"], ["aws-us-east-1", "us-east-1"]]);
    });

    test("every AWS resource of a tenant uses its target's regional provider", () => {
        for (const [id, region] of [["acme", "eu-west-1"], ["globex", "eu-west-1"], ["initech", "us-east-1"]]) {
            for (const type of [RDS_TYPES.instance, RDS_TYPES.parameterGroup, RDS_TYPES.subnetGroup, RDS_TYPES.securityGroup, RDS_TYPES.ingress]) {
                for (const r of ofTenant(type, id)) assert.match(r.provider, new RegExp(`::aws-${region}::`), `${r.name} uses ${r.provider}`);
            }
        }
    });
});

describe("the RDS instance", () => {
    test("defaults: PostgreSQL 17 on db.t4g.small, 20 GiB growing to 100, one zone, 7 days of backups", () => {
        const acme = one(RDS_TYPES.instance, "acme").inputs;
        assert.deepEqual(
            { engine: acme.engine, engineVersion: acme.engineVersion, instanceClass: acme.instanceClass, allocatedStorage: acme.allocatedStorage, maxAllocatedStorage: acme.maxAllocatedStorage, multiAz: acme.multiAz, backupRetentionPeriod: acme.backupRetentionPeriod },
            { engine: "postgres", engineVersion: "17", instanceClass: "db.t4g.small", allocatedStorage: 20, maxAllocatedStorage: 100, multiAz: false, backupRetentionPeriod: 7 },
        );
        const globex = one(RDS_TYPES.instance, "globex").inputs;
        assert.deepEqual([globex.instanceClass, globex.allocatedStorage, globex.maxAllocatedStorage, globex.engineVersion, globex.multiAz, globex.backupRetentionPeriod], ["db.m7g.large", 50, 500, "18", true, 14]);
        assert.equal(one(RDS_TYPES.parameterGroup, "globex").inputs.family, "postgres18");
    });

    test("encrypted, undeletable, private, backed up, a named final snapshot, tags copied, no paid extended support, no extra monitoring", () => {
        for (const id of ["acme", "globex", "initech"]) {
            const i = one(RDS_TYPES.instance, id).inputs;
            assert.equal(i.storageEncrypted, true);
            assert.equal(i.deletionProtection, true);
            assert.equal(i.publiclyAccessible, false);
            assert.ok(i.backupRetentionPeriod >= 7);
            assert.equal(i.skipFinalSnapshot, false);
            assert.equal(i.finalSnapshotIdentifier, `n8n-fleet-${id}-final`);
            assert.equal(i.copyTagsToSnapshot, true);
            assert.equal(i.engineLifecycleSupport, "open-source-rds-extended-support-disabled");
            assert.equal(i.performanceInsightsEnabled, false);
            assert.equal(i.monitoringInterval, 0);
            assert.deepEqual(i.tags, { "n8n-fleet:tenant": id, "n8n-fleet:fleet": "n8n-fleet/test" });
        }
    });

    test("its own parameter group forces TLS, its own subnet group spans the target's subnets", () => {
        const instance = one(RDS_TYPES.instance, "acme").inputs;
        const parameters = one(RDS_TYPES.parameterGroup, "acme").inputs;
        assert.deepEqual(parameters.parameters, [{ name: "rds.force_ssl", value: "1" }]);
        assert.equal(instance.parameterGroupName, parameters.name);
        const subnets = one(RDS_TYPES.subnetGroup, "acme").inputs;
        assert.deepEqual(subnets.subnetIds, AWS_EU.subnetIds);
        assert.equal(instance.dbSubnetGroupName, subnets.name);
    });

    test("its own security group admits 5432 from the tenant's Docker host only, never from anywhere", () => {
        const firewall = one(RDS_TYPES.securityGroup, "acme");
        assert.deepEqual(one(RDS_TYPES.instance, "acme").inputs.vpcSecurityGroupIds, [`${firewall.name}-id`]);
        assert.equal(firewall.inputs.vpcId, AWS_EU.vpcId);
        assert.equal(firewall.inputs.ingress, undefined, "no inline rules");
        const rules = (id: string) => ofTenant(RDS_TYPES.ingress, id).map((r) => r.inputs);
        assert.deepEqual(rules("acme").map((r) => [r.securityGroupId, r.ipProtocol, r.fromPort, r.toPort, r.referencedSecurityGroupId, r.cidrIpv4]), [[`${firewall.name}-id`, "tcp", 5432, 5432, AWS_EU.hostSecurityGroupId, undefined]]);
        assert.deepEqual(rules("globex").map((r) => r.cidrIpv4), ["10.0.2.17/32"]);
        for (const rule of run.ofType(RDS_TYPES.ingress)) assert.notEqual(rule.inputs.cidrIpv4, "0.0.0.0/0");
    });

    test("a random master password, as a secret; instance and password protected like the volumes, the parameter group replaceable", () => {
        const instance = one(RDS_TYPES.instance, "acme");
        assert.ok(isSecretValue(instance.rawInputs.password));
        assert.equal(instance.inputs.username, "fleet_admin");
        const password = run.named("acme-rds-master-password");
        for (const r of [instance, password]) assert.equal(r.protect, true, r.name);
        // Replaced on a major upgrade by the new family's group: settings, not data.
        assert.equal(one(RDS_TYPES.parameterGroup, "acme").protect, false);
        assert.equal(instance.inputs.password, password.inputs.length && processEnvOf(run.named("acme-database-init")).POSTGRES_PASSWORD);
    });
});

describe("changes that RDS must be able to apply", () => {
    test("a major version change is carried out: major upgrades allowed, a parameter group per engine family, changes applied at once", () => {
        for (const id of ["acme", "globex"]) {
            const instance = one(RDS_TYPES.instance, id).inputs;
            const parameters = one(RDS_TYPES.parameterGroup, id).inputs;
            assert.deepEqual([instance.allowMajorVersionUpgrade, instance.applyImmediately, instance.autoMinorVersionUpgrade], [true, true, true], id);
            assert.equal(parameters.name, `n8n-fleet-${id}-${parameters.family}`, "a new family is a new group beside the old one, not the same name");
        }
        assert.equal(one(RDS_TYPES.parameterGroup, "globex").inputs.name, "n8n-fleet-globex-postgres18");
    });

    test("an exact minor version is refused with the reason and the major to write; a major version passes", () => {
        const tenants = (engineVersion: string) => JSON.stringify({ tenants: [{ id: "acme", port: 5701, target: "eu-1", database: { kind: "rds", engineVersion } }] });
        const minor = validate(tenants("17.6"), { targets: targetsOf(TARGETS) });
        assert.equal(minor.ok, false);
        if (!minor.ok) assert.match(minor.problems.map(formatProblem).join("\n"), /tenants\[0\]\.database\.engineVersion: "17\.6" pins a minor version, but AWS upgrades minors itself.* Fix: write the major version, "17"/);
        const unknown = validate(tenants("15"), { targets: targetsOf(TARGETS) });
        assert.equal(unknown.ok, false);
        if (!unknown.ok) assert.match(unknown.problems.map(formatProblem).join("\n"), /"15" is not a PostgreSQL major version RDS runs here\. Fix: write "16", "17" or "18"/);
        assert.equal(validate(tenants("18"), { targets: targetsOf(TARGETS) }).ok, true);
    });

    test("a tenant id with two hyphens in a row is refused: RDS refuses them in identifiers", () => {
        const result = validate(JSON.stringify({ tenants: [{ id: "acme--eu", port: 5701, target: "eu-1" }] }), { targets: targetsOf(TARGETS) });
        assert.equal(result.ok, false);
        if (!result.ok) assert.match(result.problems.map(formatProblem).join("\n"), /tenants\[0\]\.id: "acme--eu" has two hyphens in a row.* Fix: use single hyphens, such as "acme-eu"/);
    });

    test("the snapshot before an n8n version carries the moment it was declared, kept by later runs, so returning to a version takes a new one", () => {
        const snapshot = one(RDS_TYPES.snapshot, "acme");
        assert.match(snapshot.inputs.dbSnapshotIdentifier, /^n8n-fleet-acme-before-n8n-2-41-1-\d{8}t\d{6}z$/);
        assert.ok(!snapshot.inputs.dbSnapshotIdentifier.includes("--"));
        assert.deepEqual(snapshot.ignoreChanges, ["dbSnapshotIdentifier"]);
        assert.equal(snapshot.retainOnDelete, true);
    });

    test("an archived RDS tenant keeps its subnet group, security group, rules and parameter group with its instance", async () => {
        const outcome = await runFleetInChild({ tenants: { tenants: [{ id: "acme", port: 5701, target: "eu-1", status: "archived", database: { kind: "rds" } }] }, targets: TARGETS });
        assert.ok(outcome.ok, outcome.ok ? "" : outcome.error);
        const archived = outcome.run;
        for (const type of [RDS_TYPES.instance, RDS_TYPES.subnetGroup, RDS_TYPES.securityGroup, RDS_TYPES.ingress, RDS_TYPES.parameterGroup]) {
            const found = archived.ofType(type).filter((r) => r.name.startsWith("acme-"));
            assert.ok(found.length > 0, type);
            for (const r of found) assert.equal(r.retainOnDelete, true, `${r.name} would be deleted while the kept instance uses it`);
        }
    });
});

describe("the tenant's containers", () => {
    test("no PostgreSQL container, volume or superuser password for an RDS tenant; the container tenant keeps its own", () => {
        for (const id of ["acme", "globex", "initech"]) {
            assert.throws(() => run.named(`${id}-postgres`));
            assert.throws(() => run.named(`${id}-postgres-data`));
            assert.throws(() => run.named(`${id}-postgres-password`));
        }
        run.named("hooli-postgres");
        run.named("hooli-postgres-data");
        assert.equal(ofTenant(RDS_TYPES.instance, "hooli").length, 0);
    });

    test("an RDS tenant's n8n files are backed up by a sidecar of its own into its own volume, without any database password", () => {
        for (const id of ["acme", "globex", "initech"]) {
            const sidecar = run.named(`${id}-backup`);
            const env = envOf(sidecar);
            assert.equal(env.DATABASE_IN, "rds");
            assert.equal(env.PGPASSWORD_FILE, undefined);
            // Its scripts only.
            assert.ok(stagedFor(sidecar).length > 0, `${id}-backup gets no file`);
            assert.deepEqual(stagedFor(sidecar).filter(({ upload, secret }) => secret || upload.owner !== undefined), [], "no secret file");
            // n8n's data folder and the workflows' files folder, both read-only; its run volume (its scripts), read-only.
            assert.deepEqual(
                sidecar.inputs.volumes.map((v: { volumeName: string; readOnly?: boolean }) => [v.volumeName, v.readOnly === true]),
                [[`${id}-backups`, false], [`${id}-n8n-data`, true], [`${id}-n8n-files`, true], [`${id}-backup-run`, true]],
            );
            run.named(`${id}-backups`);
            // As for a container tenant: the postgres image's user, with no capability, after the one-shot that gives it the backups volume.
            assert.deepEqual([sidecar.inputs.user, sidecar.inputs.capabilities], ["999:999", { drops: ["ALL"] }]);
            assert.ok(sidecar.dependencies.includes(run.named(`${id}-volume-owners`).urn), `${id}-backup may start before its volume's owner is set`);
            // No PostgreSQL volume: redis, n8n, the workflows' files, backups (besides the containers' run volumes, which hold only their files).
            assert.deepEqual(
                ofTenant(TYPES.volume, id).filter((v) => labelOf(v, "n8n-fleet.role") !== "run").map((v) => v.name).sort(),
                [`${id}-backups`, `${id}-n8n-data`, `${id}-n8n-files`, `${id}-redis-data`],
            );
            // RDS snapshots the database before an upgrade: no set is taken before one.
            assert.throws(() => run.named(`${id}-backup-before-n8n-2.41.1`));
        }
    });

    test("n8n reaches the instance as its least-privilege role, over TLS verified against the RDS bundle it is given", () => {
        const main = run.named("acme-n8n");
        const env = envOf(main);
        assert.equal(env.DB_POSTGRESDB_HOST, "n8n-fleet-acme.c0mock0.rds.amazonaws.com");
        assert.equal(env.DB_POSTGRESDB_USER, "acme_user");
        assert.equal(env.DB_POSTGRESDB_SSL_ENABLED, "true");
        assert.equal(env.DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED, "true");
        const ca = fileOf(main, env.DB_POSTGRESDB_SSL_CA_FILE);
        assert.match(ca?.content ?? "", /^-----BEGIN CERTIFICATE-----/);
        assert.deepEqual(envOf(run.named("acme-n8n-worker-1")), env);
        assert.equal(envOf(run.named("hooli-n8n")).DB_POSTGRESDB_SSL_ENABLED, undefined);
    });

    test("a container of the postgres image creates database and role with the master user, retrying until it can, awaited healthy before n8n starts", () => {
        const init = run.named("acme-database-init");
        const env = envOf(init);
        assert.match(init.inputs.image, /^sha256:/);
        assert.equal(env.POSTGRES_USER, "fleet_admin");
        assert.equal(env.PGHOST, "n8n-fleet-acme.c0mock0.rds.amazonaws.com");
        assert.equal(env.PGSSLMODE, "verify-full");
        assert.equal(env.N8N_DB_USER, "acme_user");
        assert.equal(processEnvOf(init).N8N_DB_PASSWORD, processEnvOf(run.named("acme-n8n")).DB_POSTGRESDB_PASSWORD);
        const hooli = run.named("hooli-postgres");
        const hooliScript = stagedFor(hooli).find(({ upload }) => upload.file.endsWith(".sh"));
        const initScript = fileOf(hooli, `/docker-entrypoint-initdb.d/${hooliScript?.upload.file.split("/").pop()}`)?.content;
        assert.ok(initScript, "the container case's init script");
        const staged = stagedFor(init).find(({ upload }) => upload.content === initScript);
        assert.ok(staged, "the same init script as the container case");
        const scriptPath = `/run/n8n-fleet/${staged.upload.file.split("/").pop()}`;
        assert.equal(fileOf(init, scriptPath)?.content, staged.upload.content);
        // The command retries the script until it succeeds, then holds the container's health.
        assert.match(fileOf(init, init.inputs.command[0])?.content ?? "", new RegExp(`until ${scriptPath}; do`));
        assert.deepEqual(init.inputs.networksAdvanced.map((n: { name: string }) => n.name), ["acme-egress"], "the backend network has no route to RDS");
        // A failure stops `pulumi up` at this container after its wait; fixed, it succeeds by itself and the next `up` goes on.
        assert.deepEqual([init.inputs.attach, init.inputs.wait, init.inputs.restart], [undefined, true, "unless-stopped"]);
        assert.match(init.inputs.healthcheck.tests.join(" "), /test -f \/tmp\/n8n-fleet-database-ready/);
        for (const name of ["acme-n8n", "acme-n8n-worker-1"]) assert.ok(run.named(name).dependencies.includes(init.urn), `${name} may start before the database exists`);
    });
});

describe("loading", () => {
    test("@pulumi/aws is loaded for a fleet with an RDS tenant, and never for one without", async () => {
        assert.ok(run.loadedPulumiPackages?.includes("aws"));
        const without = await runFleetInChild({ tenants: { tenants: [{ id: "hooli", port: 5704, target: "eu-1" }] }, targets: TARGETS });
        assert.ok(without.ok);
        assert.ok(without.run.loadedPulumiPackages?.includes("docker"));
        assert.ok(!without.run.loadedPulumiPackages?.includes("aws"), `loaded: ${without.run.loadedPulumiPackages}`);
    });

    test("the region list validation uses is @pulumi/aws's own", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { Region } = require("@pulumi/aws/types/enums") as { Region: Record<string, string> };
        assert.deepEqual([...AWS_REGIONS].sort(), Object.values(Region).sort());
    });
});

describe("validation", () => {
    const problemsOf = (tenants: object[], targets: object) => {
        const result = validate(JSON.stringify({ tenants }), { targets: targetsOf(targets), defaultTarget: Object.keys(targets)[0] });
        assert.ok(!result.ok, "accepted");
        return result.problems.map(formatProblem).join("\n");
    };
    const LOCAL = { local: { dockerHost: "unix:///var/run/docker.sock", publicHost: "localhost", acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32 } } };

    test("an RDS tenant on a target without aws settings is told what to add, and where", () => {
        assert.match(
            problemsOf([{ id: "acme", port: 5701, database: { kind: "rds" } }], LOCAL),
            /tenants\[0\]\.database\.kind: tenant "acme" has an RDS database, but its target "local" has no aws settings\. Fix: add aws \{ region, vpcId, subnetIds, hostSecurityGroupId \} under n8n-fleet:targets\.local in Pulumi\.test\.yaml, or use \{ "kind": "container" \}/,
        );
    });

    test("an RDS tenant in a region the vendored certificate bundle does not cover is told to refresh it", () => {
        const covered = { ...TARGETS["eu-1"], aws: { ...AWS_EU, region: "eu-west-1" } };
        assert.ok(validate(JSON.stringify({ tenants: [{ id: "a", port: 5701, database: { kind: "rds" } }] }), { targets: targetsOf({ x: covered }), defaultTarget: "x" }).ok);
        assert.match(
            problemsOf([{ id: "a", port: 5701, database: { kind: "rds" } }], { x: { ...covered, aws: { ...AWS_EU, region: "ap-southeast-7" } } }),
            /tenant "a" has an RDS database in ap-southeast-7, but fleet\/tenants\/rds-ca\/global-bundle\.pem holds no RDS root certificate for that region.*Fix: refresh the bundle/,
        );
    });

    test("a storage ceiling under the initial storage is refused", () => {
        assert.match(problemsOf([{ id: "a", port: 5701, database: { kind: "rds", allocatedStorageGb: 100, maxAllocatedStorageGb: 50 } }], TARGETS), /database\.maxAllocatedStorageGb: maxAllocatedStorageGb 50 is below allocatedStorageGb 100/);
    });

    test("the aws block: region names, at least two subnets, well-formed ids, and how the host is identified", () => {
        const broken = (aws: object) => {
            try {
                targetsOf({ x: { ...LOCAL.local, aws } });
                return "";
            } catch (error) {
                return (error as Error).message;
            }
        };
        assert.match(broken({ ...AWS_EU, region: "eu-west-9" }), /aws\.region: "eu-west-9" is not an AWS region name\. Fix: use one such as us-east-1/);
        assert.match(broken({ ...AWS_EU, subnetIds: ["subnet-0aaaaaaaaaaaaaaa1"] }), /aws\.subnetIds: .* is too short a list\. Fix: list the subnet ids .* in at least two availability zones/);
        assert.match(broken({ ...AWS_EU, vpcId: "vpc-xyz" }), /aws\.vpcId: .*write a VPC id such as vpc-0a1b2c3d4e5f67890/);
        assert.match(broken({ ...AWS_EU, subnetIds: ["subnet-1", "subnet-0bbbbbbbbbbbbbbb2"] }), /aws\.subnetIds\[0\]: .*subnet id/);
        assert.match(broken({ ...AWS_EU, hostSecurityGroupId: "0123" }), /aws\.hostSecurityGroupId: .*security group id/);
        assert.match(broken({ ...AWS_EU, hostSecurityGroupId: undefined }), /aws: .*Fix: add hostSecurityGroupId .* or hostCidrs/);
        assert.match(broken({ ...AWS_EU, hostSecurityGroupId: undefined, hostCidrs: ["10.0.0.300/32"] }), /aws\.hostCidrs\[0\]: .*IPv4 range/);
    });

    test("hostCidrs never admit 0.0.0.0/0 or a range of that size: the databases admit only their Docker host", () => {
        const refused = (hostCidrs: string[]) => assert.throws(() => targetsOf({ x: { ...LOCAL.local, aws: { ...AWS_EU, hostSecurityGroupId: undefined, hostCidrs } } }), /aws\.hostCidrs\[\d\]: .* admits far more than this host.*never 0\.0\.0\.0\/0.*Fix: write the host's own addresses/);
        refused(["0.0.0.0/0"]);
        refused(["10.0.1.17/32", "0.0.0.0/1"]);
        assert.doesNotThrow(() => targetsOf({ x: { ...LOCAL.local, aws: { ...AWS_EU, hostSecurityGroupId: undefined, hostCidrs: ["10.0.0.0/8", "10.0.1.17/32"] } } }));
    });

    test("every problem of an RDS block at once: a storage ceiling under the start is reported beside a wrong engine version", () => {
        const problems = problemsOf([{ id: "a", port: 5701, database: { kind: "rds", engineVersion: "12", allocatedStorageGb: 100, maxAllocatedStorageGb: 50 } }], TARGETS);
        assert.match(problems, /database\.engineVersion: "12" is not a PostgreSQL major version RDS runs here/);
        assert.match(problems, /database\.maxAllocatedStorageGb: maxAllocatedStorageGb 50 is below allocatedStorageGb 100/);
    });
});
