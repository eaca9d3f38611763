/**
 * Values in the exact form the Docker provider (kreuzwerker/terraform-provider-docker, under
 * @pulumi/docker) reads back from Docker. The provider stores what it reads, so a declared value in
 * any other form shows as a change on every later `pulumi up`; for `cpus`, which forces
 * replacement, that would restart the container every time.
 */

const NANO = 1_000_000_000n;

/**
 * Docker's NanoCPUs for a `cpus` string, as the provider parses it on create (docker/cli's
 * `opts.ParseCPUs`: a decimal that must come to a whole number of nano-CPUs).
 */
export function parseCpus(cpus: string): bigint {
    const match = /^(\d+)(?:\.(\d{0,9}))?$/.exec(cpus);
    if (!match) throw new Error(`"${cpus}" is not a CPU count`);
    const [, whole, fraction = ""] = match;
    return BigInt(whole) * NANO + BigInt(fraction.padEnd(9, "0"));
}

/**
 * How the provider writes NanoCPUs back into state (its `nanoInt64ToDecimalString`): nine decimals;
 * when that string holds exactly nine zeros, one decimal, rounded (1 -> "1.0", 0.05 -> "0.1");
 * otherwise trailing zeros trimmed (0.25 -> "0.25", 10 -> "10.").
 */
export function cpusReadBack(nanoCpus: bigint): string {
    if (nanoCpus === 0n) return "0";
    const nine = `${nanoCpus / NANO}.${(nanoCpus % NANO).toString().padStart(9, "0")}`;
    if ((nine.match(/0/g) ?? []).length === 9) {
        // One decimal, half away from zero, as Go's big.Rat FloatString(1) rounds.
        const tenths = (nanoCpus + NANO / 20n) / (NANO / 10n);
        return `${tenths / 10n}.${tenths % 10n}`;
    }
    return nine.replace(/0+$/, "");
}

/** The form Docker's `cpus` is declared in: whole, a dot, then one or two decimals. */
const DECLARED_CPUS = /^\d+\.\d{1,2}$/;

/** True when `cpus` survives create and read-back unchanged. */
export function isStableCpus(cpus: string): boolean {
    return DECLARED_CPUS.test(cpus) && cpusReadBack(parseCpus(cpus)) === cpus;
}

/** Every CPU quota is declared in hundredths of a core. */
export const CPU_STEP = 0.01;

/**
 * The largest CPU quota of at most `cpus` (in hundredths) that reads back unchanged, as the
 * provider will hold it: 0.3 -> "0.3", 1 -> "1.0", 0.25 -> "0.25", 10 -> "9.99" ("10." would not
 * parse back). Quotas under 0.1 never read back unchanged; the sizing keeps every container at 0.1 or more.
 */
export function stableCpus(cpus: number): string {
    for (let hundredths = Math.floor(cpus / CPU_STEP + 1e-9); hundredths >= 10; hundredths--) {
        const whole = Math.floor(hundredths / 100);
        const rest = hundredths % 100;
        const candidate = rest % 10 === 0 ? `${whole}.${rest / 10}` : `${whole}.${String(rest).padStart(2, "0")}`;
        if (isStableCpus(candidate)) return candidate;
    }
    throw new Error(`internal: no stable CPU quota at or below ${cpus}; the sizing gives every container at least 0.1`);
}

/**
 * Whole seconds as Go's `time.Duration.String()` writes them ("30s", "2m0s", "1h0m0s"). The
 * provider reads health check durations back from Docker in this form: "120s" would show as a
 * change to "2m0s" on every refresh.
 */
export function goDuration(seconds: number): string {
    if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`internal: ${seconds} is not a whole number of seconds`);
    const hours = Math.floor(seconds / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    const rest = seconds % 60;
    if (hours > 0) return `${hours}h${minutes}m${rest}s`;
    if (minutes > 0) return `${minutes}m${rest}s`;
    return `${rest}s`;
}
