/**
 * What the Docker tests print: tables of figures and the time each phase took, so a slow CI run
 * shows where the time went.
 */
import Table from "cli-table3";

/** Prints a titled table to stdout (Node's test runner shows a test file's output). */
export function printTable(title: string, head: string[], rows: (string | number)[][]): void {
    const table = new Table({ head, style: { head: [], border: [] } });
    table.push(...rows.map((row) => row.map(String)));
    console.log(`${title}\n${table.toString()}`);
}

/** Wall-clock time of each named phase of a test file. */
export class Phases {
    private readonly phases: { name: string; ms: number }[] = [];

    /** Runs `work` as (part of) phase `name`, recording its time also when it fails. */
    async time<T>(name: string, work: () => Promise<T>): Promise<T> {
        const started = performance.now();
        try {
            return await work();
        } finally {
            const phase = this.phases.find((p) => p.name === name);
            if (phase) phase.ms += performance.now() - started;
            else this.phases.push({ name, ms: performance.now() - started });
        }
    }

    print(title: string): void {
        const total = this.phases.reduce((sum, phase) => sum + phase.ms, 0);
        printTable(title, ["phase", "seconds"], [...this.phases.map((phase) => [phase.name, (phase.ms / 1000).toFixed(1)]), ["total", (total / 1000).toFixed(1)]]);
    }
}

/** Bytes as MiB with one decimal. */
export function mib(bytes: bigint | number): string {
    return (Number(bytes) / (1024 * 1024)).toFixed(1);
}
