/**
 * The folders of fleet/ say how data flows, and the imports follow it: each folder depends only on
 * the folders below it, and no file depends on itself through others. A newcomer can trust that
 * `fleet/tenants/` knows nothing of containers, and `fleet/containers/` nothing of reviews.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

const PROJECT_ROOT = resolve(__dirname, "..");
const FLEET = join(PROJECT_ROOT, "fleet");

/** Bottom to top; folders on one line are peers and may not import each other. */
const LAYERS: readonly (readonly string[])[] = [["forms"], ["targets"], ["tenants"], ["validation"], ["containers", "stacks"], ["review"]];

function rankOf(folder: string): number {
    const rank = LAYERS.findIndex((layer) => layer.includes(folder));
    assert.notEqual(rank, -1, `fleet/${folder}/ is in no layer of this test: place it in LAYERS`);
    return rank;
}

function sourceFiles(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        if (name === "node_modules" || name.startsWith(".")) return [];
        if (statSync(path).isDirectory()) return sourceFiles(path);
        return /\.ts$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
    });
}

/** The project's own files a file imports (type-only imports included: they are dependencies too). */
function localImports(file: string): string[] {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    return importedFiles
        .map((imported) => imported.fileName)
        .filter((name) => name.startsWith("."))
        .flatMap((name) => {
            const base = resolve(dirname(file), name);
            const found = [`${base}.ts`, join(base, "index.ts"), base].find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
            return found ? [found] : [];
        });
}

const fleetFolder = (file: string) => relative(FLEET, file).split(sep)[0];

test("every file of fleet/ is in a folder of a layer, none at its top", () => {
    for (const file of sourceFiles(FLEET)) {
        const path = relative(FLEET, file).split(sep);
        assert.ok(path.length === 2, `fleet/${path.join("/")}: a file belongs in one folder of fleet/, directly`);
        rankOf(path[0]);
    }
});

test("each folder of fleet/ imports only from its own folder and the layers below it", () => {
    const wrong: string[] = [];
    for (const file of sourceFiles(FLEET)) {
        const own = fleetFolder(file);
        for (const imported of localImports(file)) {
            const rel = relative(PROJECT_ROOT, imported);
            if (!rel.startsWith(`fleet${sep}`)) {
                wrong.push(`${relative(PROJECT_ROOT, file)} imports ${rel}: fleet/ is plain TypeScript beneath the program and the scripts`);
                continue;
            }
            const other = fleetFolder(imported);
            if (other !== own && rankOf(other) >= rankOf(own)) wrong.push(`${relative(PROJECT_ROOT, file)} (${own}) imports ${rel} (${other}), which is not below it`);
        }
    }
    assert.deepEqual(wrong, []);
});

test("no import circle in the program, the scripts or the tests", () => {
    const files = sourceFiles(PROJECT_ROOT);
    const edges = new Map(files.map((file) => [file, localImports(file)]));
    const state = new Map<string, "visiting" | "done">();
    const circles: string[] = [];
    const visit = (file: string, trail: string[]) => {
        if (state.get(file) === "done") return;
        if (state.get(file) === "visiting") {
            circles.push([...trail.slice(trail.indexOf(file)), file].map((f) => relative(PROJECT_ROOT, f)).join(" -> "));
            return;
        }
        state.set(file, "visiting");
        for (const next of edges.get(file) ?? []) visit(next, [...trail, file]);
        state.set(file, "done");
    };
    for (const file of files) visit(file, []);
    assert.deepEqual(circles, []);
});
