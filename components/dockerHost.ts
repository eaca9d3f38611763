import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { Target } from "../fleet/targets/targets";

/** Arguments of {@link DockerHost}. */
export interface DockerHostArgs {
    /** The target as declared in the stack config. */
    target: Target;
    /** Every image reference the tenants on this host run, each pulled once. */
    images: readonly string[];
}

/**
 * One Docker daemon of the fleet: its provider and the images its tenants share.
 * Resource name: the target name.
 */
export class DockerHost extends pulumi.ComponentResource {
    /** Pass to the tenants on this host as `providers: [host.provider]`. */
    public readonly provider: docker.Provider;
    private readonly images: ReadonlyMap<string, docker.RemoteImage>;

    constructor(name: string, args: DockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("n8n-fleet:index:DockerHost", name, {}, opts);
        this.provider = new docker.Provider(
            `${name}-docker`,
            { host: args.target.dockerHost, sshOpts: args.target.sshOpts, certPath: args.target.tls?.certPath },
            { parent: this },
        );
        this.images = new Map(
            [...new Set(args.images)].map((ref): [string, docker.RemoteImage] => [
                ref,
                // keepLocally: another stack or a rollback may still run this tag.
                new docker.RemoteImage(`${name}-image-${ref}`, { name: ref, keepLocally: true }, { parent: this, provider: this.provider }),
            ]),
        );
        this.registerOutputs({ images: [...this.images.keys()] });
    }

    /** Image ID of a reference declared in `images`, so containers follow the pulled image. */
    public imageId(ref: string): pulumi.Output<string> {
        const image = this.images.get(ref);
        if (!image) throw new Error(`image ${ref} was not declared for this host; list it in DockerHostArgs.images`);
        return image.imageId;
    }
}
