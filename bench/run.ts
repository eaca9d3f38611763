/**
 * `npm run bench`: how the program scales. For fleets of 10, 100 and 300 tenants it loads the
 * program the way `pulumi up` does (the SDK's language host, TypeScript on, the mock monitor) and
 * prints wall time and peak memory beside the same figures for the floor (bench/floor.ts): a bare
 * program that registers exactly the same resources with the same inputs, the SDK's own cost.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Table from "cli-table3";

const ROOT = resolve(__dirname, "..");
const HOST = join(ROOT, "tests", "harness", "languageHost.js");
const SIZES = (process.env.N8N_FLEET_BENCH_SIZES ?? "10,100,300").split(",").map(Number);
/** Four hosts with room for every size; tenants spread over them, a third with two workers. */
const TARGETS = Object.fromEntries(
    ["us-east", "eu-west", "ap-south", "eu-north"].map((name) => [name, { dockerHost: `ssh://deploy@${name}.example.com`, publicHost: `${name}.example.com`, capacity: { cpus: 2000, memoryGb: 8000 } }]),
);

interface Measurement {
    resources: number;
    seconds: number;
    peakRssMb: number;
}

function fleet(size: number): unknown {
    const names = Object.keys(TARGETS);
    return {
        tenants: Array.from({ length: size }, (_, i) => ({ id: `tenant-${i}`, port: 10000 + i, target: names[i % names.length], ...(i % 3 === 0 ? { workers: 2 } : {}) })),
    };
}

function load(dir: string, label: string, config: Record<string, string>, options: { program?: string; recordFile?: string; env?: Record<string, string> }): Measurement {
    const reportFile = join(dir, `${label}.report.json`);
    // As `pulumi up` runs it: the SDK registers ts-node itself, type checks included.
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
    delete env.TS_NODE_TRANSPILE_ONLY;
    const child = spawnSync(process.execPath, [HOST, JSON.stringify({ config, program: options.program, recordFile: options.recordFile, reportFile })], {
        cwd: ROOT,
        env,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
    });
    if (child.status !== 0) throw new Error(`${label} failed (${child.status}):\n${child.stderr}`);
    const report = JSON.parse(readFileSync(reportFile, "utf8"));
    return { resources: report.resources.length, seconds: report.seconds, peakRssMb: report.peakRssMb };
}

function main(): void {
    const dir = mkdtempSync(join(tmpdir(), "n8n-fleet-bench-"));
    try {
        const table = new Table({ head: ["tenants", "resources", "program s", "floor s", "time ratio", "program MB", "floor MB", "memory ratio"], style: { head: [], border: [] } });
        for (const size of SIZES) {
            const tenantsFile = join(dir, `tenants-${size}.json`);
            writeFileSync(tenantsFile, JSON.stringify(fleet(size)));
            const config = { "n8n-fleet:tenantsFile": tenantsFile, "n8n-fleet:targets": JSON.stringify(TARGETS), "n8n-fleet:defaultTarget": "us-east" };
            const recordFile = join(dir, `record-${size}.json`);
            const program = load(dir, `program-${size}`, config, { recordFile });
            const floor = load(dir, `floor-${size}`, {}, { program: join(ROOT, "bench", "floor.ts"), env: { N8N_FLEET_REPLAY: recordFile } });
            if (floor.resources !== program.resources) throw new Error(`the floor registered ${floor.resources} resources, the program ${program.resources}`);
            table.push([
                String(size),
                String(program.resources),
                program.seconds.toFixed(1),
                floor.seconds.toFixed(1),
                (program.seconds / floor.seconds).toFixed(2),
                String(program.peakRssMb),
                String(floor.peakRssMb),
                (program.peakRssMb / floor.peakRssMb).toFixed(2),
            ]);
            process.stderr.write(`bench: ${size} tenants done\n`);
        }
        process.stdout.write(`Program vs floor under the SDK's language host (TypeScript on, mock monitor), Node ${process.version}:\n${table.toString()}\n`);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

main();
