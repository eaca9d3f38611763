/**
 * The host guard's firewall rules on this machine: the guard container writes them into the host's
 * iptables (its network namespace is the host's) and leaves them when it stops, as it must on a
 * fleet host. A test removes them with the guard's own script, run here with the machine's iptables.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../harness/runFleet";

const SCRIPT = join(PROJECT_ROOT, "fleet", "containers", "host-guard.sh");

/** Runs the guard's script with `mode` and the guard's environment (`NAME=value` entries); its output. */
function guardScript(mode: "remove", env: readonly string[]): { status: number; output: string } {
    const variables = Object.fromEntries(env.filter((e) => e.startsWith("GUARD_")).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    const run = spawnSync("sh", [SCRIPT, mode], { env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...variables }, encoding: "utf8" });
    return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
}

/** Removes the jumps and chains of the guard whose environment is `env`; throws when the script fails. */
export async function removeGuardRules(env: readonly string[]): Promise<void> {
    const { status, output } = guardScript("remove", env);
    if (status !== 0) throw new Error(`removing the host guard's rules failed (exit ${status}): ${output}`);
}
