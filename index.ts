import * as pulumi from "@pulumi/pulumi";
import { loadStackFleet } from "./config";
import { DockerHost } from "./components/dockerHost";
import { ClientInstance } from "./components/clientInstance";
import { withoutPromiseStackTraces } from "./components/stackTraces";
import { loadAwsRegions } from "./components/rdsLoader";

const fleet = loadStackFleet();

const instances = withoutPromiseStackTraces(() => {
    // One Docker host per target that runs tenants; each pulls every image its tenants need once.
    const hosts = new Map<string, DockerHost>();
    for (const target of fleet.targets.values()) {
        const onTarget = fleet.tenants.filter((tenant) => tenant.target.name === target.name);
        if (onTarget.length > 0) {
            hosts.set(target.name, new DockerHost(target.name, { target, images: onTarget.flatMap((tenant) => Object.values(tenant.images)), fleet: fleet.fleet, tenants: onTarget }));
        }
    }
    // One AWS provider per region with RDS tenants; @pulumi/aws is not even loaded without them.
    const rdsRegions = fleet.tenants.flatMap((plan) => (plan.database.kind === "rds" ? [plan.database.aws.region] : []));
    const aws = rdsRegions.length > 0 ? loadAwsRegions().awsProviders(rdsRegions) : new Map();
    return fleet.tenants.map((plan) => {
        const host = hosts.get(plan.target.name);
        if (!host) throw new Error(`internal: no Docker host for target ${plan.target.name}`);
        const awsProvider = plan.database.kind === "rds" ? aws.get(plan.database.aws.region) : undefined;
        return { id: plan.id, instance: new ClientInstance(plan.id, { plan, host, fleet: fleet.fleet, awsProvider }) };
    });
});

/** Per tenant: editor URL, host port, target and container names. */
export const tenants = Object.fromEntries(
    instances.map(({ id, instance }) => [id, { url: instance.url, port: instance.port, target: instance.target, containers: instance.containers }]),
);

/** Per tenant, secret: the encryption key to escrow (`pulumi stack output encryptionKeys --show-secrets`). */
export const encryptionKeys = pulumi.secret(Object.fromEntries(instances.map(({ id, instance }) => [id, instance.encryptionKey])));
