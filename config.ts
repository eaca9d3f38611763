/**
 * Every stack config read of the program, and the tenants file it points to. Fails the run, with
 * every problem listed, before a single resource is registered.
 */
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, rawStackSettings } from "./fleet/targets/stackSettings";
import { loadFleetForStack, readTenantsFile } from "./fleet/stacks/stackFleet";
import { formatProblems } from "./fleet/forms/problems";
import type { TenantPlan } from "./fleet/tenants/plan";
import type { Targets } from "./fleet/targets/targets";

export interface StackFleet {
    targets: Targets;
    tenants: TenantPlan[];
    /** Label value naming this fleet on every container: `<project>/<stack>`. */
    fleet: string;
    /** Secret: the operator's own certificate and key by host name (`n8n-fleet:edgeCertificates`), validated. */
    edgeCertificates: pulumi.Output<Record<string, EdgeCertificate>>;
    /** The host names of those certificates (not secret). */
    operatorDomains: readonly string[];
}

export interface EdgeCertificate {
    certificate: string;
    key: string;
}

/** An object setting as Pulumi hands it to the program: a JSON string, decrypted when it is a secret. */
function parsedObject(value: unknown): unknown {
    if (typeof value !== "string") return value;
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

export function loadStackFleet(): StackFleet {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    // Read from the whole config rather than getSecretObject: validation needs the value now; it is wrapped as a secret below.
    const edgeCertificates = parsedObject(pulumi.runtime.allConfig()[`${CONFIG_NAMESPACE}:edgeCertificates`]);
    const result = loadFleetForStack({
        stack: pulumi.getStack(),
        raw: {
            // Every n8n-fleet key, so that a misspelt one is refused rather than ignored; objects as Pulumi parses them.
            ...rawStackSettings(pulumi.runtime.allConfig()),
            tenantsFile: config.get("tenantsFile"),
            targets: config.getObject<unknown>("targets"),
            defaultTarget: config.get("defaultTarget"),
            edgeCertificates,
        },
        // Relative to the project, wherever `pulumi` was started.
        readTenants: (tenantsFile) => readTenantsFile(resolve(__dirname, tenantsFile), tenantsFile),
    });
    if (!result.ok) {
        const { problems } = result;
        throw new pulumi.RunError(`n8n-fleet found ${problems.length} problem(s) in ${problems[0].file}; nothing was deployed.\n${formatProblems(problems)}`);
    }
    const certificates = Object.fromEntries(result.settings.edgeCertificateDomains.map((domain) => [domain, (edgeCertificates as Record<string, EdgeCertificate>)[domain]]));
    return { targets: result.settings.targets, tenants: result.tenants, fleet: `${pulumi.getProject()}/${pulumi.getStack()}`, edgeCertificates: pulumi.secret(certificates), operatorDomains: result.settings.edgeCertificateDomains };
}
