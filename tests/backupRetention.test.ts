/**
 * The backup sidecar's retention (fleet/containers/backup.sh prune), run for real on folders named as the
 * sidecar names its sets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "./harness/runFleet";
import { tempFolder } from "./harness/tempFiles";

const HOUR = 3_600_000;

/** `20261126T020000Z-scheduled`, as `date -u +%Y%m%dT%H%M%SZ` writes it. */
function setName(at: Date, kind: string): string {
    return `${at.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "")}-${kind}`;
}

function prune(sets: string[], keep: { hourly: number; daily: number; weekly: number }): string[] {
    const dir = join(tempFolder(), `backups-${Math.random().toString(36).slice(2)}`);
    for (const name of sets) mkdirSync(join(dir, name), { recursive: true });
    const result = spawnSync("bash", [join(PROJECT_ROOT, "fleet", "containers", "backup.sh"), "prune"], {
        env: { PATH: process.env.PATH, TENANT: "acme", BACKUPS_DIR: dir, KEEP_HOURLY: String(keep.hourly), KEEP_DAILY: String(keep.daily), KEEP_WEEKLY: String(keep.weekly) },
        encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stderr);
    return readdirSync(dir).sort();
}

/** ISO week of a UTC date, as `date +%G-W%V`. */
function isoWeek(day: Date): string {
    const d = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
    d.setUTCDate(d.getUTCDate() + 4 - (d.getUTCDay() || 7));
    const start = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
    return `${d.getUTCFullYear()}-W${String(Math.ceil(((d.getTime() - start.getTime()) / 86_400_000 + 1) / 7)).padStart(2, "0")}`;
}

test("daily sets: the newest of each of the last 7 days and of each of the last 4 ISO weeks are kept, the rest pruned", () => {
    const now = new Date("2026-11-26T02:00:00Z");
    const sets = Array.from({ length: 60 }, (_, i) => setName(new Date(now.getTime() - i * 24 * HOUR), "scheduled"));
    const kept = prune(sets, { hourly: 0, daily: 7, weekly: 4 });
    const days = sets.slice(0, 7);
    const weeks = new Map<string, string>();
    for (const name of sets) {
        const day = new Date(`${name.slice(0, 4)}-${name.slice(4, 6)}-${name.slice(6, 8)}T00:00:00Z`);
        if (!weeks.has(isoWeek(day))) weeks.set(isoWeek(day), name);
    }
    const expected = new Set([...days, ...[...weeks.values()].slice(0, 4)]);
    assert.deepEqual(kept, [...expected].sort());
    assert.ok(kept.length >= 7 && kept.length <= 11);
});

test("hourly sets: the newest 24 are kept on top of one per day and per week", () => {
    const now = new Date("2026-11-26T12:00:00Z");
    const sets = Array.from({ length: 72 }, (_, i) => setName(new Date(now.getTime() - i * HOUR), "scheduled"));
    const kept = prune(sets, { hourly: 24, daily: 7, weekly: 4 });
    for (const name of sets.slice(0, 24)) assert.ok(kept.includes(name), `${name} pruned`);
    // Beyond those, the newest set of each older day: 23:00 on the 24th and on the 23rd.
    assert.deepEqual(
        kept.filter((name) => !sets.slice(0, 24).includes(name)),
        ["20261123T230000Z-scheduled", "20261124T230000Z-scheduled"],
    );
});

test("sets taken before an upgrade, at archiving or by hand are never pruned", () => {
    const old = new Date("2025-01-01T00:00:00Z");
    const sets = ["before-n8n-2.40.0", "final", "manual"].map((kind, i) => setName(new Date(old.getTime() + i * HOUR), kind));
    const recent = Array.from({ length: 10 }, (_, i) => setName(new Date(Date.UTC(2026, 10, 26 - i)), "scheduled"));
    const kept = prune([...sets, ...recent], { hourly: 0, daily: 3, weekly: 0 });
    assert.deepEqual(kept, [...sets, ...recent.slice(0, 3)].sort());
});

test("an interrupted set (.incomplete-...) neither stops the pruning nor takes a day's place", () => {
    const now = new Date("2026-11-26T02:00:00Z");
    const sets = Array.from({ length: 5 }, (_, i) => setName(new Date(now.getTime() - i * 24 * HOUR), "scheduled"));
    const interrupted = `.incomplete-${setName(new Date(now.getTime() + HOUR), "scheduled")}`;
    const kept = prune([...sets, interrupted], { hourly: 0, daily: 3, weekly: 0 });
    assert.deepEqual(kept, [interrupted, ...sets.slice(0, 3)].sort());
});

test("a gate whose set exists takes no other: a restarted pre-upgrade gate does not fill the disk", async () => {
    const dir = join(tempFolder(), `backups-${Math.random().toString(36).slice(2)}`);
    const existing = setName(new Date("2026-11-20T02:00:00Z"), "before-n8n-2.41.1");
    mkdirSync(join(dir, existing), { recursive: true });
    const done = join(dir, "gate-done");
    // No database to dump: were a set taken, pg_dump would fail and the gate would exit without
    // marking itself done. Done, it stays up to hold its health, so the test ends it.
    const gate = spawn("bash", [join(PROJECT_ROOT, "fleet", "containers", "backup.sh"), "gate", "before-n8n-2.41.1"], {
        env: { PATH: process.env.PATH, TENANT: "acme", BACKUPS_DIR: dir, GATE_DONE_FILE: done, PGHOST: "/nonexistent" },
        stdio: ["ignore", "ignore", "pipe"],
        detached: true,
    });
    let stderr = "";
    gate.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const exited = once(gate, "exit");
    try {
        while (!existsSync(done) && gate.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
        // The whole process group: the gate and the sleep it holds its health with.
        if (gate.exitCode === null) process.kill(-(gate.pid ?? 0), "SIGTERM");
        await exited;
    }
    assert.ok(existsSync(done), `the gate did not mark itself done: ${stderr}`);
    assert.match(stderr, new RegExp(`set ${existing} exists; none taken`));
    assert.deepEqual(readdirSync(dir).sort(), [existing, "gate-done"].sort());
});
