/**
 * The tenant's files writer: the one container that receives files from Pulumi. Every other
 * container runs with a read-only root file system, into which Docker writes no upload (the Docker
 * provider writes uploads at `/`, and Docker refuses that on a read-only root), so each gets a
 * volume of its own, `<container>-run`, mounted read-only where it expects its files. This
 * one-shot receives them all as uploads under `/stage/<container>/`, with their modes and owners,
 * copies each set into its container's volume (every file replaced by a rename, never rewritten
 * in place, and files no longer declared removed), and exits. It runs no tenant code, reads
 * nothing a tenant wrote, and is on no network.
 *
 * Its Docker name carries a digest of everything it writes, so new files mean a new writer,
 * created (and run to its end) before the old one goes; the volumes stay.
 */
import type { TenantPlan } from "../tenants/plan";
import { ContainerSpec, SecretFile, fileDirs } from "./containerSpec";

export const STAGE_DIR = "/stage";
export const OUT_DIR = "/out";

/** The containers of `specs` that get files, each with its name: what the writer writes. */
export function containersWithFiles(specs: readonly ContainerSpec[]): ContainerSpec[] {
    return specs.filter((spec) => fileDirs(spec).length > 0);
}

const COPY_SCRIPT = `set -eu
for stage in ${STAGE_DIR}/*/; do
    container=$(basename "$stage")
    out=${OUT_DIR}/$container
    chmod 0755 "$out"
    for file in "$stage"*; do
        name=$(basename "$file")
        cp -p "$file" "$out/.$name.new"
        mv -f "$out/.$name.new" "$out/$name"
    done
    for file in "$out"/* "$out"/.*; do
        name=$(basename "$file")
        case "$name" in .|..) continue ;; esac
        [ -e "$file" ] || continue
        [ -e "$stage$name" ] || rm -rf "$file"
    done
    echo "n8n-fleet files writer: $container: $(ls "$out" | wc -l) files"
done
`;

/** The writer of `plan`'s tenant, for the containers `specs` declares (its name is completed with a digest by the component). */
export function filesWriterContainer(plan: TenantPlan, specs: readonly ContainerSpec[]): ContainerSpec {
    const targets = containersWithFiles(specs);
    const staged = (spec: ContainerSpec, path: string) => `${STAGE_DIR}/${spec.name}/${path.slice(path.lastIndexOf("/") + 1)}`;
    return {
        name: plan.names.filesWriter,
        role: "files-writer",
        image: plan.images.postgres,
        limits: { memoryMb: 64, cpuShares: 256 },
        command: ["sh", "-c", COPY_SCRIPT],
        environment: () => ({}),
        user: "0:0",
        networks: [],
        networkMode: "none",
        volumes: [],
        tmpfs: [],
        files: targets.flatMap((spec) => spec.files.map((file) => ({ ...file, path: staged(spec, file.path) }))),
        secretFiles: targets.flatMap((spec) => spec.secretFiles.map((file): SecretFile => ({ ...file, path: staged(spec, file.path) }))),
        writesFilesOf: targets.map((spec) => spec.name),
        ports: [],
        runsOnce: true,
        failureMeans: `the files of tenant "${plan.id}"'s containers could not be written, so none of them was started`,
        alwaysRuns: true,
        dropCapabilities: true,
        // Reading files staged for other users (0400), giving the copies their owners and modes.
        addCapabilities: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"],
        stopGraceSeconds: 10,
        waitForHealthy: false,
        after: [],
    };
}
