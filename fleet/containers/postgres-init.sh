#!/bin/bash
# Creates, or on a second run brings up to date, the least-privilege role n8n logs in with and its
# database, connected as the superuser, as n8n-hosting does; the superuser is never given to n8n.
# Two callers: the postgres image runs it on the first start of a tenant's PostgreSQL container
# (local socket); for an RDS tenant, a one-shot container runs it with RDS's master user over
# verified TLS (PGHOST, PGSSLMODE, PGSSLROOTCERT). Executed, not sourced: mode 0755.
set -euo pipefail

# The superuser's password arrives as a file (*_FILE) or, for older declarations, as a variable;
# psql takes it from PGPASSWORD, never from its command line.
read_secret() {
    local name=$1 file_name="${1}_FILE"
    if [ -n "${!file_name:-}" ]; then cat "${!file_name}"; else printf '%s' "${!name:-}"; fi
}
PGPASSWORD=$(read_secret POSTGRES_PASSWORD)
export PGPASSWORD
# n8n's password never reaches a command line (where `ps` on the host shows it): psql reads it
# from its file itself, in a backquoted \set run by its own shell.
: "${N8N_DB_PASSWORD_FILE:?is not set: it names the file holding the password of the n8n role}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v db="$POSTGRES_DB" -v role="$N8N_DB_USER" <<'SQL'
\set password `cat "$N8N_DB_PASSWORD_FILE"`
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'password') \gexec
SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
GRANT ALL PRIVILEGES ON DATABASE :"db" TO :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
REVOKE ALL ON DATABASE postgres FROM PUBLIC;
SQL

# PostgreSQL 15 and later no longer let every role create tables in the public schema.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v role="$N8N_DB_USER" <<'SQL'
GRANT USAGE, CREATE ON SCHEMA public TO :"role";
SQL
