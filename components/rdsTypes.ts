/**
 * What the program sees of components/rdsDatabase.ts and components/awsRegions.ts, in types that
 * name nothing of @pulumi/aws. ts-node type-checks the program as `pulumi up` loads it, and a type
 * that reaches @pulumi/aws (even `typeof import("./rdsDatabase")`) makes it parse the package's
 * 31 MB of declarations: about 400 MB held for the whole run, RDS tenants or not (README, "How it
 * scales"). Each of the two modules checks that it still matches its description here.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { TenantPlan } from "../fleet/tenants/plan";
import type { RdsPlan } from "../fleet/tenants/database";

/** Arguments of RdsDatabase (components/rdsDatabase.ts). */
export interface RdsDatabaseArgs {
    plan: TenantPlan;
    database: RdsPlan;
    /** The master user's password, generated and kept as a secret by the tenant. */
    masterPassword: pulumi.Input<string>;
    /** Label value that names the fleet, such as `n8n-fleet/dev`; tagged on every resource. */
    fleet: string;
}

/** components/rdsDatabase.ts */
export interface RdsDatabaseModule {
    RdsDatabase: new (name: string, args: RdsDatabaseArgs, opts: pulumi.ComponentResourceOptions) => pulumi.ComponentResource & { readonly address: pulumi.Output<string> };
}

/** components/awsRegions.ts */
export interface AwsRegionsModule {
    awsProviders(regions: readonly string[]): ReadonlyMap<string, pulumi.ProviderResource>;
}
