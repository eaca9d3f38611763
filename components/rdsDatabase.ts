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

/** RDS snapshot identifiers take letters, digits and hyphens only. */
function snapshotName(identifier: string, suffix: string): string {
    return `${identifier}-${suffix}`.replace(/[^A-Za-z0-9-]/g, "-");
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
        const keep: pulumi.CustomResourceOptions = plan.status === "archived" ? { parent: this, retainOnDelete: true } : { parent: this, protect: true };
        const tags = { "n8n-fleet:tenant": plan.id, "n8n-fleet:fleet": args.fleet };

        const subnets = new aws.rds.SubnetGroup(`${name}-subnets`, { name: database.identifier, subnetIds: database.aws.subnetIds, description: `n8n-fleet ${plan.id}`, tags }, child);

        const firewall = new aws.ec2.SecurityGroup(
            `${name}-firewall`,
            { name: database.identifier, description: `PostgreSQL of n8n-fleet tenant ${plan.id}, from its Docker host only`, vpcId: database.aws.vpcId, tags },
            child,
        );
        const admit = (suffix: string, source: { referencedSecurityGroupId: string } | { cidrIpv4: string }) =>
            new aws.vpc.SecurityGroupIngressRule(
                `${name}-from-${suffix}`,
                { securityGroupId: firewall.id, ipProtocol: "tcp", fromPort: RDS_PORT, toPort: RDS_PORT, description: `target ${plan.target.name}`, tags, ...source },
                child,
            );
        if (database.aws.hostSecurityGroupId) admit("host", { referencedSecurityGroupId: database.aws.hostSecurityGroupId });
        for (const [i, cidr] of (database.aws.hostCidrs ?? []).entries()) admit(`cidr-${i + 1}`, { cidrIpv4: cidr });

        const parameters = new aws.rds.ParameterGroup(
            `${name}-parameters`,
            { name: database.identifier, family: database.parameterGroupFamily, description: `n8n-fleet ${plan.id}: TLS only`, parameters: [{ name: "rds.force_ssl", value: "1" }], tags },
            keep,
        );

        const instance = new aws.rds.Instance(
            name,
            {
                identifier: database.identifier,
                engine: "postgres",
                engineVersion: database.engineVersion,
                autoMinorVersionUpgrade: true,
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

        // Before a new n8n version migrates the database (and once more when archived): a snapshot that outlives its resource.
        const moment = plan.status === "archived" ? "archived" : `before-n8n-${plan.n8nVersion}`;
        const snapshot = new aws.rds.Snapshot(
            `${name}-snapshot-${moment}`,
            { dbInstanceIdentifier: instance.identifier, dbSnapshotIdentifier: snapshotName(database.identifier, moment), tags },
            { parent: this, retainOnDelete: true },
        );

        this.address = pulumi.all([instance.address, snapshot.id]).apply(([address]) => address);
        this.registerOutputs({ address: this.address });
    }
}

// What the loader promises of this module (components/rdsTypes.ts), checked where both are known.
void ({ RdsDatabase } satisfies RdsDatabaseModule);
