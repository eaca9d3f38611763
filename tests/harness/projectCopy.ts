/**
 * A project of a test's own: this repository's code and dependencies with stack and tenants files
 * the test writes, so that no test depends on what the repository's own tenants.json or
 * Pulumi.<stack>.yaml files hold (checking those is `npm run validate`'s job, in CI).
 */
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { stringify as stringifyYaml } from "yaml";
import { PROJECT_ROOT } from "./runFleet";
import { tempFolder } from "./tempFiles";

/** What the commands need to run: the code, the project file and the TypeScript settings. */
const CODE = ["scripts", "fleet", "package.json", "tsconfig.json", "Pulumi.yaml"];

/** One local Docker host, as a stack file declares it. */
export const LOCAL_STACK_CONFIG = {
    "n8n-fleet:tenantsFile": "tenants.json",
    "n8n-fleet:targets": { local: { dockerHost: "unix:///var/run/docker.sock", publicHost: "localhost", acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32 } } },
};

/** The text of a `Pulumi.<stack>.yaml` holding this config. */
export function stackFileText(config: Record<string, unknown>): string {
    return stringifyYaml({ config });
}

let folders = 0;

/** A new folder holding `files` (path -> content; objects are written as JSON), removed with the test process's temporary folder. */
export function folderWith(files: Record<string, string | object>): string {
    const dir = join(tempFolder(), `folder-${++folders}`);
    mkdirSync(dir);
    for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), typeof content === "string" ? content : `${JSON.stringify(content, null, 2)}\n`);
    }
    return dir;
}

/** {@link folderWith}, plus the project's code and its node_modules linked: the commands run there as in the repository. */
export function projectWith(files: Record<string, string | object>): string {
    const dir = folderWith(files);
    for (const path of CODE) cpSync(join(PROJECT_ROOT, path), join(dir, path), { recursive: true });
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(dir, "node_modules"));
    return dir;
}
