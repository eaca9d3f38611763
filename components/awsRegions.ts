/**
 * One AWS provider per region the fleet's RDS tenants use, created once and passed to their
 * components: nothing falls back to the ambient AWS configuration's region.
 */
import * as aws from "@pulumi/aws";
import type { AwsRegionsModule } from "./rdsTypes";

export function awsProviders(regions: readonly string[]): ReadonlyMap<string, aws.Provider> {
    return new Map([...new Set(regions)].map((region) => [region, new aws.Provider(`aws-${region}`, { region: region as aws.Region })]));
}

// What the loader promises of this module (components/rdsTypes.ts), checked where both are known.
void ({ awsProviders } satisfies AwsRegionsModule);
