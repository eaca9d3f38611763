/**
 * A tenant's managed PostgreSQL on AWS RDS, in its target's region: its own instance, parameter
 * group (TLS forced), subnet group and security group that admits 5432 from the tenant's Docker
 * host only. Loaded only for fleets with an RDS tenant (components/rdsLoader.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { RDS_PORT } from "../fleet/tenants/database";
import type { RdsDatabaseArgs, RdsDatabaseModule } from "./rdsTypes";

export type { RdsDatabaseArgs };

/**
 * A manual snapshot's identifier: letters, digits and single hyphens, unique in the account and
 * region (RDS answers DBSnapshotAlreadyExists otherwise), so it carries the moment it is taken:
 * returning to an n8n version, or archiving a second time, takes a new one.
 */
function snapshotName(identifier: string, moment: string, at: Date): string {
    const stamp = at.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "z").toLowerCase();
    return `${identifier}-${moment}-${stamp}`.replace(/[^A-Za-z0-9-]/g, "-").replace(/-{2,}/g, "-");
}

/** Resource name: `<tenant>-rds`. Pass the region's `aws.Provider` as `provider`. */
export class RdsDatabase extends pulumi.ComponentResource {
    /**
     * Host name n8n and the one-shot database init connect to; known only once the snapshot taken
     * before this n8n version exists, so nothing of that version touches the data before it.
     */
    public readonly address: pulumi.Output<string>;

    constructor(name: string, args: RdsDatabaseArgs, opts: pulumi.ComponentResourceOptions) {
        super("n8n-fleet:index:RdsDatabase", name, {}, opts);
        const { plan, database } = args;
        const child: pulumi.CustomResourceOptions = { parent: this };
        // Like the container volumes: removing or moving the tenant stops the update instead of deleting data;
        // an archived tenant may leave tenants.json, and its instance then stays, no longer managed.
        const archived = plan.status === "archived";
        const keep: pulumi.CustomResourceOptions = archived ? { parent: this, retainOnDelete: true } : { parent: this, protect: true };
        // What the kept instance uses stays with it: AWS refuses to delete a subnet group or security
        // group an instance still uses, and without its ingress rules the kept database is cut off.
        const withInstance: pulumi.CustomResourceOptions = archived ? { parent: this, retainOnDelete: true } : child;
        const tags = { "n8n-fleet:tenant": plan.id, "n8n-fleet:fleet": args.fleet };

        const subnets = new aws.rds.SubnetGroup(`${name}-subnets`, { name: database.identifier, subnetIds: database.aws.subnetIds, description: `n8n-fleet ${plan.id}`, tags }, withInstance);

        const firewall = new aws.ec2.SecurityGroup(
            `${name}-firewall`,
            { name: database.identifier, description: `PostgreSQL of n8n-fleet tenant ${plan.id}, from its Docker host only`, vpcId: database.aws.vpcId, tags },
            withInstance,
        );
        const admit = (suffix: string, source: { referencedSecurityGroupId: string } | { cidrIpv4: string }) =>
            new aws.vpc.SecurityGroupIngressRule(
                `${name}-from-${suffix}`,
                { securityGroupId: firewall.id, ipProtocol: "tcp", fromPort: RDS_PORT, toPort: RDS_PORT, description: `target ${plan.target.name}`, tags, ...source },
                withInstance,
            );
        if (database.aws.hostSecurityGroupId) admit("host", { referencedSecurityGroupId: database.aws.hostSecurityGroupId });
        for (const [i, cidr] of (database.aws.hostCidrs ?? []).entries()) admit(`cidr-${i + 1}`, { cidrIpv4: cidr });

        // One per engine family, named for it: a major upgrade creates the new family's group, moves
        // the instance to it in the same modification (as RDS requires), then deletes the old one.
        // Settings, not data: not protected, so that it can be replaced.
        const parameters = new aws.rds.ParameterGroup(
            `${name}-parameters`,
            {
                name: `${database.identifier}-${database.parameterGroupFamily}`,
                family: database.parameterGroupFamily,
                description: `n8n-fleet ${plan.id}: TLS only`,
                parameters: [{ name: "rds.force_ssl", value: "1" }],
                tags,
            },
            withInstance,
        );

        const instance = new aws.rds.Instance(
            name,
            {
                identifier: database.identifier,
                engine: "postgres",
                // A major version only: AWS upgrades minors itself, and the provider keeps a major
                // prefix as declared (terraform-provider-aws compareActualEngineVersion), while an
                // exact minor would ask RDS for a downgrade after its next minor upgrade.
                engineVersion: database.engineVersion,
                autoMinorVersionUpgrade: true,
                // A major change in tenants.json is carried out (RDS snapshots the instance first
                // when it keeps backups); without this flag RDS refuses it.
                allowMajorVersionUpgrade: true,
                // Class, storage and version changes now, not at the maintenance window, so that
                // `pulumi up` does what the plan said and the next one shows no pending diff.
                applyImmediately: true,
                instanceClass: database.instanceClass,
                allocatedStorage: database.allocatedStorageGb,
                maxAllocatedStorage: database.maxAllocatedStorageGb,
                storageType: "gp3",
                storageEncrypted: true,
                multiAz: database.multiAz,
                username: database.masterUser,
                password: args.masterPassword,
                port: RDS_PORT,
                dbSubnetGroupName: subnets.name,
                vpcSecurityGroupIds: [firewall.id],
                parameterGroupName: parameters.name,
                publiclyAccessible: false,
                deletionProtection: true,
                backupRetentionPeriod: database.backupRetentionDays,
                copyTagsToSnapshot: true,
                skipFinalSnapshot: false,
                finalSnapshotIdentifier: database.finalSnapshotIdentifier,
                deleteAutomatedBackups: false,
                // Paid extended support would keep an end-of-life major running at a price; upgrade instead.
                engineLifecycleSupport: "open-source-rds-extended-support-disabled",
                // Off by default: Performance Insights and Enhanced Monitoring cost extra; turn them on per tenant if needed.
                performanceInsightsEnabled: false,
                monitoringInterval: 0,
                tags,
            },
            keep,
        );

        // Before a new n8n version migrates the database (and once more when archived): a snapshot that
        // outlives its resource. Its identifier carries the time it was first declared, and later
        // runs keep it (ignoreChanges), so one moment is one snapshot.
        const moment = archived ? "archived" : `before-n8n-${plan.n8nVersion}`;
        const snapshot = new aws.rds.Snapshot(
            `${name}-snapshot-${moment}`,
            { dbInstanceIdentifier: instance.identifier, dbSnapshotIdentifier: snapshotName(database.identifier, moment, new Date()), tags },
            { parent: this, retainOnDelete: true, ignoreChanges: ["dbSnapshotIdentifier"] },
        );

        this.address = pulumi.all([instance.address, snapshot.id]).apply(([address]) => address);
        this.registerOutputs({ address: this.address });
    }
}

// What the loader promises of this module (components/rdsTypes.ts), checked where both are known.
void ({ RdsDatabase } satisfies RdsDatabaseModule);
