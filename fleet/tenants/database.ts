/**
 * What a tenant's plan knows of its database: its own PostgreSQL container, or a managed AWS RDS
 * instance with every setting decided from tenants.json and its target's `aws` block, and the RDS
 * certificate bundle its TLS is verified against. The one-shot container that prepares an RDS
 * database is in `fleet/containers/databaseInit.ts`. Plain TypeScript: @pulumi/aws is only loaded
 * by components/rdsDatabase.ts.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RDS_DEFAULTS, RdsDatabaseEntry } from "./tenantsSchema";
import type { AwsTarget } from "../targets/targets";

/** The RDS instance of one tenant, fully decided. */
export interface RdsPlan {
    kind: "rds";
    aws: AwsTarget;
    /** DB instance identifier, unique per account and region: the fleet validates tenant ids across stacks. */
    identifier: string;
    instanceClass: string;
    allocatedStorageGb: number;
    maxAllocatedStorageGb: number;
    engineVersion: string;
    /** Parameter group family of the engine's major version: `postgres17`. */
    parameterGroupFamily: string;
    multiAz: boolean;
    backupRetentionDays: number;
    /** Snapshot RDS takes when the instance is deleted, named from the tenant id. */
    finalSnapshotIdentifier: string;
    /** RDS's master user: creates the database and n8n's role, never given to n8n. */
    masterUser: string;
}

export type DatabasePlan = { kind: "container" } | RdsPlan;

export const RDS_PORT = 5432;

export function planRds(tenantId: string, entry: RdsDatabaseEntry, aws: AwsTarget): RdsPlan {
    const engineVersion = entry.engineVersion ?? RDS_DEFAULTS.engineVersion;
    return {
        kind: "rds",
        aws,
        identifier: `n8n-fleet-${tenantId}`,
        instanceClass: entry.instanceClass ?? RDS_DEFAULTS.instanceClass,
        allocatedStorageGb: entry.allocatedStorageGb ?? RDS_DEFAULTS.allocatedStorageGb,
        maxAllocatedStorageGb: entry.maxAllocatedStorageGb ?? Math.max(RDS_DEFAULTS.maxAllocatedStorageGb, entry.allocatedStorageGb ?? 0),
        engineVersion,
        parameterGroupFamily: `postgres${engineVersion.split(".")[0]}`,
        multiAz: entry.multiAz ?? RDS_DEFAULTS.multiAz,
        backupRetentionDays: entry.backupRetentionDays ?? RDS_DEFAULTS.backupRetentionDays,
        finalSnapshotIdentifier: `n8n-fleet-${tenantId}-final`,
        masterUser: "fleet_admin",
    };
}

/** Where RDS's certificate authorities are, in every container that talks to an RDS instance. */
// In the folder n8n-fleet owns in each container (FLEET_FILES_DIR of fleet/containers/containerSpec.ts).
const RDS_CA_PATH = "/run/n8n-fleet/rds-global-bundle.pem";

let caBundle: string | undefined;

/**
 * AWS's RDS global certificate bundle (fleet/tenants/rds-ca/, with its source and how to refresh it), as
 * a file for the containers. Read on first use: fleets without RDS never need it.
 */
export function rdsCaBundle(): { path: string; content: string; mode: string } {
    caBundle ??= readFileSync(join(__dirname, "rds-ca", "global-bundle.pem"), "utf8");
    return { path: RDS_CA_PATH, content: caBundle, mode: "0444" };
}

/**
 * The AWS regions whose RDS root certificates the bundle holds ("Amazon RDS eu-west-1 Root CA
 * RSA2048 G1"): an instance elsewhere would fail n8n's certificate check.
 */
export function rdsCaRegions(): ReadonlySet<string> {
    const pems = rdsCaBundle().content.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    const regions = pems.flatMap((pem) => /CN=Amazon RDS ([a-z]{2}(?:-[a-z]+)+-\d) Root CA/.exec(new X509Certificate(pem).subject.replace(/\n/g, ","))?.[1] ?? []);
    return new Set(regions);
}
