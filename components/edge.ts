import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as command from "@pulumi/command";
import type { Target, EdgeSettings } from "../fleet/targets/targets";
import type { TenantPlan } from "../fleet/tenants/plan";
import { EDGE_CONNECT_SCRIPT, EDGE_DISCONNECT_SCRIPT, EDGE_NAMES, EdgeContainerSpec, dockerCliEnvironment, edgeContainer, edgeRoutesContainer } from "../fleet/containers/edge";
import { LABELS } from "../fleet/containers/labels";
import { tmpfsOptions } from "../fleet/containers/containerSpec";
import { stableCpus } from "../fleet/forms/dockerForms";
import type { DockerHost } from "./dockerHost";

/** A tenant behind the edge: its plan, its edge network and its main (absent while archived). */
export interface EdgeTenant {
    plan: TenantPlan;
    network: docker.Network | undefined;
    main: docker.Container | undefined;
}

/** Arguments of {@link TargetEdge}. */
export interface TargetEdgeArgs {
    target: Target & { edge: EdgeSettings };
    host: DockerHost;
    tenants: readonly EdgeTenant[];
    /** Label value that names the fleet, such as `n8n-fleet/dev`. */
    fleet: string;
    /** Host names with the operator's own certificate (validated), and the secret PEM texts by host name. */
    operatorDomains: readonly string[];
    certificates: pulumi.Output<Record<string, { certificate: string; key: string }>>;
}

/**
 * The HTTPS edge of one target (see fleet/containers/edge.ts for why it is built this way): its
 * network and volumes, the Caddy container, a network connection per tenant, and the one-shot
 * that hands it the routes. Resource name: the target name.
 */
export class TargetEdge extends pulumi.ComponentResource {
    public readonly container: pulumi.Output<string>;

    constructor(name: string, args: TargetEdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("n8n-fleet:index:TargetEdge", name, {}, { ...opts, providers: [args.host.provider] });
        const child: pulumi.CustomResourceOptions = { parent: this };
        const labels = (role: string) => [
            { label: LABELS.fleet, value: args.fleet },
            { label: LABELS.role, value: role },
        ];
        // Certificates and ACME account keys outlive every edge container; so does the last configuration.
        const keep: pulumi.CustomResourceOptions = { parent: this, protect: true };
        const network = new docker.Network(`${name}-edge-network`, { name: EDGE_NAMES.network, labels: labels("edge") }, child);
        const volumes = new Map<string, docker.Volume>(
            Object.entries(EDGE_NAMES.volumes).map(([role, volumeName]) => [volumeName, new docker.Volume(`${name}-${volumeName}`, { name: volumeName, labels: labels(`edge-${role}`) }, role === "admin" || role === "certs" ? child : keep)]),
        );
        const volumeName = (n: string) => volumes.get(n)?.name ?? n;

        const declare = (spec: EdgeContainerSpec, networks: docker.Network[], dependsOn: pulumi.Input<pulumi.Resource>[], extra: pulumi.CustomResourceOptions = {}) =>
            new docker.Container(
                `${name}-${spec.name}`,
                {
                    name: spec.name,
                    image: args.host.imageId(spec.image),
                    command: spec.command,
                    envs: Object.entries(spec.environment).map(([k, v]) => `${k}=${v}`),
                    networksAdvanced: networks.length > 0 ? networks.map((n) => ({ name: n.name })) : undefined,
                    volumes: spec.volumes.map((v) => ({ volumeName: volumeName(v.volumeName), containerPath: v.containerPath, readOnly: v.readOnly })),
                    uploads: spec.files.length + spec.secretFiles.length === 0 ? undefined : [
                        ...spec.files.map((f) => ({ file: f.path, content: f.content, permissions: f.mode })),
                        // Readable by the edge's user (root) only; marked secret.
                        ...spec.secretFiles.map((f) => ({ file: f.path, content: pulumi.secret(args.certificates.apply((all) => all[f.domain][f.part])), permissions: "0400", owner: "0", group: "0" })),
                    ],
                    ports: spec.ports.length > 0 ? spec.ports : undefined,
                    memory: spec.memoryMb,
                    memorySwap: spec.memoryMb,
                    cpus: stableCpus(spec.cpus),
                    restart: spec.runsOnce ? "no" : "unless-stopped",
                    start: true,
                    mustRun: !spec.runsOnce,
                    attach: spec.runsOnce ? true : undefined,
                    logs: spec.runsOnce ? true : undefined,
                    destroyGraceSeconds: spec.stopGraceSeconds,
                    stopTimeout: spec.stopGraceSeconds,
                    readOnly: spec.readOnlyRoot,
                    tmpfs: spec.tmpfs.length > 0 ? Object.fromEntries(spec.tmpfs.map((t) => [t.path, tmpfsOptions(t)])) : undefined,
                    securityOpts: ["no-new-privileges:true"],
                    // The image gives /usr/bin/caddy cap_net_bind_service as a file capability; the kernel refuses
                    // to run a binary whose file capabilities the bounding set lacks, so that one stays.
                    capabilities: { drops: ["ALL"], adds: ["CAP_NET_BIND_SERVICE"] },
                    logDriver: "local",
                    labels: [...labels(spec.runsOnce ? "edge-routes" : "edge")],
                },
                { ...child, deleteBeforeReplace: true, dependsOn, ...extra },
            );

        // Tenant networks are joined below, one by one: `networksAdvanced` would replace the edge at every tenant.
        const edge = declare(edgeContainer(args.target), [network], [...volumes.values()], { ignoreChanges: ["networksAdvanced"] });

        const connections = args.tenants.flatMap(({ plan, network: tenantNetwork, main }) => {
            if (!tenantNetwork) return [];
            return [
                new command.local.Command(
                    `${name}-edge-joins-${plan.id}`,
                    {
                        create: EDGE_CONNECT_SCRIPT,
                        delete: EDGE_DISCONNECT_SCRIPT,
                        environment: pulumi.all([tenantNetwork.name, edge.name]).apply(([networkName, edgeName]) => ({ ...dockerCliEnvironment(args.target), EDGE_NETWORK: networkName, EDGE_CONTAINER: edgeName })),
                        // A new edge container, or a new network, is joined again.
                        triggers: [edge.id, tenantNetwork.id],
                    },
                    { parent: this, deleteBeforeReplace: true, dependsOn: [edge, tenantNetwork, ...(main ? [main] : [])] },
                ),
            ];
        });

        const onTarget = args.operatorDomains.filter((domain) => args.tenants.some((t) => t.plan.domain === domain));
        const routes = declare(edgeRoutesContainer(args.target, args.tenants.map((t) => t.plan), onTarget), [], [edge, ...connections]);
        const loaded = pulumi.all([routes.exitCode, routes.urn]).apply(([exitCode, urn]) => {
            if (exitCode !== undefined && exitCode !== null && exitCode !== 0) {
                throw new pulumi.RunError(
                    `${EDGE_NAMES.routes} exited with status ${exitCode}: the edge of target ${args.target.name} refused its new routes and kept serving the old ones. Why: its output above, or \`docker logs ${EDGE_NAMES.routes}\` on ${args.target.dockerHost}. Fix the cause, then run it again with \`npm run pulumi -- up --replace '${urn}'\`.`,
                );
            }
            return exitCode;
        });

        this.container = edge.name;
        this.registerOutputs({ container: this.container, network: network.name, routesLoaded: loaded });
    }
}
