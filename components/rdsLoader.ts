/**
 * @pulumi/aws takes seconds and hundreds of MB to load; a fleet without RDS tenants never loads it.
 * Everything that imports it is reached through these functions, at the moment it is needed.
 */
export function loadRdsDatabase(): typeof import("./rdsDatabase") {
    return require("./rdsDatabase");
}

export function loadAwsRegions(): typeof import("./awsRegions") {
    return require("./awsRegions");
}
