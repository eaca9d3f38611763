import * as pulumi from "@pulumi/pulumi";
import { loadStackFleet } from "./config";
import { DockerHost } from "./components/dockerHost";
import { ClientInstance } from "./components/clientInstance";
import { withoutPromiseStackTraces } from "./components/stackTraces";
import { loadAwsRegions } from "./components/rdsLoader";
import { TargetEdge } from "./components/edge";
import { edgeImage } from "./fleet/tenants/versions";

const fleet = loadStackFleet();

const instances = withoutPromiseStackTraces(() => {
    // One Docker host per target that runs tenants; each pulls every image its tenants need once.
    const hosts = new Map<string, DockerHost>();
    for (const target of fleet.targets.values()) {
        const onTarget = fleet.tenants.filter((tenant) => tenant.target.name === target.name);
        if (onTarget.length > 0) {
            const images = [...onTarget.flatMap((tenant) => Object.values(tenant.images)), ...(target.edge ? [edgeImage()] : [])];
            hosts.set(target.name, new DockerHost(target.name, { target, images, fleet: fleet.fleet, tenants: onTarget }));
        }
    }
    // One AWS provider per region with RDS tenants; @pulumi/aws is not even loaded without them.
    const rdsRegions = fleet.tenants.flatMap((plan) => (plan.database.kind === "rds" ? [plan.database.aws.region] : []));
    const aws = rdsRegions.length > 0 ? loadAwsRegions().awsProviders(rdsRegions) : new Map();
    const placed = fleet.tenants.map((plan) => {
        const host = hosts.get(plan.target.name);
        if (!host) throw new Error(`internal: no Docker host for target ${plan.target.name}`);
        const awsProvider = plan.database.kind === "rds" ? aws.get(plan.database.aws.region) : undefined;
        return { id: plan.id, plan, instance: new ClientInstance(plan.id, { plan, host, fleet: fleet.fleet, awsProvider }) };
    });
    // One HTTPS edge per target that has one and runs tenants, in front of all of them.
    for (const [name, host] of hosts) {
        const target = fleet.targets.get(name);
        if (!target?.edge) continue;
        const behind = placed.filter(({ plan }) => plan.target.name === name).map(({ plan, instance }) => ({ plan, network: instance.edgeNetwork, main: instance.main }));
        new TargetEdge(name, { target: { ...target, edge: target.edge }, host, tenants: behind, fleet: fleet.fleet, operatorDomains: fleet.operatorDomains, certificates: fleet.edgeCertificates });
    }
    return placed;
});

/** Per tenant: editor URL, host port (none behind an edge), host name behind an edge, target and container names. */
export const tenants = Object.fromEntries(
    instances.map(({ id, plan, instance }) => [id, { url: instance.url, port: plan.domain === undefined ? instance.port : undefined, domain: plan.domain, target: instance.target, containers: instance.containers }]),
);

/** Per tenant with an owner, secret: the owner's generated password, to hand to the client (`pulumi stack output ownerPasswords --show-secrets`). */
export const ownerPasswords = pulumi.secret(Object.fromEntries(instances.flatMap(({ id, instance }) => (instance.ownerPassword ? [[id, instance.ownerPassword]] : []))));

/** Per tenant, secret: the encryption key to escrow (`pulumi stack output encryptionKeys --show-secrets`). */
export const encryptionKeys = pulumi.secret(Object.fromEntries(instances.map(({ id, instance }) => [id, instance.encryptionKey])));
