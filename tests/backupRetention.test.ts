/**
 * The backup sidecar's retention (fleet/containers/backup.sh prune), run for real on folders named as the
 * sidecar names its sets.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
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

/**
 * Runs `backup.sh once <kind>` with stand-ins for pg_dump and psql first on PATH (no database
 * here): `dumps` says whether pg_dump succeeds. The sets folder and the n8n files folder are the
 * test's own.
 */
function takeSet(dir: string, kind: string, env: Record<string, string>, dumps = true) {
    const bin = join(tempFolder(), `bin-${Math.random().toString(36).slice(2)}`);
    const files = join(tempFolder(), `n8n-files-${Math.random().toString(36).slice(2)}`);
    mkdirSync(bin, { recursive: true });
    mkdirSync(files, { recursive: true });
    writeFileSync(join(files, "database.sqlite.unused"), "n8n's files");
    const password = join(files, "..", `password-${Math.random().toString(36).slice(2)}`);
    writeFileSync(password, "secret");
    const pgDump = dumps ? '#!/bin/bash\nfor a in "$@"; do case "$a" in --file=*) echo dump > "${a#--file=}";; esac; done\n' : '#!/bin/bash\necho "could not connect to server" >&2; exit 1\n';
    writeFileSync(join(bin, "pg_dump"), pgDump, { mode: 0o755 });
    writeFileSync(join(bin, "psql"), "#!/bin/bash\necho 17.6\n", { mode: 0o755 });
    return spawnSync("bash", [join(PROJECT_ROOT, "fleet", "containers", "backup.sh"), "once", kind], {
        env: { PATH: `${bin}:${process.env.PATH}`, TENANT: "acme", BACKUPS_DIR: dir, N8N_FILES_DIR: files, KEY_FINGERPRINT: "sha256:abc", PGPASSWORD_FILE: password, PGDATABASE: "n8n_acme", ...env },
        encoding: "utf8",
    });
}

test("every gate takes a new set: a set of the same kind from an earlier try does not stand for it", () => {
    const dir = join(tempFolder(), `backups-${Math.random().toString(36).slice(2)}`);
    // Upgraded to 2.42.0 weeks ago, rolled back, and now tried again: the old set is no backup of today's data.
    const weeksOld = setName(new Date("2026-11-01T02:00:00Z"), "before-n8n-2.42.0");
    mkdirSync(join(dir, weeksOld), { recursive: true });
    writeFileSync(join(dir, "n8n-version"), "2.41.1\n");
    const result = takeSet(dir, "before-n8n-2.42.0", { DATA_VERSION_FROM_VOLUME: "1" });
    assert.equal(result.status, 0, result.stderr);
    const taken = result.stdout.trim();
    assert.match(taken, /^\d{8}T\d{6}Z-before-n8n-2\.42\.0$/);
    assert.notEqual(taken, weeksOld);
    assert.deepEqual(readdirSync(dir).filter((name) => name.endsWith("-before-n8n-2.42.0")).sort(), [weeksOld, taken].sort());
    const manifest = JSON.parse(readFileSync(join(dir, taken, "manifest.json"), "utf8"));
    // The data is still 2.41.1's: the set before an upgrade records the version it was taken from.
    assert.equal(manifest.n8nVersion, "2.41.1");
    assert.equal(manifest.kind, "before-n8n-2.42.0");
});

test("a set records the deployed n8n version, and null before an upgrade when no sidecar has recorded one", () => {
    const dir = join(tempFolder(), `backups-${Math.random().toString(36).slice(2)}`);
    const scheduled = takeSet(dir, "before-restore", { N8N_VERSION: "2.41.1" });
    assert.equal(scheduled.status, 0, scheduled.stderr);
    assert.equal(JSON.parse(readFileSync(join(dir, scheduled.stdout.trim(), "manifest.json"), "utf8")).n8nVersion, "2.41.1");
    const unknown = takeSet(dir, "before-n8n-2.42.0", { DATA_VERSION_FROM_VOLUME: "1" });
    assert.equal(unknown.status, 0, unknown.stderr);
    assert.equal(JSON.parse(readFileSync(join(dir, unknown.stdout.trim(), "manifest.json"), "utf8")).n8nVersion, null);
});

test("a failed set exits non-zero at once and leaves no set, no success mark and nothing half-written", () => {
    const dir = join(tempFolder(), `backups-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir, { recursive: true });
    const result = takeSet(dir, "before-n8n-2.42.0", { DATA_VERSION_FROM_VOLUME: "1" }, false);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /could not connect/);
    assert.equal(result.stdout, "");
    assert.deepEqual(readdirSync(dir).filter((name) => !name.startsWith(".incomplete-")), []);
    assert.ok(!existsSync(join(dir, "last-success")));
});

test("an RDS tenant's set holds its n8n files only, without touching any database", () => {
    const dir = join(tempFolder(), `backups-${Math.random().toString(36).slice(2)}`);
    // pg_dump would fail here: were it called, so would the set.
    const result = takeSet(dir, "scheduled", { N8N_VERSION: "2.41.1", DATABASE_IN: "rds", PGPASSWORD_FILE: "" }, false);
    assert.equal(result.status, 0, result.stderr);
    const set = result.stdout.trim();
    assert.deepEqual(readdirSync(join(dir, set)).sort(), ["manifest.json", "n8n-files.tar.gz"]);
    const manifest = JSON.parse(readFileSync(join(dir, set, "manifest.json"), "utf8"));
    assert.deepEqual([manifest.database, manifest.postgresVersion, manifest.files.map((f: { name: string }) => f.name)], [null, null, ["n8n-files.tar.gz"]]);
});
