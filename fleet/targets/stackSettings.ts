/**
 * The stack config n8n-fleet reads (`n8n-fleet:*` in Pulumi.<stack>.yaml), validated the same
 * way as tenants.json. `config.ts` feeds it from Pulumi; `npm run validate` from the YAML file.
 */
import { distance } from "fastest-levenshtein";
import { FieldHints, JsonPath, Problem, didYouMean, issueToProblems, keysByOwner, schemaKeys } from "../forms/problems";
import { HOST_NAME_PATTERN, Target, Targets, awsTargetSchema, edgeSchema, targetSchema, targetTlsSchema, targetsSchema } from "./targets";

export const CONFIG_NAMESPACE = "n8n-fleet";

/** The settings n8n-fleet reads, without the namespace: `tenantsFile` is `n8n-fleet:tenantsFile`. */
export const SETTING_NAMES = ["tenantsFile", "targets", "defaultTarget", "edgeCertificates"] as const;

/** Raw values of the config keys, as Pulumi or the YAML file hold them. */
export interface RawStackSettings {
    tenantsFile?: unknown;
    targets?: unknown;
    defaultTarget?: unknown;
    /** The operator's own certificates by host name: PEM texts (in Pulumi), or `{ secure: ... }` (in the stack file). */
    edgeCertificates?: unknown;
    /** Every `n8n-fleet:` key of the stack, so that a misspelt one is refused rather than ignored. */
    keys?: readonly string[];
    /** Read from a stack file: certificate parts written there in clear text instead of as secrets. */
    clearTextCertificateParts?: readonly { domain: string; part: string }[];
    /** Line and column of a config path in the stack file, when its text is known. */
    locate?: (path: JsonPath) => { line: number; column: number } | undefined;
}

/** The n8n-fleet settings of a whole stack config (`namespace:key` -> value), as Pulumi or the YAML file hold it. */
export function rawStackSettings(config: Readonly<Record<string, unknown>>): RawStackSettings {
    const keys = Object.keys(config).filter((key) => key.startsWith(`${CONFIG_NAMESPACE}:`));
    const value = (name: string) => config[`${CONFIG_NAMESPACE}:${name}`];
    return { tenantsFile: value("tenantsFile"), targets: value("targets"), defaultTarget: value("defaultTarget"), edgeCertificates: value("edgeCertificates"), keys };
}

/** "n8n-fleet:tenantFile" is a typo of "n8n-fleet:tenantsFile"; targets are checked by the schema. */
function unknownKeyMessage(key: string): string {
    const known = SETTING_NAMES.map((name) => `${CONFIG_NAMESPACE}:${name}`);
    const suggestion = didYouMean(key, known, (written, nearest) => distance(written, nearest) <= 3);
    return `unknown setting "${key}": n8n-fleet would ignore it. Fix: ${suggestion}rename or remove it; n8n-fleet reads ${known.join(", ")}.`;
}

export interface StackSettings {
    /** Path of the tenants file, relative to the project. */
    tenantsFile: string;
    targets: Targets;
    defaultTarget: string | undefined;
    /** Host names the operator gives its own certificate and key for (`n8n-fleet:edgeCertificates`); the PEM texts never leave config.ts. */
    edgeCertificateDomains: readonly string[];
}

export const DEFAULT_TENANTS_FILE = "tenants.json";

const HINTS: FieldHints = {
    dockerHost: "write the Docker daemon address, such as unix:///var/run/docker.sock or ssh://deploy@host-1",
    publicHost: "write the host name clients reach the host at, such as n8n.example.com",
    capacity: "write { cpus: 16, memoryGb: 32 }",
    cpus: "write the host's CPU cores, such as 16",
    memoryGb: "write the host's memory in GiB, such as 32",
    diskGb: "write the disk for volumes in GiB, such as 500",
    overcommit: "write { cpu: 1, memory: 1 }",
    cpu: "write a ratio of 1 (no overcommit) or more, such as 1.5: the tenants' CPU budgets may then add up to 1.5 times the host's cores",
    memory: "write 1 (no overcommit) or a little more; past 1 the kernel may kill tenants under load",
    region: "write a region label such as eu-west; in an aws block, an AWS region name such as eu-west-1",
    aws: "write { region, vpcId, subnetIds, hostSecurityGroupId } for RDS tenants on this host",
    vpcId: "write a VPC id such as vpc-0a1b2c3d4e5f67890",
    subnetIds: "list the subnet ids for the database subnet groups, in at least two availability zones, such as [subnet-0a1b2c3d4e5f67890, subnet-0b1c2d3e4f5a67891]",
    hostSecurityGroupId: "write the Docker host's security group id, such as sg-0a1b2c3d4e5f67890",
    hostCidrs: "list the Docker host's addresses as IPv4 ranges, such as [10.0.1.17/32]",
    edge: "write { baseDomain: n8n.example.com, certificates: { issuer: acme, email: ops@example.com } }",
    baseDomain: "write a lower-case domain such as n8n.example.com",
    httpPort: "write the host port for plain HTTP, 80 unless something else holds it",
    httpsPort: "write the host port for HTTPS, 443 unless something else holds it",
    certificates: "write { issuer: acme, email: ops@example.com } or { issuer: internal }",
    issuer: "write issuer: acme (with email: ops@example.com, and optionally caDirectory) or issuer: internal (the edge's own CA, for local use and tests)",
    email: "write the ACME account's e-mail address, such as ops@example.com",
    caDirectory: "write an ACME directory URL, such as https://acme-staging-v02.api.letsencrypt.org/directory",
};

const allowedKeys = keysByOwner(
    { capacity: schemaKeys(targetSchema.shape.capacity), overcommit: schemaKeys(targetSchema.shape.overcommit.unwrap()), aws: schemaKeys(awsTargetSchema), tls: schemaKeys(targetTlsSchema), edge: schemaKeys(edgeSchema), certificates: ["issuer", "email", "caDirectory"] },
    schemaKeys(targetSchema),
);

export function parseStackSettings(raw: RawStackSettings, stackFile: string): { ok: true; settings: StackSettings } | { ok: false; problems: Problem[] } {
    const problems: Problem[] = [];
    const key = (name: string) => `${CONFIG_NAMESPACE}:${name}`;
    const at = (path: (string | number)[], message: string) => problems.push({ file: stackFile, path, message });

    const known = new Set<string>(SETTING_NAMES.map(key));
    for (const unknown of (raw.keys ?? []).filter((k) => !known.has(k))) at([unknown], unknownKeyMessage(unknown));

    const tenantsFile = raw.tenantsFile ?? DEFAULT_TENANTS_FILE;
    if (typeof tenantsFile !== "string" || tenantsFile.length === 0) {
        at([key("tenantsFile")], `must be the path of the tenants file. Fix: write ${key("tenantsFile")}: tenants.json, or remove it for the default.`);
    }

    let targets: Targets = new Map();
    if (raw.targets === undefined) {
        at([key("targets")], `is missing. Fix: declare the Docker hosts of this stack, for example:\n  ${key("targets")}:\n    local:\n      dockerHost: unix:///var/run/docker.sock\n      publicHost: localhost\n      capacity: { cpus: 16, memoryGb: 32 }`);
    } else {
        const parsed = targetsSchema.safeParse(raw.targets);
        if (parsed.success) {
            targets = new Map(Object.entries(parsed.data).map(([name, target]): [string, Target] => [name, { ...target, name }]));
        } else {
            const context = {
                file: stackFile,
                text: "",
                tree: undefined,
                data: { [key("targets")]: raw.targets },
                hints: HINTS,
                allowedKeys,
                isolationHint: () => undefined,
            };
            problems.push(...parsed.error.issues.flatMap((issue) => issueToProblems(issue, context, [key("targets")])));
        }
    }

    let defaultTarget: string | undefined;
    if (raw.defaultTarget !== undefined) {
        if (typeof raw.defaultTarget !== "string" || (targets.size > 0 && !targets.has(raw.defaultTarget))) {
            at([key("defaultTarget")], `${JSON.stringify(raw.defaultTarget)} is not a declared target. Fix: use one of: ${[...targets.keys()].join(", ")}.`);
        } else {
            defaultTarget = raw.defaultTarget;
        }
    } else if (targets.size === 1) {
        defaultTarget = [...targets.keys()][0];
    }

    const edgeCertificateDomains = parseEdgeCertificates(raw.edgeCertificates, (path, message) => at([key("edgeCertificates"), ...path], message));
    for (const { domain, part } of raw.clearTextCertificateParts ?? []) {
        at([key("edgeCertificates"), domain, part], `is written in clear text in ${stackFile}: whoever reads the repository has it. Fix: remove it (pulumi config rm --path 'n8n-fleet:edgeCertificates["${domain}"].${part}'), then ${setCertificateCommand(domain, part as "certificate" | "key")}; if it is a key, also replace the certificate: this one has been exposed.`);
    }

    if (problems.length > 0) return { ok: false, problems: problems.map((p) => (p.line === undefined ? { ...p, ...raw.locate?.(p.path) } : p)) };
    return { ok: true, settings: { tenantsFile: tenantsFile as string, targets, defaultTarget, edgeCertificateDomains } };
}

/** How an operator adds a certificate: as secrets, one `--path` per part. */
function setCertificateCommand(domain: string, part: "certificate" | "key"): string {
    const file = part === "certificate" ? `${domain}.fullchain.pem` : `${domain}.key.pem`;
    return `pulumi config set --secret --path 'n8n-fleet:edgeCertificates["${domain}"].${part}' < ${file}`;
}

/** A stack file holds a secret as `{ secure: <ciphertext> }`; Pulumi hands the program the plain text. */
function isEncrypted(value: unknown): boolean {
    return value !== null && typeof value === "object" && typeof (value as { secure?: unknown }).secure === "string" && Object.keys(value).length === 1;
}

/**
 * `n8n-fleet:edgeCertificates`: `{ "<host name>": { certificate: <PEM chain>, key: <PEM key> } }`,
 * each part a secret. Returns the host names; every problem names the host name and part.
 */
export function parseEdgeCertificates(value: unknown, at: (path: (string | number)[], message: string) => void): string[] {
    if (value === undefined) return [];
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        at([], `must map host names to { certificate, key }. Fix: ${setCertificateCommand("acme.n8n.example.com", "certificate")}, and the same for .key`);
        return [];
    }
    const domains: string[] = [];
    for (const [domain, entry] of Object.entries(value)) {
        if (!HOST_NAME_PATTERN.test(domain)) {
            at([domain], `"${domain}" is not a host name. Fix: use the tenant's lower-case host name, such as acme.n8n.example.com`);
            continue;
        }
        if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
            at([domain], `must be { certificate, key }. Fix: ${setCertificateCommand(domain, "certificate")}, and the same for .key`);
            continue;
        }
        let complete = true;
        for (const unknown of Object.keys(entry).filter((k) => k !== "certificate" && k !== "key")) {
            at([domain, unknown], `unknown key "${unknown}". Fix: a certificate has exactly "certificate" (the PEM chain, leaf first) and "key" (its PEM private key).`);
        }
        for (const part of ["certificate", "key"] as const) {
            const text = (entry as Record<string, unknown>)[part];
            const pem = part === "certificate" ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;
            if (text === undefined) {
                at([domain], `has no ${part}. Fix: ${setCertificateCommand(domain, part)}`);
                complete = false;
            } else if (typeof text === "string") {
                // In a stack file a plain string is a secret in clear text; in Pulumi it is the decrypted value.
                if (!pem.test(text)) {
                    at([domain, part], `is not a PEM ${part === "certificate" ? "certificate chain" : "private key"}. Fix: ${setCertificateCommand(domain, part)}`);
                    complete = false;
                }
            } else if (!isEncrypted(text)) {
                at([domain, part], `must be the PEM text, set as a secret. Fix: ${setCertificateCommand(domain, part)}`);
                complete = false;
            }
        }
        if (complete) domains.push(domain);
    }
    return domains;
}

/** A certificate part written in clear text into a stack file: the repository would hold the key. */
export function plainCertificateParts(value: unknown): { domain: string; part: string }[] {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
    return Object.entries(value).flatMap(([domain, entry]) =>
        entry !== null && typeof entry === "object" ? Object.entries(entry).filter(([, text]) => typeof text === "string").map(([part]) => ({ domain, part })) : [],
    );
}
