/**
 * The stacks of the project are its `Pulumi.<stack>.yaml` files: CI builds its matrices from them,
 * so adding a stack file is how a stack joins previews, deployments and drift checks. A local
 * stack, one with a Docker host on a `unix://` socket, never does: on a CI runner that socket is
 * the runner's own Docker.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { RawStackSettings } from "../targets/stackSettings";
import { stackFileName, stackSettingsFromYaml } from "./stackFleet";

/** Characters Pulumi allows in a stack name; anything else would also be unsafe in a job name or a shell. */
const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

const STACK_FILE = /^Pulumi\.(.+)\.yaml$/;

export type StackList = { ok: true; stacks: string[] } | { ok: false; error: string };

/**
 * The stacks named by the files of a folder, sorted; `Pulumi.yaml` (the project file) is not a
 * stack. A stack file whose name Pulumi would refuse is an error, not skipped: a stack that
 * silently left CI would no longer be deployed or watched.
 */
export function stacksFromFileNames(fileNames: readonly string[]): StackList {
    const stacks: string[] = [];
    const refused: string[] = [];
    for (const fileName of fileNames) {
        const stack = STACK_FILE.exec(fileName)?.[1];
        if (stack === undefined) continue;
        if (STACK_NAME.test(stack)) stacks.push(stack);
        else refused.push(fileName);
    }
    if (refused.length > 0) {
        return {
            ok: false,
            error: `${refused.map((f) => JSON.stringify(f)).join(", ")}: not a valid stack name. Fix: rename it to Pulumi.<stack>.yaml with a stack name of letters, digits, "-", "_" and ".".`,
        };
    }
    if (stacks.length === 0) return { ok: false, error: "there is no Pulumi.<stack>.yaml here. Fix: create a stack with pulumi stack init and commit its Pulumi.<stack>.yaml." };
    return { ok: true, stacks: stacks.sort() };
}

/** A stack with a target on a `unix://` socket runs on the machine of whoever runs Pulumi. */
export function isLocalStack(raw: RawStackSettings): boolean {
    const targets = raw.targets !== null && typeof raw.targets === "object" ? Object.values(raw.targets) : [];
    return targets.some((target) => typeof target === "object" && target !== null && /^unix:/.test(String((target as { dockerHost?: unknown }).dockerHost)));
}

export type DeployedStacks = { ok: true; stacks: string[]; local: string[] } | { ok: false; error: string };

/**
 * The stacks of a folder that CI previews, deploys and drift-checks: every stack but the local
 * ones. A stack file that cannot be read stays in: its preview fails and says why.
 */
export function deployedStacks(dir: string): DeployedStacks {
    const listed = stacksFromFileNames(readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name));
    if (!listed.ok) return listed;
    const local = listed.stacks.filter((stack) => {
        const settings = stackSettingsFromYaml(readFileSync(join(dir, stackFileName(stack)), "utf8"), stackFileName(stack));
        return settings.ok && isLocalStack(settings.raw);
    });
    return { ok: true, stacks: listed.stacks.filter((stack) => !local.includes(stack)), local };
}

/** Why the local stacks are left out, for a note on standard error. */
export function localStacksNote(local: readonly string[]): string {
    return `left out as local (a Docker host on a unix:// socket, which on a CI runner is its own Docker): ${local.join(", ")}`;
}
