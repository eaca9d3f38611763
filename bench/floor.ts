/**
 * The floor of `npm run bench`: a bare program that registers exactly the resources the fleet
 * program registered, with the same classes, names, inputs (secrets as secrets), parents,
 * providers and options, read from a recording, with no logic in between. What it costs is the
 * SDK's own cost. N8N_FLEET_REPLAY names the recording (tests/harness/languageHost.js recordFile).
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import type { Registration } from "../tests/harness/recordingMocks";

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SPECIAL_SIG = "4dabf18193072939515e22adb298388d";

/** Wire values back into inputs: secret markers become secret Outputs again. */
function inputs(value: unknown): unknown {
    if (value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SPECIAL_SIG] === SECRET_SIG) return pulumi.secret(inputs(record.value));
        if (Array.isArray(value)) return value.map(inputs);
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, inputs(v)]));
    }
    return value;
}

type Construct = (name: string, args: Record<string, unknown>, opts: pulumi.CustomResourceOptions) => pulumi.Resource;

const CLASSES: Record<string, Construct> = {
    "docker:index/container:Container": (n, a, o) => new docker.Container(n, a as unknown as docker.ContainerArgs, o),
    "docker:index/network:Network": (n, a, o) => new docker.Network(n, a, o),
    "docker:index/volume:Volume": (n, a, o) => new docker.Volume(n, a, o),
    "docker:index/remoteImage:RemoteImage": (n, a, o) => new docker.RemoteImage(n, a as unknown as docker.RemoteImageArgs, o),
    "random:index/randomPassword:RandomPassword": (n, a, o) => new random.RandomPassword(n, a as unknown as random.RandomPasswordArgs, o),
    "pulumi:providers:docker": (n, a, o) => new docker.Provider(n, a, o),
};

const recording: Registration[] = JSON.parse(readFileSync(process.env.N8N_FLEET_REPLAY ?? "", "utf8"));
const byUrn = new Map<string, pulumi.Resource>();
/** Provider references are `<urn>::<id>`. */
const providerOf = (ref: string) => (ref ? (byUrn.get(ref.slice(0, ref.lastIndexOf("::"))) as pulumi.ProviderResource | undefined) : undefined);

for (const r of recording) {
    if (r.type === "pulumi:pulumi:Stack") continue;
    const opts: pulumi.CustomResourceOptions = {
        parent: byUrn.get(r.parent),
        provider: providerOf(r.provider),
        protect: r.protect || undefined,
        deleteBeforeReplace: r.deleteBeforeReplace || undefined,
        dependsOn: r.dependencies.flatMap((urn) => byUrn.get(urn) ?? []),
    };
    const construct = CLASSES[r.type];
    const resource = construct
        ? construct(r.name, inputs(r.rawInputs) as Record<string, unknown>, opts)
        : new pulumi.ComponentResource(r.type, r.name, {}, { parent: opts.parent });
    byUrn.set(r.urn, resource);
}
