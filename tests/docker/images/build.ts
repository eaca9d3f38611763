/**
 * Stand-in images for the references the fleet pins (a tenant's four, the edge's Caddy, the host agents' shell image) (fleet/tenants/versions.ts), built on this machine
 * because no image registry is reachable: a Debian 13 base made with debootstrap, then one
 * `docker build` per image from the folders beside this file. Both the base and the finished images
 * are cached per machine as `docker save` tarballs, keyed by everything they are built from, so a
 * brand-new daemon only loads them. What each image reproduces is in IMAGES.md.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { lookup } from "node:dns/promises";
import {
    copyFileSync,
    cpSync,
    createReadStream,
    existsSync,
    linkSync,
    mkdirSync,
    mkdtempSync,
    readFileSync,
    readdirSync,
    renameSync,
    rmSync,
} from "node:fs";
import { isIP } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PINNED, PINNED_HOST_GUARD_IMAGE, TenantImages, edgeImage, tenantImages } from "../../../fleet/tenants/versions";

/** Every image the fleet pins for a tenant, and the edge's Caddy. */
export type StandInImages = TenantImages & { caddy: string };
import { unmountUnder } from "../daemon";

/** Where the n8n and runner containers see the npm install of n8n (its flat `node_modules`). */
export const N8N_INSTALL_TARGET = "/usr/local/lib/node_modules";

/** One read-only bind mount, in the shape Engine API clients and Pulumi take apart easily. */
export interface N8nInstallMount {
    /** Host folder: the `node_modules` of the npm install made by `.ci/install-n8n`. */
    source: string;
    /** Folder inside the container. */
    target: string;
    readOnly: true;
}

/** What {@link ensureImages} did. */
export interface EnsuredImages {
    /** The references now present in the daemon, exactly as `tenantImages(PINNED.n8n)` and `edgeImage()` name them. */
    images: StandInImages;
    /** `daemon`: already there; `cache`: loaded from the machine's cache; `build`: built now (and cached). */
    source: "daemon" | "cache" | "build";
    /** Duration of each phase that ran, in order. */
    timings: { phase: string; ms: number }[];
}

/** Options of {@link ensureImages}. */
export interface EnsureImagesOptions {
    /** Receives one line per phase (with its duration) and per decision. Default: stderr. */
    log?: (line: string) => void;
    /** Stops the running build step (debootstrap, docker build, ...) when aborted. */
    signal?: AbortSignal;
}

const SUITE = "trixie";
const DEFAULT_MIRROR = "http://deb.debian.org/debian";
const IMAGES_DIR = __dirname;
const NODE_BINARY = join(__dirname, "..", "..", "..", "node_modules", "node", "bin", "node");
/** Carried by every built image: tells a current image from one built from other inputs. */
const KEY_LABEL = "n8n-fleet.stand-in-key";

/** Each pinned reference, the folder it is built from, and whether the build needs Node 24. */
function builds(images: StandInImages): readonly { folder: string; ref: string; withNode: boolean }[] {
    return [
        { folder: "postgres", ref: images.postgres, withNode: false },
        { folder: "redis", ref: images.redis, withNode: false },
        { folder: "n8n", ref: images.n8n, withNode: true },
        { folder: "runners", ref: images.runners, withNode: true },
        { folder: "caddy", ref: images.caddy, withNode: false },
        // The targets' host guard: a shell and iptables, as the pinned docker:dind image has them.
        { folder: "host-guard", ref: PINNED_HOST_GUARD_IMAGE, withNode: false },
    ];
}

/**
 * Runs inside the debootstrapped tree (the "apt" phase). Every image inherits it, so it holds only
 * what all of them share; package lists are not kept, each Dockerfile fetches fresh ones.
 */
const BASE_SETUP = `set -eu
export DEBIAN_FRONTEND=noninteractive
# Maintainer scripts must not start services, neither here nor in the image builds.
printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d
# Test images need no manuals or documentation; copyright files stay.
cat > /etc/dpkg/dpkg.cfg.d/90-n8n-fleet-nodoc <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
EOF
printf 'APT::Install-Recommends "false";\\nAPT::Install-Suggests "false";\\n' > /etc/apt/apt.conf.d/90-n8n-fleet-norecommends
# Downloaded packages and apt's binary caches would otherwise stay in every image layer.
cat > /etc/apt/apt.conf.d/90-n8n-fleet-clean <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
apt-get update
# Certificates for TLS clients, zone data for TZ.
apt-get install -y ca-certificates tzdata
apt-get clean
rm -rf /var/lib/apt/lists/*
# Docker provides these per container; the build host's copies must not travel in the image.
: > /etc/resolv.conf
printf '127.0.0.1\\tlocalhost\\n::1\\tlocalhost ip6-localhost ip6-loopback\\n' > /etc/hosts
echo localhost > /etc/hostname
`;

/** `${N8N_FLEET_CACHE:-${XDG_CACHE_HOME:-~/.cache}/n8n-fleet}`, the same folder `.ci/install-n8n` uses. */
export function fleetCacheDir(): string {
    return process.env.N8N_FLEET_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "n8n-fleet");
}

/** The folder `.ci/install-n8n` installs n8n `version` into (it holds `node_modules/n8n`). */
export function n8nInstallDir(version: string): string {
    return join(fleetCacheDir(), `n8n-${version}`);
}

/**
 * The bind mount(s) every n8n and runner container needs: n8n is not copied into the stand-in
 * images, its npm install is mounted read-only where the official image has it. Throws, saying how
 * to install it, when that install is missing or unfinished.
 */
export function n8nInstallMounts(version: string): N8nInstallMount[] {
    const problem = n8nInstallProblem(version);
    if (problem) throw new Error(problem);
    return [{ source: join(n8nInstallDir(version), "node_modules"), target: N8N_INSTALL_TARGET, readOnly: true }];
}

function n8nInstallProblem(version: string): string | undefined {
    const dir = n8nInstallDir(version);
    const howToInstall =
        version === PINNED.n8n
            ? `Install it once per machine (a few minutes) with: PATH="$PWD/node_modules/.bin:$PATH" .ci/install-n8n`
            : `.ci/install-n8n installs the pinned version (${PINNED.n8n}) only; install ${version} the same way into ${dir}`;
    const packageJson = join(dir, "node_modules", "n8n", "package.json");
    // .ci/install-n8n writes .complete last: without it the install was interrupted.
    if (!existsSync(join(dir, ".complete")) || !existsSync(packageJson)) {
        return `n8n ${version} is not installed in ${dir} (or its install did not finish). ${howToInstall}`;
    }
    const installed: unknown = JSON.parse(readFileSync(packageJson, "utf8"));
    const installedVersion = typeof installed === "object" && installed !== null && "version" in installed ? installed.version : undefined;
    if (installedVersion !== version) {
        return `${dir} holds n8n ${String(installedVersion)}, not ${version}: delete the folder. ${howToInstall}`;
    }
    if (!existsSync(join(dir, "node_modules", "@n8n", "task-runner", "dist", "start.js"))) {
        return `${dir} has no @n8n/task-runner (dist/start.js), which the runner image starts: delete the folder. ${howToInstall}`;
    }
    return undefined;
}

/**
 * Makes the six pinned references present in the daemon: nothing to do when they are there and
 * current, `docker load` from the machine's cache when it holds them, otherwise build (debootstrap,
 * apt, import, one build per image) and save them to the cache for the next daemon.
 */
export async function ensureImages(daemon: { host: string }, options: EnsureImagesOptions = {}): Promise<EnsuredImages> {
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const images: StandInImages = { ...tenantImages(PINNED.n8n), caddy: edgeImage() };
    const problem = n8nInstallProblem(PINNED.n8n);
    if (problem) throw new Error(problem);
    if (!existsSync(NODE_BINARY)) throw new Error(`${NODE_BINARY} is missing: run npm ci first (the images copy the project's Node 24 binary)`);

    const timings: EnsuredImages["timings"] = [];
    const step = <T>(phase: string, work: () => Promise<T>) => timed(phase, work, timings, log);
    const docker = (args: string[]) => run("docker", ["-H", daemon.host, ...args], { signal: options.signal });
    const refs = builds(images).map(({ ref }) => ref);

    const mirror = debianMirror();
    const baseKey = hash(JSON.stringify({ suite: SUITE, variant: "minbase", mirror, setup: BASE_SETUP }));
    const key = await step("hash inputs", async () =>
        hash(JSON.stringify({ baseKey, files: await hashFolder(IMAGES_DIR), node: await hashFile(NODE_BINARY), pins: PINNED, images, refs })),
    );
    if (await allCurrent(docker, refs, key)) {
        log(`[images] ${refs.join(", ")} already present in the daemon`);
        return { images, source: "daemon", timings };
    }

    const cacheDir = join(fleetCacheDir(), "images");
    mkdirSync(cacheDir, { recursive: true });
    const imagesTarball = join(cacheDir, `images-${key}.tar`);
    if (existsSync(imagesTarball)) {
        await step("load", () => docker(["load", "--quiet", "--input", imagesTarball]));
        if (!(await allCurrent(docker, refs, key))) {
            throw new Error(`${imagesTarball} does not hold ${refs.join(", ")} built from the current inputs: delete it and run again`);
        }
        log(`[images] loaded from ${imagesTarball}`);
        return { images, source: "cache", timings };
    }

    log(`[images] building ${refs.join(", ")} (cache key ${key}); later runs load them from ${cacheDir}`);
    const baseTag = `n8n-fleet-stand-in/debian:${SUITE}-${baseKey}`;
    const baseTarball = join(cacheDir, `base-${SUITE}-${baseKey}.tar`);
    if (existsSync(baseTarball)) {
        await step("load base", () => docker(["load", "--quiet", "--input", baseTarball]));
    } else {
        await buildBase(mirror, baseTag, docker, daemon.host, step, options.signal);
        await step("save base", () => saveAtomically(baseTarball, [baseTag], docker));
        removeOthers(cacheDir, "base-", baseTarball);
    }

    // The builds fetch packages from the mirror, and the daemon's containers resolve no outside names.
    const mirrorHost = new URL(mirror).hostname;
    const addHost = isIP(mirrorHost) ? [] : ["--add-host", `${mirrorHost}:${await resolveHost(mirrorHost)}`];
    for (const { folder, ref, withNode } of builds(images)) {
        await step(`build ${ref}`, () => buildImage(folder, withNode, ref, baseTag, key, addHost, docker));
    }
    await step("save", () => saveAtomically(imagesTarball, refs, docker));
    removeOthers(cacheDir, "images-", imagesTarball);
    return { images, source: "build", timings };
}

type Docker = (args: string[]) => Promise<string>;
type Step = <T>(phase: string, work: () => Promise<T>) => Promise<T>;

async function buildBase(mirror: string, tag: string, docker: Docker, host: string, step: Step, signal: AbortSignal | undefined): Promise<void> {
    if (process.getuid?.() !== 0) throw new Error("building the Debian base needs root (debootstrap and chroot); run as root once, later runs only load the cache");
    const tree = mkdtempSync(join(tmpdir(), "n8f-rootfs-"));
    try {
        await step("debootstrap", () => run("debootstrap", ["--variant=minbase", SUITE, tree, mirror], { signal }));
        await step("apt", async () => {
            // apt and maintainer scripts expect /proc.
            await run("mount", ["-t", "proc", "proc", join(tree, "proc")]);
            try {
                await run("chroot", [tree, "/bin/sh", "-c", BASE_SETUP], { signal });
            } finally {
                unmountUnder(tree);
            }
        });
        await step("import", () =>
            run(
                "bash",
                [
                    "-c",
                    'set -o pipefail; tar --numeric-owner -C "$1" -c . | docker -H "$2" import --message "debootstrap --variant=minbase $3" --change "$4" --change "$5" - "$6"',
                    "import",
                    tree,
                    host,
                    SUITE,
                    // docker import sets no environment, and the Dockerfiles extend PATH.
                    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    'CMD ["bash"]',
                    tag,
                ],
                { signal },
            ),
        );
        await docker(["image", "inspect", "--format", "{{.Id}}", tag]);
    } finally {
        unmountUnder(tree);
        rmSync(tree, { recursive: true, force: true });
    }
}

async function buildImage(
    image: string,
    withNode: boolean,
    ref: string,
    baseTag: string,
    key: string,
    addHost: string[],
    docker: Docker,
): Promise<void> {
    const context = mkdtempSync(join(tmpdir(), `n8f-context-${image}-`));
    try {
        cpSync(join(IMAGES_DIR, image), context, { recursive: true });
        if (withNode) linkOrCopy(NODE_BINARY, join(context, "node"));
        await docker([
            "build",
            // The build steps run apt-get against the mirror; the daemon has no default bridge.
            "--network",
            "host",
            ...addHost,
            "--build-arg",
            `BASE=${baseTag}`,
            "--label",
            `${KEY_LABEL}=${key}`,
            "--label",
            `n8n-fleet.stand-in-for=${ref}`,
            "--tag",
            ref,
            context,
        ]);
    } finally {
        rmSync(context, { recursive: true, force: true });
    }
}

async function allCurrent(docker: Docker, refs: string[], key: string): Promise<boolean> {
    try {
        const labels = await docker(["image", "inspect", "--format", `{{ index .Config.Labels "${KEY_LABEL}" }}`, ...refs]);
        const lines = labels.trim().split("\n");
        return lines.length === refs.length && lines.every((line) => line.trim() === key);
    } catch {
        // At least one reference is missing.
        return false;
    }
}

/** Written under another name and renamed, so an interrupted save never looks like a cache entry. */
async function saveAtomically(tarball: string, refs: string[], docker: Docker): Promise<void> {
    const partial = `${tarball}.partial-${process.pid}`;
    try {
        await docker(["save", "--output", partial, ...refs]);
        renameSync(partial, tarball);
    } finally {
        rmSync(partial, { force: true });
    }
}

/** Older cache entries are a few hundred MB each and never read again. */
function removeOthers(dir: string, prefix: string, keep: string): void {
    for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (name.startsWith(prefix) && name.endsWith(".tar") && path !== keep) rmSync(path, { force: true });
    }
}

/**
 * The Debian mirror apt uses on this machine (the entry for the host's own suite), so debootstrap and
 * the image builds go where the machine is allowed to; N8N_FLEET_DEBIAN_MIRROR overrides it.
 */
function debianMirror(): string {
    const fromEnv = process.env.N8N_FLEET_DEBIAN_MIRROR;
    if (fromEnv) return fromEnv.replace(/\/+$/, "");
    const codename = /^VERSION_CODENAME=(.+)$/m.exec(readOr("/etc/os-release"))?.[1]?.trim();
    if (!codename) return DEFAULT_MIRROR;
    const listDir = "/etc/apt/sources.list.d";
    const files = ["/etc/apt/sources.list", ...(existsSync(listDir) ? readdirSync(listDir).sort().map((name) => join(listDir, name)) : [])];
    for (const file of files) {
        const text = readOr(file);
        if (file.endsWith(".sources")) {
            // deb822: stanzas separated by blank lines, fields "URIs:" and "Suites:".
            for (const stanza of text.split(/\n\s*\n/)) {
                const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, "mi").exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
                if (field("Suites").includes(codename) && field("Types").includes("deb")) {
                    const uri = field("URIs")[0];
                    if (uri) return uri.replace(/\/+$/, "");
                }
            }
        } else if (file.endsWith(".list")) {
            for (const line of text.split("\n")) {
                const words = line.replace(/\[[^\]]*\]/, "").trim().split(/\s+/);
                if (words[0] === "deb" && words[2] === codename && words[1]) return words[1].replace(/\/+$/, "");
            }
        }
    }
    return DEFAULT_MIRROR;
}

async function resolveHost(hostname: string): Promise<string> {
    try {
        return (await lookup(hostname, { family: 4 })).address;
    } catch (error) {
        throw new Error(`cannot resolve the Debian mirror ${hostname} (${(error as Error).message}); set N8N_FLEET_DEBIAN_MIRROR to a reachable mirror URL`);
    }
}

function linkOrCopy(source: string, target: string): void {
    try {
        linkSync(source, target);
    } catch {
        copyFileSync(source, target);
    }
}

function hash(text: string): string {
    return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

function hashFile(path: string): Promise<string> {
    return new Promise((resolvePromise, reject) => {
        const digest = createHash("sha256");
        createReadStream(path)
            .on("data", (chunk) => digest.update(chunk))
            .on("end", () => resolvePromise(digest.digest("hex")))
            .on("error", reject);
    });
}

/** Path and content of every file that goes into the images; the Markdown documentation does not. */
async function hashFolder(dir: string): Promise<Record<string, string>> {
    const files = readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile() && !entry.name.endsWith(".md"))
        .map((entry) => join(entry.parentPath, entry.name))
        .sort();
    const hashes: Record<string, string> = {};
    for (const file of files) hashes[relative(dir, file)] = await hashFile(file);
    return hashes;
}

function readOr(path: string): string {
    try {
        return readFileSync(path, "utf8");
    } catch {
        return "";
    }
}

async function timed<T>(phase: string, work: () => Promise<T>, timings: EnsuredImages["timings"], log: (line: string) => void): Promise<T> {
    const started = performance.now();
    const result = await work();
    const ms = Math.round(performance.now() - started);
    timings.push({ phase, ms });
    log(`[images] ${phase}: ${(ms / 1000).toFixed(1)} s`);
    return result;
}

/**
 * Runs a program to completion and returns what it printed; on failure the error carries its last
 * lines, which is where debootstrap, apt and docker build say what went wrong.
 */
function run(command: string, args: string[], options: { signal?: AbortSignal } = {}): Promise<string> {
    return new Promise((resolvePromise, reject) => {
        // The legacy builder: the machine's CLI may have no buildx plugin, and the daemon is 20.10.
        const env = { ...process.env, DOCKER_BUILDKIT: "0", DOCKER_CLI_HINTS: "false" };
        const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"], signal: options.signal });
        const output: string[] = [];
        let size = 0;
        const collect = (chunk: Buffer) => {
            output.push(chunk.toString("utf8"));
            size += chunk.length;
            // Only the end matters in an error message; keep memory bounded for long builds.
            while (size > 256_000 && output.length > 1) size -= output.shift()?.length ?? 0;
        };
        child.stdout.on("data", collect);
        child.stderr.on("data", collect);
        child.on("error", (error) => reject(new Error(`${command} could not run: ${error.message}`)));
        child.on("close", (code, signal) => {
            const text = output.join("");
            if (code === 0) return resolvePromise(text);
            const last = text.trimEnd().split("\n").slice(-40).join("\n");
            const shown = [command, ...args].map((arg) => (arg.length > 80 ? `${arg.slice(0, 77)}...` : arg)).join(" ");
            reject(new Error(`${shown} failed (${signal ?? `exit code ${code}`}):\n${last}`));
        });
    });
}
