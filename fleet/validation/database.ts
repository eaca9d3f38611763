/**
 * A tenant's database: an RDS one needs its target's AWS settings, a region the vendored RDS
 * certificate bundle covers, and a storage ceiling no lower than its start.
 */
import type { TenantSettings } from "../tenants/tenantsSchema";
import { rdsCaRegions } from "../tenants/database";
import { Candidate, FleetSource, Report, origin } from "./candidates";

/** An RDS database needs its target's AWS settings, and a storage ceiling no lower than its start. */
export function checkDatabase({ index, entry, settings }: Candidate, defaults: TenantSettings, source: FleetSource, at: Report): boolean {
    const database = settings.database;
    if (database.kind !== "rds") return true;
    const target = source.targets.get(settings.target ?? "");
    const path = origin(index, entry, defaults, "database", "kind");
    let ok = true;
    if (target?.aws && !rdsCaRegions().has(target.aws.region)) {
        at(
            path,
            `tenant "${entry.id}" has an RDS database in ${target.aws.region}, but fleet/tenants/rds-ca/global-bundle.pem holds no RDS root certificate for that region, so n8n could not verify its TLS. Fix: refresh the bundle from AWS (fleet/tenants/rds-ca/README.md), or place the tenant on a target in another region.`,
        );
        ok = false;
    }
    if (target && !target.aws) {
        at(
            path,
            `tenant "${entry.id}" has an RDS database, but its target "${target.name}" has no aws settings. Fix: add aws { region, vpcId, subnetIds, hostSecurityGroupId } under n8n-fleet:targets.${target.name} in ${source.stackFile}, or use { "kind": "container" }.`,
        );
        ok = false;
    }
    if (database.allocatedStorageGb !== undefined && database.maxAllocatedStorageGb !== undefined && database.maxAllocatedStorageGb < database.allocatedStorageGb) {
        at(
            origin(index, entry, defaults, "database", "maxAllocatedStorageGb"),
            `maxAllocatedStorageGb ${database.maxAllocatedStorageGb} is below allocatedStorageGb ${database.allocatedStorageGb}. Fix: raise maxAllocatedStorageGb to ${database.allocatedStorageGb} or more.`,
        );
        ok = false;
    }
    return ok;
}
