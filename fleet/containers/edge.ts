/**
 * The HTTPS edge of a target: one Caddy that terminates TLS for every tenant on the host and
 * routes by host name to each tenant's n8n main, over a network per tenant that holds only that
 * main and the edge.
 *
 * Routes change without replacing the edge. The Docker provider replaces a container whose
 * uploads or networks change, and a replaced edge drops every tenant's requests while it is gone,
 * so the edge's own declaration depends on nothing a tenant changes:
 * - its own Caddyfile (in its environment: its root is read-only) holds only what never follows the tenants (the admin API on a unix
 *   socket in a volume of its own, the ports, the protocols), and `--resume` restarts it with the
 *   last configuration it was given (Caddy's autosave, on the config volume);
 * - the routes are in the Caddyfile of a one-shot (`n8n_fleet_edge_routes`), replaced whenever the
 *   routes change, which hands it to the running edge through that socket (`caddy reload`, the
 *   admin API's `/load`): Caddy starts the new servers on the listeners it already holds and lets
 *   the old ones finish their requests (graceful reload, `grace_period`), so no connection is
 *   refused;
 * - it joins each tenant's network through a `docker network connect` run by Pulumi (the
 *   provider's `networksAdvanced` would replace it), never through a Docker socket of its own.
 */
import type { EdgeSettings, Target } from "../targets/targets";
import type { TenantPlan } from "../tenants/plan";
import { edgeImage } from "../tenants/versions";
import { PORTS, Tmpfs } from "./containerSpec";

/**
 * Docker names of the edge's objects on its host. Tenant ids hold no underscore, so no name a
 * tenant derives can be one of these.
 */
export const EDGE_NAMES = {
    container: "n8n_fleet_edge",
    routes: "n8n_fleet_edge_routes",
    network: "n8n_fleet_edge",
    volumes: { data: "n8n_fleet_edge_data", config: "n8n_fleet_edge_config", admin: "n8n_fleet_edge_admin", certs: "n8n_fleet_edge_certs" },
} as const;

/** Where the official image keeps certificates and ACME accounts (`XDG_DATA_HOME`) and its autosave (`XDG_CONFIG_HOME`). */
export const EDGE_DATA_DIR = "/data";
export const EDGE_CONFIG_DIR = "/config";
/** The admin API: a unix socket in a volume shared with the routes one-shot, never a TCP port. */
export const EDGE_ADMIN_DIR = "/run/caddy-admin";
export const EDGE_ADMIN_SOCKET = `${EDGE_ADMIN_DIR}/admin.sock`;
/** The internal CA's root certificate in the data volume, for browsers and tests that must trust it. */
export const EDGE_INTERNAL_ROOT = `${EDGE_DATA_DIR}/caddy/pki/authorities/local/root.crt`;
export const EDGE_CADDYFILE = "/etc/caddy/Caddyfile";
/** The edge's own Caddyfile: written from its environment into its tmpfs at start (its root is read-only). */
export const EDGE_BOOTSTRAP_CADDYFILE = "/tmp/Caddyfile";
/** The operator's own certificates: written by the routes one-shot, read-only in the edge. */
export const EDGE_CERTS_DIR = "/certs";
/** Where the routes one-shot receives them (secret uploads, mode 0400) before it copies them over. */
export const EDGE_CERTS_UPLOAD_DIR = "/run/secrets/edge-certs";

/** How long a reload, or a stop, lets requests in flight finish. */
export const EDGE_GRACE_SECONDS = 30;

/**
 * Paths n8n serves that must not be public: Prometheus metrics (n8n's docs: keep `/metrics`
 * internal), and the owner setup, which n8n refuses anyway once the owner is set from its
 * environment.
 */
export const EDGE_BLOCKED_PATHS = ["/metrics", "/metrics/*", "/rest/owner/setup"];

/** HSTS: one year. No includeSubDomains: a tenant's host name has no subdomains of the fleet's. */
export const HSTS = "max-age=31536000";

/** One host name the edge serves. */
export interface EdgeRoute {
    tenant: string;
    domain: string;
    /** `<tenant main>:5678`, resolved on the tenant's edge network at each connection. */
    upstream: string;
    /** A suspended tenant's host name answers 503 instead of reaching a stopped main. */
    suspended: boolean;
    /** The operator's own certificate and key (`n8n-fleet:edgeCertificates`) instead of the target's issuer. */
    operatorCertificate: boolean;
}

/** The files of an operator certificate, in the edge. */
export function certificateFiles(domain: string): { certificate: string; key: string } {
    return { certificate: `${domain}.crt`, key: `${domain}.key` };
}

/** The routes of the tenants on one edge target; archived tenants have none. */
export function edgeRoutes(tenants: readonly TenantPlan[], operatorDomains: readonly string[] = []): EdgeRoute[] {
    return tenants
        .filter((t) => t.domain !== undefined && t.status !== "archived")
        .map((t) => ({
            tenant: t.id,
            domain: t.domain as string,
            upstream: `${t.names.containers.main}:${PORTS.n8n}`,
            suspended: t.status === "suspended",
            operatorCertificate: operatorDomains.includes(t.domain as string),
        }))
        .sort((a, b) => a.domain.localeCompare(b.domain));
}

/** What never follows the tenants: the edge's own Caddyfile, so that it is never replaced for a route. */
function stableGlobals(edge: EdgeSettings): string[] {
    return [
        `\tadmin unix/${EDGE_ADMIN_SOCKET}`,
        `\thttp_port ${edge.httpPort}`,
        `\thttps_port ${edge.httpsPort}`,
        `\tgrace_period ${EDGE_GRACE_SECONDS}s`,
        // Only TCP is published: HTTP/3 (UDP) would be advertised and never reached.
        "\tservers {",
        "\t\tprotocols h1 h2",
        "\t}",
    ];
}

function issuerGlobals(edge: EdgeSettings): string[] {
    const certificates = edge.certificates;
    if (certificates.issuer === "internal") return ["\tlocal_certs", "\tskip_install_trust"];
    return [`\temail ${certificates.email}`, `\tacme_ca ${certificates.caDirectory}`];
}

/** The edge's own Caddyfile: admin socket, ports and protocols, no site; routes come by reload. */
export function bootstrapCaddyfile(edge: EdgeSettings): string {
    return ["{", ...stableGlobals(edge), "}", ""].join("\n");
}

/** Caddy reads a quoted string in a Caddyfile: the e-mail and directory are checked, this is for the text. */
function siteBlock(route: EdgeRoute): string[] {
    const body = route.suspended
        ? ['\trespond "This n8n is suspended." 503']
        : [`\t@internal path ${EDGE_BLOCKED_PATHS.join(" ")}`, "\trespond @internal 404", `\treverse_proxy ${route.upstream}`];
    const files = certificateFiles(route.domain);
    const tls = route.operatorCertificate ? [`\ttls ${EDGE_CERTS_DIR}/${files.certificate} ${EDGE_CERTS_DIR}/${files.key}`] : [];
    return [`${route.domain} {`, ...tls, `\theader Strict-Transport-Security "${HSTS}"`, ...body, "}"];
}

/** The whole configuration: globals, the issuer, and a site per host name (HTTP redirects to HTTPS by default). */
export function routesCaddyfile(edge: EdgeSettings, routes: readonly EdgeRoute[]): string {
    const lines = ["{", ...stableGlobals(edge), ...issuerGlobals(edge), "}", ""];
    for (const route of routes) lines.push(`# tenant ${route.tenant}`, ...siteBlock(route), "");
    return lines.join("\n");
}

/** What the routes one-shot runs: wait for the edge's admin socket, then hand it the configuration. */
export function reloadScript(): string {
    return [
        // The operator's certificates first (0400, the edge's user), then those no longer listed go.
        `mkdir -p ${EDGE_CERTS_DIR}`,
        `for f in ${EDGE_CERTS_UPLOAD_DIR}/*; do [ -e "$f" ] && install -m 0400 "$f" ${EDGE_CERTS_DIR}/; done`,
        `for f in ${EDGE_CERTS_DIR}/*; do [ -e "$f" ] && [ ! -e "${EDGE_CERTS_UPLOAD_DIR}/$(basename "$f")" ] && rm -f "$f"; done`,
        "i=0",
        `until [ -S ${EDGE_ADMIN_SOCKET} ]; do`,
        "  i=$((i+1))",
        `  if [ "$i" -gt 240 ]; then echo "the edge's admin socket ${EDGE_ADMIN_SOCKET} did not appear in 120 s: is ${EDGE_NAMES.container} running? (docker logs ${EDGE_NAMES.container})" >&2; exit 1; fi`,
        "  sleep 0.5",
        "done",
        `exec caddy reload --config ${EDGE_CADDYFILE} --adapter caddyfile --address unix/${EDGE_ADMIN_SOCKET} --force`,
    ].join("\n");
}

/**
 * What joins the edge to a tenant's network, run by Pulumi on the machine that runs it, against
 * the target's Docker daemon (DOCKER_HOST): idempotent, so a rerun after a failure goes on.
 */
export const EDGE_CONNECT_SCRIPT =
    'docker network inspect --format \'{{range .Containers}}{{.Name}} {{end}}\' "$EDGE_NETWORK" | tr \' \' \'\\n\' | grep -qx "$EDGE_CONTAINER" || docker network connect "$EDGE_NETWORK" "$EDGE_CONTAINER"';
/** Its undoing, before the tenant's network goes; nothing to do when the edge is already gone. */
export const EDGE_DISCONNECT_SCRIPT = 'docker network disconnect --force "$EDGE_NETWORK" "$EDGE_CONTAINER" 2>/dev/null || true';

/** The environment the Docker CLI needs to reach the target's daemon as the provider does. */
export function dockerCliEnvironment(target: Target): Record<string, string> {
    return {
        DOCKER_HOST: target.dockerHost,
        ...(target.tls ? { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: target.tls.certPath } : {}),
    };
}

/** A container of the edge, fully decided; `components/edge.ts` declares it without a rule of its own. */
export interface EdgeContainerSpec {
    name: string;
    /** Secret files from the operator's certificates (mode 0400, root, the edge's user): path, host name and part. */
    secretFiles: { path: string; domain: string; part: "certificate" | "key" }[];
    image: string;
    command: string[];
    environment: Record<string, string>;
    /** Volume name -> path in the container. */
    volumes: { volumeName: string; containerPath: string; readOnly?: boolean }[];
    files: { path: string; content: string; mode: string }[];
    ports: { internal: number; external: number; ip: string }[];
    memoryMb: number;
    cpus: number;
    runsOnce: boolean;
    stopGraceSeconds: number;
    /**
     * The edge itself faces the internet, so nothing it runs may change its image's files: a
     * read-only root, its own files on volumes and a capped tmpfs. The routes one-shot keeps a
     * writable root: Docker writes uploads only there, it runs no request's code, and it exits.
     */
    readOnlyRoot: boolean;
    tmpfs: Tmpfs[];
}

/** The edge's budget, outside every tenant's: Caddy proxying a host's editors and webhooks. */
export const EDGE_LIMITS = { memoryMb: 256, cpus: 1 } as const;

const XDG = { XDG_DATA_HOME: EDGE_DATA_DIR, XDG_CONFIG_HOME: EDGE_CONFIG_DIR };

export function edgeContainer(target: Target & { edge: EdgeSettings }): EdgeContainerSpec {
    const edge = target.edge;
    return {
        name: EDGE_NAMES.container,
        image: edgeImage(),
        // --resume: after a restart or a replacement, the routes it was last given (autosave), not an empty edge.
        // Its Caddyfile comes in its environment, as Docker refuses uploads into a read-only root.
        command: ["sh", "-c", `printf '%s' "$EDGE_CADDYFILE_TEXT" > ${EDGE_BOOTSTRAP_CADDYFILE} && exec caddy run --resume --config ${EDGE_BOOTSTRAP_CADDYFILE} --adapter caddyfile`],
        environment: { ...XDG, EDGE_CADDYFILE_TEXT: bootstrapCaddyfile(edge) },
        volumes: [
            { volumeName: EDGE_NAMES.volumes.data, containerPath: EDGE_DATA_DIR },
            { volumeName: EDGE_NAMES.volumes.config, containerPath: EDGE_CONFIG_DIR },
            { volumeName: EDGE_NAMES.volumes.admin, containerPath: EDGE_ADMIN_DIR },
            { volumeName: EDGE_NAMES.volumes.certs, containerPath: EDGE_CERTS_DIR, readOnly: true },
        ],
        files: [],
        secretFiles: [],
        readOnlyRoot: true,
        tmpfs: [{ path: "/tmp", sizeMb: 16 }],
        // Inside, Caddy listens on the published numbers, so that its redirects name the right port.
        ports: [
            { internal: edge.httpPort, external: edge.httpPort, ip: target.publishAddress },
            { internal: edge.httpsPort, external: edge.httpsPort, ip: target.publishAddress },
        ],
        memoryMb: EDGE_LIMITS.memoryMb,
        cpus: EDGE_LIMITS.cpus,
        runsOnce: false,
        stopGraceSeconds: EDGE_GRACE_SECONDS + 5,
    };
}

/** The one-shot that gives the running edge its routes; replaced (and so run again) whenever they change. */
export function edgeRoutesContainer(target: Target & { edge: EdgeSettings }, tenants: readonly TenantPlan[], operatorDomains: readonly string[] = []): EdgeContainerSpec {
    const routes = edgeRoutes(tenants, operatorDomains);
    const secretFiles = routes
        .filter((r) => r.operatorCertificate)
        .flatMap((r) => (["certificate", "key"] as const).map((part) => ({ path: `${EDGE_CERTS_UPLOAD_DIR}/${certificateFiles(r.domain)[part]}`, domain: r.domain, part })));
    return {
        name: EDGE_NAMES.routes,
        image: edgeImage(),
        command: ["sh", "-c", reloadScript()],
        environment: XDG,
        volumes: [
            { volumeName: EDGE_NAMES.volumes.admin, containerPath: EDGE_ADMIN_DIR, readOnly: true },
            { volumeName: EDGE_NAMES.volumes.certs, containerPath: EDGE_CERTS_DIR },
        ],
        files: [{ path: EDGE_CADDYFILE, content: routesCaddyfile(target.edge, routes), mode: "0444" }],
        secretFiles,
        ports: [],
        memoryMb: 128,
        cpus: 0.5,
        runsOnce: true,
        stopGraceSeconds: 10,
        readOnlyRoot: false,
        tmpfs: [],
    };
}
