/**
 * Problems found in a user's files, and how they are located and printed:
 * `tenants.json:12:7: tenants[1].port: 80 is below 1024. Fix: ...`.
 */
import { findNodeAtLocation, Node as JsonNode } from "jsonc-parser";
import { closest, distance } from "fastest-levenshtein";
import type { core } from "zod";

export type JsonPath = readonly (string | number)[];

export interface Problem {
    /** File the user edits to fix it. */
    file: string;
    /** Where in the file, as a JSON path (config keys for stack files). */
    path: JsonPath;
    /** What is wrong and how to fix it, as a sentence. */
    message: string;
    /** 1-based position, when the file is JSON and the position is known. */
    line?: number;
    column?: number;
}

/** `tenants[1].resources.memoryGb` */
export function formatPath(path: JsonPath): string {
    return path.reduce<string>((text, key) => (typeof key === "number" ? `${text}[${key}]` : text ? `${text}.${key}` : key), "") || "(top level)";
}

export function formatProblem(problem: Problem): string {
    const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.column ?? 1}`;
    return `${where}: ${formatPath(problem.path)}: ${problem.message}`;
}

export function formatProblems(problems: readonly Problem[]): string {
    return problems.map(formatProblem).join("\n");
}

/** Turns a character offset into a 1-based line and column. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
    const before = text.slice(0, offset).split("\n");
    return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** Position of the deepest node of `path` that exists in the parsed file. */
export function locate(text: string, tree: JsonNode | undefined, path: JsonPath): { line: number; column: number } | undefined {
    if (!tree) return undefined;
    for (let depth = path.length; depth >= 0; depth--) {
        const node = findNodeAtLocation(tree, path.slice(0, depth) as (string | number)[]);
        if (node) {
            const anchor = node.parent?.type === "property" && depth === path.length ? node.parent : node;
            return lineAndColumn(text, anchor.offset);
        }
    }
    return undefined;
}

/** The value at `path`, shown in a message; values under `env` may hold secrets and are never shown. */
function shown(value: unknown, path: JsonPath): string {
    if (path.includes("env") && path[path.length - 1] !== "env") return "this value";
    const text = JSON.stringify(value);
    if (text === undefined) return "missing";
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function typeName(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "an array";
    if (Number.isInteger(value)) return "a whole number";
    return { string: "a string", number: "a number", boolean: "true or false", object: "an object" }[typeof value as string] ?? typeof value;
}

/** The fix of a value of the wrong type where the field has no hint of its own (an `env` value, say). */
function typeFix(expected: string, value: unknown, path: JsonPath): string {
    if (expected === "string" && (typeof value === "number" || typeof value === "boolean")) {
        return path.includes("env") ? " Fix: put the value in double quotes; environment values are strings." : ` Fix: put it in double quotes: "${String(value)}".`;
    }
    return ` Fix: write ${expected === "int" ? "a whole number" : `${/^[aeiou]/.test(expected) ? "an" : "a"} ${expected}`} here.`;
}

/** The nearest named key of a path: `resources` for `tenants[1].resources`, `tenants` for `tenants[1]`. */
export function lastField(path: JsonPath): string | undefined {
    return [...path].reverse().find((key): key is string => typeof key === "string");
}

/** The keys an object schema allows, for "allowed here" lists. */
export function schemaKeys(schema: { shape: Record<string, unknown> }): string[] {
    return Object.keys(schema.shape);
}

/** Allowed keys by the nearest named key of a path, or `fallback` where the table has none. */
export function keysByOwner(table: Readonly<Record<string, readonly string[]>>, fallback: readonly string[]): (path: JsonPath) => readonly string[] {
    return (path) => table[lastField(path) ?? ""] ?? fallback;
}

/** How each field is written correctly: the "Fix:" half of a message, keyed by field name. */
export type FieldHints = Readonly<Record<string, string>>;

function valueAt(root: unknown, path: JsonPath): unknown {
    return path.reduce<unknown>((node, key) => (node !== null && typeof node === "object" ? (node as Record<string | number, unknown>)[key] : undefined), root);
}

/** A few letters off, or the same long start with a different ending ("allowHosts" for "allowHostnames"). */
function looksLike(key: string, allowed: string): boolean {
    const edits = distance(key, allowed);
    if (edits <= Math.max(2, Math.floor(key.length / 3))) return true;
    let shared = 0;
    while (shared < Math.min(key.length, allowed.length) && key[shared] === allowed[shared]) shared++;
    return shared >= 6 && edits <= 5;
}

/**
 * `did you mean "<name>"? ` for the name nearest to what was written, compared in lower case, when
 * `isTypo` judges the two close enough; an empty string otherwise.
 */
export function didYouMean(written: string, names: readonly string[], isTypo: (written: string, nearest: string) => boolean): string {
    if (names.length === 0) return "";
    const lowered = written.toLowerCase();
    const nearest = closest(lowered, names.map((name) => name.toLowerCase()));
    const name = names.find((candidate) => candidate.toLowerCase() === nearest);
    return name !== undefined && isTypo(lowered, nearest) ? `did you mean "${name}"? ` : "";
}

function unknownKeyMessage(key: string, allowed: readonly string[], isolationHint: (key: string) => string | undefined): string {
    const suggestion = allowed.length > 0 ? closest(key, [...allowed]) : undefined;
    const isTypo = suggestion !== undefined && looksLike(key.toLowerCase(), suggestion.toLowerCase());
    // A near miss of an allowed key is a typo, even if it looks like an isolation setting ("allowHosts").
    const isolation = isTypo ? undefined : isolationHint(key);
    if (isolation) return `"${key}" cannot be set here: ${isolation}.`;
    const didYouMean = isTypo ? `did you mean "${suggestion}"? ` : "";
    return `unknown key "${key}". Fix: ${didYouMean}remove or rename it; allowed here: ${allowed.join(", ")}.`;
}

export interface IssueContext {
    file: string;
    text: string;
    tree: JsonNode | undefined;
    data: unknown;
    hints: FieldHints;
    /** Keys of the object at a path, for "allowed here" lists. */
    allowedKeys: (path: JsonPath) => readonly string[];
    /** Why a key is refused for isolation, when it looks like an attempt to set a database, Redis, key or token. */
    isolationHint: (key: string) => string | undefined;
}

/** One zod issue as one or more problems with a position, the offending value and the fix. */
export function issueToProblems(issue: core.$ZodIssue, context: IssueContext, prefix: JsonPath = []): Problem[] {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    const at = (p: JsonPath, message: string): Problem => ({ file: context.file, path: p, message, ...locate(context.text, context.tree, p) });
    const field = lastField(path);
    const hint = field !== undefined ? context.hints[field] : undefined;
    const fix = hint ? ` Fix: ${hint}.` : "";
    const value = valueAt(context.data, path);

    switch (issue.code) {
        case "unrecognized_keys":
            return issue.keys.map((key) => at([...path, key], unknownKeyMessage(key, context.allowedKeys(path), context.isolationHint)));
        case "invalid_key":
            return issue.issues.flatMap((inner) => issueToProblems(inner, context, path));
        case "invalid_union": {
            if (issue.discriminator === undefined) break;
            const discriminatorPath = path[path.length - 1] === issue.discriminator ? path : [...path, issue.discriminator];
            const discriminatorHint = context.hints[issue.discriminator];
            return [at(discriminatorPath, `${shown(valueAt(context.data, discriminatorPath), discriminatorPath)} is not a supported ${issue.discriminator}.${discriminatorHint ? ` Fix: ${discriminatorHint}.` : ""}`)];
        }
        case "invalid_type": {
            if (value === undefined) return [at(path, `is required but missing.${fix}`)];
            const expected = issue.expected === "int" ? "a whole number" : `${/^[aeiou]/.test(issue.expected) ? "an" : "a"} ${issue.expected}`;
            return [at(path, `must be ${expected}, and ${shown(value, path)} is ${typeName(value)}.${fix || typeFix(issue.expected, value, path)}`)];
        }
        case "too_small":
            return [at(path, `${shown(value, path)} is ${issue.origin === "string" ? "too short" : issue.origin === "array" ? "too short a list" : `below ${issue.minimum}`}.${fix}`)];
        case "too_big":
            return [at(path, `${shown(value, path)} is ${issue.origin === "string" ? `longer than ${issue.maximum} characters` : `above ${issue.maximum}`}.${fix}`)];
        case "invalid_value":
            return [at(path, `${shown(value, path)} is not one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}.${fix}`)];
    }
    // Schemas that set their own error text already say what is wrong and how to fix it.
    // A message that says what is wrong but not how to fix it gets the field's fix.
    if (issue.message.startsWith("Invalid")) return [at(path, `${shown(value, path)} is not valid.${fix}`)];
    return [at(path, `${issue.message}.${issue.message.includes("Fix:") ? "" : fix}`)];
}
