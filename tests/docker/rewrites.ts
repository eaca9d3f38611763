/**
 * The one place where what the program declares is changed before it reaches the test's Docker
 * daemon, because this machine must differ from a fleet host. Every rewrite is listed on
 * {@link rewriteForThisMachine}; nothing else changes: passwords, names, commands, users, limits,
 * health checks, networks and volumes stay exactly as declared.
 */
import type { Registration } from "../harness/recordingMocks";
import { TYPES, carryFiles } from "../harness/runFleet";
import { tenantImages } from "../../fleet/tenants/versions";
import { N8nInstallMount, n8nInstallMounts } from "./images/build";

/** The address published ports listen on here: nothing the test starts listens beyond loopback. */
export const LOOPBACK = "127.0.0.1";

/** A container registration as this machine runs it, and what was changed, one sentence per change. */
export interface Rewritten {
    registration: Registration;
    applied: string[];
}

/** Where the mounts of the npm install of an n8n version come from; replaceable in unit tests. */
export type N8nInstall = (version: string) => N8nInstallMount[];

/** `repository:tag` -> `[repository, tag]`; a registry port (`host:5000/x`) is not a tag. */
function splitReference(reference: string): [string, string] {
    const colon = reference.lastIndexOf(":");
    if (colon < 0 || reference.indexOf("/", colon) >= 0) return [reference, ""];
    return [reference.slice(0, colon), reference.slice(colon + 1)];
}

/** The n8n version an image runs, when it is the n8n or the runners image of some version. */
function n8nVersionOf(imageReference: string): string | undefined {
    const [repository, tag] = splitReference(imageReference);
    // The repositories do not depend on the version; any version's references give them.
    const { n8n, runners } = tenantImages(tag || "latest");
    const n8nImages = [splitReference(n8n)[0], splitReference(runners)[0]];
    return n8nImages.includes(repository) && tag !== "" ? tag : undefined;
}

/**
 * The only rewrites of a container declaration, in the provider's own terms (its inputs):
 *
 * 1. A published port's `ip` of `0.0.0.0` becomes `127.0.0.1`: the declared editor ports are
 *    published, but on this machine only on loopback, so nothing listens beyond it.
 * 2. n8n and runner containers (the n8n and runners images of any version) get the read-only bind
 *    mounts of that n8n version's npm install (`n8nInstallMounts`): n8n is mounted into the
 *    stand-in images rather than copied (tests/docker/images/IMAGES.md).
 *
 * Returns a new registration; the given one is not modified.
 */
export function rewriteForThisMachine(container: Registration, imageReference: string, n8nInstall: N8nInstall = n8nInstallMounts): Rewritten {
    if (container.type !== TYPES.container) throw new Error(`${container.name} is a ${container.type}, not a container`);
    const inputs: Record<string, unknown> = { ...container.inputs };
    const applied: string[] = [];

    if (Array.isArray(inputs.ports)) {
        inputs.ports = inputs.ports.map((port: Record<string, unknown>) => {
            if (port.ip !== undefined && port.ip !== "0.0.0.0") return port;
            applied.push(`${container.name}: port ${String(port.external)} published on ${LOOPBACK} instead of ${String(port.ip ?? "0.0.0.0 (the provider's default)")}`);
            return { ...port, ip: LOOPBACK };
        });
    }

    const version = n8nVersionOf(imageReference);
    if (version !== undefined) {
        const mounts = n8nInstall(version).map((mount) => ({ type: "bind", source: mount.source, target: mount.target, readOnly: mount.readOnly }));
        const declared = Array.isArray(inputs.mounts) ? inputs.mounts : [];
        inputs.mounts = [...declared, ...mounts];
        for (const mount of mounts) applied.push(`${container.name}: n8n ${version} from ${mount.source} mounted read-only at ${mount.target}`);
    }

    const registration = { ...container, inputs };
    carryFiles(container, registration);
    return { registration, applied };
}
