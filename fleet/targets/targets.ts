/**
 * Targets: the Docker hosts a stack deploys to, declared in the stack config (`n8n-fleet:targets`).
 */
import { z } from "zod";
import { AWS_REGIONS } from "./awsRegions";

/** The widest range `hostCidrs` accepts: a /8 is already 16 million addresses. */
const MIN_HOST_CIDR_PREFIX = 8;

/**
 * What a Docker host needs for tenants whose PostgreSQL is managed RDS: the region and network the
 * databases live in, and what identifies this host's traffic to them.
 */
export const awsTargetSchema = z
    .strictObject({
        region: z
            .string()
            .refine((region) => AWS_REGIONS.includes(region), { error: (issue) => `${JSON.stringify(issue.input)} is not an AWS region name. Fix: use one such as us-east-1, eu-west-1 or ap-southeast-1` })
            .meta({ description: "AWS region of the tenants' RDS instances, such as eu-west-1." }),
        vpcId: z
            .string()
            .regex(/^vpc-[0-9a-f]{8,17}$/, { error: "write a VPC id such as vpc-0a1b2c3d4e5f67890" })
            .meta({ description: "VPC the RDS instances and their security groups live in." }),
        subnetIds: z
            .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { error: "write a subnet id such as subnet-0a1b2c3d4e5f67890" }))
            .min(2, { error: "an RDS subnet group needs subnets in at least two availability zones. Fix: list two or more subnet ids" })
            .meta({ description: "Subnets for the database subnet groups, in at least two availability zones." }),
        hostSecurityGroupId: z
            .string()
            .regex(/^sg-[0-9a-f]{8,17}$/, { error: "write a security group id such as sg-0a1b2c3d4e5f67890" })
            .optional()
            .meta({ description: "Security group of this Docker host: only its traffic may reach the tenants' databases." }),
        hostCidrs: z
            .array(
                z
                    .cidrv4({ error: "write an IPv4 range such as 10.0.1.17/32", abort: true })
                    .refine((range) => Number(range.split("/")[1]) >= MIN_HOST_CIDR_PREFIX, {
                        error: (issue) =>
                            `${String(issue.input)} admits far more than this host: the tenants' databases admit only their Docker host, never 0.0.0.0/0 or a range of that size. Fix: write the host's own addresses, such as 10.0.1.17/32, or use hostSecurityGroupId`,
                    }),
            )
            .min(1)
            .optional()
            .meta({ description: "Addresses of this Docker host, when it has no security group (for example a host outside the VPC)." }),
    })
    .refine((aws) => aws.hostSecurityGroupId !== undefined || aws.hostCidrs !== undefined, {
        error: "says nothing of how this host reaches the databases. Fix: add hostSecurityGroupId (the host's security group) or hostCidrs (its addresses); databases admit nothing else",
    });

export type AwsTarget = z.infer<typeof awsTargetSchema>;

/** The daemon's TLS client material, for tcp:// hosts, as the Docker provider takes it. */
export const targetTlsSchema = z.strictObject({
    certPath: z
        .string()
        .min(1)
        .meta({ description: "Folder holding ca.pem, cert.pem and key.pem on the machine that runs pulumi (as DOCKER_CERT_PATH): the daemon is verified against ca.pem and admits only this client certificate." }),
});

/** A host name: dot-separated DNS labels, lower case, at most 253 characters, at least two labels. */
export const HOST_NAME_PATTERN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Let's Encrypt's production directory: the ACME default when a target names none. */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

/** Where the edge's certificates come from. */
export const edgeCertificatesSchema = z
    .discriminatedUnion(
        "issuer",
        [
            z.strictObject({
                issuer: z.literal("acme").meta({ description: "Certificates from an ACME CA (Let's Encrypt by default), renewed by the edge." }),
                email: z.email({ error: "write the ACME account's e-mail address, such as ops@example.com: the CA writes there before a certificate expires" }).meta({ description: "ACME account e-mail." }),
                caDirectory: z
                    .url({ protocol: /^https$/, error: "write the CA's ACME directory URL, such as https://acme-staging-v02.api.letsencrypt.org/directory" })
                    .default(LETS_ENCRYPT_DIRECTORY)
                    .meta({ description: `ACME directory URL. Default Let's Encrypt production (${LETS_ENCRYPT_DIRECTORY}); use the staging one first.` }),
            }),
            z.strictObject({
                issuer: z.literal("internal").meta({ description: "The edge's own local CA: for local use and tests only; browsers must trust its root." }),
            }),
        ],
        { error: 'write { issuer: acme, email: ops@example.com } (optionally caDirectory), or { issuer: internal } for local use' },
    )
    .meta({ description: "Where the edge's certificates come from: ACME (default Let's Encrypt) or the edge's internal CA." });

/** One HTTPS edge (Caddy) on the target: every tenant at https://<its host name>/, no tenant port published. */
export const edgeSchema = z
    .strictObject({
        baseDomain: z
            .string()
            .regex(HOST_NAME_PATTERN, { error: "write a lower-case domain such as n8n.example.com: tenants without a domain get <tenant id>.<baseDomain>" })
            .optional()
            .meta({ description: "Tenants without a `domain` of their own get `<tenant id>.<baseDomain>`." }),
        httpPort: z.int().min(1).max(65535).default(80).meta({ description: "Host port of plain HTTP (redirects to HTTPS, ACME HTTP challenges). Default 80." }),
        httpsPort: z.int().min(1).max(65535).default(443).meta({ description: "Host port of HTTPS. Default 443." }),
        certificates: edgeCertificatesSchema,
    })
    .refine((edge) => edge.httpPort !== edge.httpsPort, { path: ["httpsPort"], error: "is the same port as httpPort. Fix: use two ports, such as 80 and 443" });

export type EdgeSettings = z.infer<typeof edgeSchema>;

export const targetSchema = z
    .strictObject({
        dockerHost: z
            .string()
            .regex(/^(unix|ssh|tcp):\/\/\S+$/, { error: "write the Docker daemon address as unix:///var/run/docker.sock, ssh://user@host or tcp://host:2376" })
            .meta({ description: "Docker daemon of the host: unix:///var/run/docker.sock, ssh://user@host or tcp://host:2376." }),
        publicHost: z
            .string()
            .regex(/^[A-Za-z0-9.-]+$|^\[[0-9a-fA-F:]+\]$/, { error: "write the host name or IP address clients reach the host at, such as n8n.example.com" })
            .meta({ description: "Host name or address clients reach this host at; tenants' default URLs use it." }),
        publishAddress: z
            .union([z.ipv4(), z.ipv6()], { error: "write the IP address editor ports are published on, 0.0.0.0 for all or 127.0.0.1 behind a local proxy" })
            .default("0.0.0.0")
            .meta({ description: "Address the editors' host ports listen on: 0.0.0.0 (default) or 127.0.0.1 behind a reverse proxy." }),
        sshOpts: z
            .array(z.string())
            .optional()
            .meta({ description: "Extra ssh options for ssh:// hosts, such as [\"-i\", \"~/.ssh/fleet\"]." }),
        region: z.string().min(1).optional().meta({ description: "Free-form region label, shown in outputs." }),
        aws: awsTargetSchema.optional().meta({ description: "AWS settings for tenants on this host whose database is managed RDS." }),
        capacity: z.strictObject({
            cpus: z.number().positive({ error: "write the host's CPU cores as a positive number, such as 16" }),
            memoryGb: z.number().positive({ error: "write the host's memory in GiB as a positive number, such as 32" }),
            diskGb: z.number().positive({ error: "write the disk available for volumes in GiB as a positive number" }).optional(),
        }),
        overcommit: z
            .strictObject({
                cpu: z.number().min(1, { error: "an overcommit ratio is 1 (none) or more, such as 1.5" }).default(1),
                memory: z.number().min(1, { error: "an overcommit ratio is 1 (none) or more; memory overcommit risks the kernel killing tenants" }).default(1),
            })
            .default({ cpu: 1, memory: 1 })
            .meta({ description: "How far the sum of tenant budgets may exceed capacity: 1 (default) means not at all." }),
        tls: targetTlsSchema.optional().meta({ description: "TLS client material for a tcp:// Docker host; required for one." }),
        acceptSharedCookies: z
            .literal(true, { error: "is true or absent. Fix: remove it, and give each tenant a host name of its own (an edge, or a url per tenant)" })
            .optional()
            .meta({
                description:
                    "For a machine where only its operator signs in (local use, tests): accept that tenants whose URLs share this target's host name share their browser cookies, each tenant's sign-in cookie reaching every other's n8n. Never for a host that serves clients: give it an edge.",
            }),
        edge: edgeSchema.optional().meta({ description: "An HTTPS edge (Caddy) in front of every tenant of this host: each at https://<its host name>/, no tenant port published." }),
    })
    // A Docker API without TLS is root on the host for anyone who reaches its port.
    .refine((target) => !target.dockerHost.startsWith("tcp://") || target.tls !== undefined, {
        path: ["tls"],
        error: 'is missing for a tcp:// Docker host: without TLS, anyone who reaches that port is root on the host. Fix: add "tls": { "certPath": "<folder with ca.pem, cert.pem and key.pem>" } (the daemon started with --tlsverify), or use ssh://user@host',
    });

export const TARGET_NAME_PATTERN = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/;

export const targetsSchema = z
    .record(z.string().regex(TARGET_NAME_PATTERN, { error: "target names are lowercase DNS labels such as eu-west-1" }), targetSchema)
    .refine((targets) => Object.keys(targets).length > 0, { error: "declare at least one target" });

export type Target = z.infer<typeof targetSchema> & { name: string };
export type Targets = ReadonlyMap<string, Target>;
