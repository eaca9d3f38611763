import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { Target } from "../fleet/targets/targets";
import type { TenantPlan } from "../fleet/tenants/plan";
import { hostGuardContainer } from "../fleet/containers/hostGuard";
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

    constructor(name: string, args: DockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("n8n-fleet:index:DockerHost", name, {}, opts);
        this.provider = new docker.Provider(
            `${name}-docker`,
            { host: args.target.dockerHost, sshOpts: args.target.sshOpts, certPath: args.target.tls?.certPath },
            { parent: this },
        );
        const guard = hostGuardContainer(args.fleet, name, args.tenants);
        this.images = new Map(
            [...new Set([...args.images, guard.image])].map((ref): [string, docker.RemoteImage] => [
                ref,
                // keepLocally: another stack or a rollback may still run this tag.
                new docker.RemoteImage(`${name}-image-${ref}`, { name: ref, keepLocally: true }, { parent: this, provider: this.provider }),
            ]),
        );
        this.guard = new docker.Container(
            `${name}-host-guard`,
            {
                name: guard.name,
                image: this.imageId(guard.image),
                command: guard.command,
                envs: envList(guard.environment),
                // The host's own network namespace: its rules are the host's.
                networkMode: "host",
                user: "0:0",
                capabilities: { drops: ["ALL"], adds: guard.addCapabilities },
                securityOpts: ["no-new-privileges:true"],
                readOnly: true,
                tmpfs: Object.fromEntries(guard.tmpfs.map((t) => [t.path, tmpfsOptions(t)])),
                memory: guard.memoryMb,
                memorySwap: guard.memoryMb,
                cpus: stableCpus(guard.cpus),
                healthcheck: guard.healthcheck,
                restart: "unless-stopped",
                mustRun: true,
                wait: true,
                waitTimeout: 120,
                destroyGraceSeconds: 10,
                stopTimeout: 10,
                logDriver: "local",
                labels: [
                    { label: LABELS.fleet, value: args.fleet },
                    { label: LABELS.role, value: "host-guard" },
                ],
            },
            // Its name follows its rules: a new guard applies them before the old one goes.
            { parent: this, provider: this.provider },
        );
        this.registerOutputs({ images: [...this.images.keys()], guard: this.guard.name });
    }

    /** Image ID of a reference declared in `images`, so containers follow the pulled image. */
    public imageId(ref: string): pulumi.Output<string> {
        const image = this.images.get(ref);
        if (!image) throw new Error(`image ${ref} was not declared for this host; list it in DockerHostArgs.images`);
        return image.imageId;
    }
}
