import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { Target } from "../fleet/targets/targets";
import type { TenantPlan } from "../fleet/tenants/plan";
import { HostGuardSpec, hostGuardContainer } from "../fleet/containers/hostGuard";
import { EnvelopeKeeperSpec, envelopeKeeperContainer } from "../fleet/containers/envelopes";
import { stableCpus } from "../fleet/forms/dockerForms";
import { envList, tmpfsOptions } from "../fleet/containers/containerSpec";
import { LABELS } from "../fleet/containers/labels";

/** Arguments of {@link DockerHost}. */
export interface DockerHostArgs {
    /** The target as declared in the stack config. */
    target: Target;
    /** Every image reference the tenants on this host run, each pulled once. */
    images: readonly string[];
    /** Label value that names the fleet, such as `n8n-fleet/dev`. */
    fleet: string;
    /** The tenants on this host, whose networks the host guard's rules cover. */
    tenants: readonly TenantPlan[];
}

/**
 * One Docker daemon of the fleet: its provider and the images its tenants share.
 * Resource name: the target name.
 */
export class DockerHost extends pulumi.ComponentResource {
    /** Pass to the tenants on this host as `providers: [host.provider]`. */
    public readonly provider: docker.Provider;
    private readonly images: ReadonlyMap<string, docker.RemoteImage>;
    /**
     * The host guard (fleet/containers/hostGuard.ts), healthy once its firewall rules are in place:
     * every tenant container waits for it, so none ever runs on this host without them.
     */
    public readonly guard: docker.Container;
    /**
     * The envelope keeper (fleet/containers/envelopes.ts), healthy once every tenant's cgroup holds
     * its limits: every tenant container waits for it and runs under its tenant's cgroup.
     */
    public readonly envelopes: docker.Container;

    constructor(name: string, args: DockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("n8n-fleet:index:DockerHost", name, {}, opts);
        this.provider = new docker.Provider(
            `${name}-docker`,
            { host: args.target.dockerHost, sshOpts: args.target.sshOpts, certPath: args.target.tls?.certPath },
            { parent: this },
        );
        const guard = hostGuardContainer(args.fleet, name, args.tenants);
        const envelopes = envelopeKeeperContainer(args.fleet, name, args.tenants);
        this.images = new Map(
            [...new Set([...args.images, guard.image, envelopes.image])].map((ref): [string, docker.RemoteImage] => [
                ref,
                // keepLocally: another stack or a rollback may still run this tag.
                new docker.RemoteImage(`${name}-image-${ref}`, { name: ref, keepLocally: true }, { parent: this, provider: this.provider }),
            ]),
        );
        const labels = (role: string) => [
            { label: LABELS.fleet, value: args.fleet },
            { label: LABELS.role, value: role },
        ];
        // A host agent: a shell script of the fleet in a read-only container that keeps something of the host in place.
        // Its name follows what it applies: a new one applies it before the old one goes.
        const agent = (resource: string, role: string, spec: HostGuardSpec | EnvelopeKeeperSpec, access: Pick<docker.ContainerArgs, "networkMode" | "capabilities" | "mounts">) =>
            new docker.Container(
                resource,
                {
                    name: spec.name,
                    image: this.imageId(spec.image),
                    command: spec.command,
                    envs: envList(spec.environment),
                    user: "0:0",
                    ...access,
                    securityOpts: ["no-new-privileges:true"],
                    readOnly: true,
                    tmpfs: Object.fromEntries(spec.tmpfs.map((t) => [t.path, tmpfsOptions(t)])),
                    memory: spec.memoryMb,
                    memorySwap: spec.memoryMb,
                    cpus: stableCpus(spec.cpus),
                    healthcheck: spec.healthcheck,
                    restart: "unless-stopped",
                    mustRun: true,
                    wait: true,
                    waitTimeout: 120,
                    destroyGraceSeconds: 10,
                    stopTimeout: 10,
                    logDriver: "local",
                    labels: labels(role),
                },
                { parent: this, provider: this.provider },
            );
        // The host's own network namespace: its rules are the host's.
        this.guard = agent(`${name}-host-guard`, "host-guard", guard, { networkMode: "host", capabilities: { drops: ["ALL"], adds: guard.addCapabilities } });
        // The host's cgroup file system, and nothing else: no network, one capability.
        this.envelopes = agent(`${name}-envelopes`, "envelopes", envelopes, { networkMode: "none", capabilities: { drops: ["ALL"], adds: envelopes.addCapabilities }, mounts: envelopes.mounts });
        this.registerOutputs({ images: [...this.images.keys()], guard: this.guard.name, envelopes: this.envelopes.name });
    }

    /** Image ID of a reference declared in `images`, so containers follow the pulled image. */
    public imageId(ref: string): pulumi.Output<string> {
        const image = this.images.get(ref);
        if (!image) throw new Error(`image ${ref} was not declared for this host; list it in DockerHostArgs.images`);
        return image.imageId;
    }
}
