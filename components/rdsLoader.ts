/**
 * @pulumi/aws takes seconds and hundreds of MB to load; a fleet without RDS tenants never loads it.
 * Everything that imports it is reached through these functions, at the moment it is needed, and
 * typed by components/rdsTypes.ts so that type-checking the program never reads its declarations.
 */
import type { AwsRegionsModule, RdsDatabaseModule } from "./rdsTypes";

export function loadRdsDatabase(): RdsDatabaseModule {
    return require("./rdsDatabase");
}

export function loadAwsRegions(): AwsRegionsModule {
    return require("./awsRegions");
}
