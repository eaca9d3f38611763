/**
 * The init script that creates n8n's role (fleet/containers/postgres-init.sh) runs on the
 * tenant's host, where `ps` shows every process's command line to anyone on it: no password may be
 * on one. A stand-in `psql` first on PATH records each command line it is given; the real
 * PostgreSQL run of the same script is the end-to-end test's (n8n logs in with the role it makes).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { POSTGRES_INIT_SCRIPT } from "../fleet/containers/postgres";
import { writeTempFile } from "./harness/tempFiles";

test("the init script passes no password on any command line, and psql reads n8n's from its file", () => {
    const superuserPassword = "superuser-secret-4b1d";
    const rolePassword = "n8n-role-secret-9c2e";
    const recorded = writeTempFile("argv.log", "");
    const psql = writeTempFile("psql", `#!/bin/bash\nprintf '%s\\n' "$*" >> "${recorded}"\ncat >> "${recorded}.stdin"\n`);
    chmodSync(psql, 0o755);
    const script = writeTempFile("init.sh", POSTGRES_INIT_SCRIPT.content);
    const result = spawnSync("bash", [script], {
        encoding: "utf8",
        env: {
            PATH: `${dirname(psql)}:/usr/bin:/bin`,
            POSTGRES_USER: "postgres",
            POSTGRES_DB: "n8n_acme",
            N8N_DB_USER: "n8n_acme",
            POSTGRES_PASSWORD_FILE: writeTempFile("postgres-password", superuserPassword),
            N8N_DB_PASSWORD_FILE: writeTempFile("n8n-database-password", rolePassword),
        },
    });
    assert.equal(result.status, 0, result.stderr);
    const commandLines = readFileSync(recorded, "utf8");
    assert.equal(commandLines.trim().split("\n").length, 2, "two psql runs");
    assert.ok(!commandLines.includes(rolePassword), `n8n's password is on a command line:\n${commandLines}`);
    assert.ok(!commandLines.includes(superuserPassword), `the superuser's password is on a command line:\n${commandLines}`);
    // psql gets the file's path, never its content, and reads it when it runs the script.
    const scriptText = readFileSync(`${recorded}.stdin`, "utf8");
    assert.ok(!scriptText.includes(rolePassword), "the password is not written into the script psql reads");
    assert.match(scriptText, /\\set password `cat "\$N8N_DB_PASSWORD_FILE"`/);
});

test("without the role's password file the init script stops before connecting, naming the variable", () => {
    const recorded = writeTempFile("argv.log", "");
    const psql = writeTempFile("psql", `#!/bin/bash\nprintf '%s\\n' "$*" >> "${recorded}"\n`);
    chmodSync(psql, 0o755);
    const script = writeTempFile("init.sh", POSTGRES_INIT_SCRIPT.content);
    const result = spawnSync("bash", [script], {
        encoding: "utf8",
        env: { PATH: `${dirname(psql)}:/usr/bin:/bin`, POSTGRES_USER: "postgres", POSTGRES_DB: "n8n_acme", N8N_DB_USER: "n8n_acme", POSTGRES_PASSWORD: "x" },
    });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /N8N_DB_PASSWORD_FILE/);
    assert.equal(readFileSync(recorded, "utf8"), "", "psql never ran");
});
