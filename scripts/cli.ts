/**
 * What every command of the project does the same way: one usage line, `--help`, and a short
 * message instead of a stack trace for anything it does not understand.
 */
import { ParseArgsConfig, parseArgs } from "node:util";

/** Prints the message on standard error and exits: 1 for a problem found, 2 for a wrong command line. */
export function fail(message: string, code = 1): never {
    process.stderr.write(`${message}\n`);
    process.exit(code);
}

/**
 * Parses the command line with `config` plus `--help`; prints `usage` for `--help` (exit 0) and
 * with the reason for an unknown flag or a missing value (exit 2).
 */
export function parseCommandLine<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
    const help = process.argv.slice(2).some((arg) => arg === "--help" || arg === "-h");
    if (help) {
        process.stdout.write(`${usage}\n`);
        process.exit(0);
    }
    try {
        return parseArgs(config);
    } catch (error) {
        fail(`${(error as Error).message}\n${usage}`, 2);
    }
}
