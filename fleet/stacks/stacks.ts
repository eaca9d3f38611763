/**
 * The stacks of the project are its `Pulumi.<stack>.yaml` files: CI builds its matrices from them,
 * so adding a stack file is how a stack joins previews, deployments and drift checks.
 */

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
