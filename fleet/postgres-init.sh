#!/bin/bash
# Creates the least-privilege role n8n logs in with, as n8n-hosting does. The postgres image runs
# this once, when the data volume is empty; the superuser is never given to n8n.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v db="$POSTGRES_DB" -v role="$N8N_DB_USER" -v password="$N8N_DB_PASSWORD" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
GRANT ALL PRIVILEGES ON DATABASE :"db" TO :"role";
-- PostgreSQL 15 and later no longer let every role create tables in the public schema.
GRANT USAGE, CREATE ON SCHEMA public TO :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
REVOKE ALL ON DATABASE postgres FROM PUBLIC;
SQL
