import * as pulumi from "@pulumi/pulumi";
import { loadStackFleet } from "./config";
import { DockerHost } from "./components/dockerHost";
import { ClientInstance } from "./components/clientInstance";
import { withoutPromiseStackTraces } from "./components/stackTraces";

const fleet = loadStackFleet();

const instances = withoutPromiseStackTraces(() => {
    // One Docker host per target that runs tenants; each pulls every image its tenants need once.
    const hosts = new Map<string, DockerHost>();
    for (const target of fleet.targets.values()) {
        const onTarget = fleet.tenants.filter((tenant) => tenant.target.name === target.name);
        if (onTarget.length > 0) {
            hosts.set(target.name, new DockerHost(target.name, { target, images: onTarget.flatMap((tenant) => Object.values(tenant.images)) }));
        }
    }
    return fleet.tenants.map((plan) => {
        const host = hosts.get(plan.target.name);
        if (!host) throw new Error(`internal: no Docker host for target ${plan.target.name}`);
        return { id: plan.id, instance: new ClientInstance(plan.id, { plan, host, fleet: fleet.fleet }) };
    });
});

/** Per tenant: editor URL, host port, target and container names. */
export const tenants = Object.fromEntries(
    instances.map(({ id, instance }) => [id, { url: instance.url, port: instance.port, target: instance.target, containers: instance.containers }]),
);

/** Per tenant, secret: the encryption key to escrow (`pulumi stack output encryptionKeys --show-secrets`). */
export const encryptionKeys = pulumi.secret(Object.fromEntries(instances.map(({ id, instance }) => [id, instance.encryptionKey])));
