/**
 * Temporary files of a test process, all in one folder that is removed when the process exits,
 * whether its tests passed or failed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let folder: string | undefined;
let count = 0;

/** This process's temporary folder, created on first use. */
export function tempFolder(): string {
    if (folder === undefined) {
        const created = mkdtempSync(join(tmpdir(), "n8n-fleet-test-"));
        folder = created;
        // "exit" also runs after process.exit() and after a failed test run; only synchronous work is possible there.
        process.on("exit", () => rmSync(created, { recursive: true, force: true }));
    }
    return folder;
}

/** Writes `content` to a new file named `name` in a fresh subfolder, and returns its path. */
export function writeTempFile(name: string, content: string): string {
    const dir = join(tempFolder(), String(++count));
    mkdirSync(dir);
    const file = join(dir, name);
    writeFileSync(file, content);
    return file;
}
