/**
 * The backup sidecar's retention (fleet/backup.sh prune), run for real on folders named as the
 * sidecar names its sets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
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
    const result = spawnSync("bash", [join(PROJECT_ROOT, "fleet", "backup.sh"), "prune"], {
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
