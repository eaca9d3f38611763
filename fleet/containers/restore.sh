#!/bin/bash
# Restores one backup set (fleet/containers/backup.sh) into a tenant's database and n8n data folder, in a
# container of the tenant's postgres image while the tenant's n8n containers are stopped:
#
#   n8n-fleet-restore [--verify] <set folder>
#
# Nothing is changed unless the set is whole (every checksum of its manifest matches) and was
# taken with the key the tenant runs with (KEY_FINGERPRINT): a set restored under another key
# would leave every credential unreadable, and n8n cannot re-encrypt them. --verify makes only
# these checks, so a caller can run them before it stops anything.
set -euo pipefail

verify_only=no
if [ "${1:-}" = --verify ]; then
    verify_only=yes
    shift
fi
SET=${1:?usage: n8n-fleet-restore [--verify] <set folder>}
N8N_FILES=${N8N_FILES_DIR:-/n8n-data}
N8N_USER_FILES=${N8N_USER_FILES_DIR:-/n8n-user-files}
: "${KEY_FINGERPRINT:?}" "${PGPASSWORD_FILE:?}" "${PGDATABASE:?}"

refuse() {
    echo "n8n-fleet-restore: $*; nothing was changed." >&2
    exit 3
}

manifest="$SET/manifest.json"
[ -f "$manifest" ] || refuse "$SET holds no manifest.json: not a backup set"
taken_with=$(grep -o '"keyFingerprint": "[^"]*"' "$manifest" | cut -d'"' -f4)
if [ "$taken_with" != "$KEY_FINGERPRINT" ]; then
    refuse "the encryption key in hand ($KEY_FINGERPRINT) is not the one this set was taken with ($taken_with): restored with it, no credential could be decrypted. Use the tenant's own key from the escrow (encryptionKeys)"
fi
grep -o '"name": "[^"]*", "bytes": [0-9]*, "sha256": "[0-9a-f]*"' "$manifest" | while IFS='"' read -r _ _ _ name _ _ _ _ _ sum _; do
    [ -f "$SET/$name" ] || refuse "$name is missing from $SET"
    echo "$sum  $SET/$name" | sha256sum --check --quiet - >/dev/null 2>&1 || refuse "$name does not match its checksum in the manifest: the set is damaged"
done
if [ "$verify_only" = yes ]; then
    echo "n8n-fleet-restore: $(basename "$SET") is whole and was taken with the tenant's key" >&2
    exit 0
fi

PGPASSWORD=$(cat "$PGPASSWORD_FILE")
export PGPASSWORD
# In one transaction: first every relation, type and routine n8n's role owns in the public schema
# (also what a later migration made, which the set does not know: restoring an older set must not
# leave it, or n8n's migrations would meet tables they are about to create), then the set, whose
# objects are owned by the role that restores them, n8n's own. The grants on the schema stay.
# COMMIT is sent only when pg_restore read the whole set; otherwise psql ends inside the
# transaction and PostgreSQL rolls all of it back.
{
    echo 'BEGIN;'
    cat <<'SQL'
DO $$
DECLARE statement text;
BEGIN
    FOR statement IN
        SELECT format('DROP %s IF EXISTS public.%I CASCADE',
                      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                      c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relowner = current_user::regrole
        ORDER BY c.relkind = 'S'
    LOOP
        EXECUTE statement;
    END LOOP;
    FOR statement IN
        SELECT format('DROP TYPE IF EXISTS public.%I CASCADE', t.typname)
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r') AND t.typowner = current_user::regrole
    LOOP
        EXECUTE statement;
    END LOOP;
    FOR statement IN
        SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proowner = current_user::regrole
    LOOP
        EXECUTE statement;
    END LOOP;
END
$$;
SQL
    pg_restore --no-owner --file=- "$SET/database.dump" && echo 'COMMIT;'
} | psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --dbname="$PGDATABASE" >/dev/null
# Over what is there: a fresh volume gets n8n's files; the key's `config` is never in a set, and
# n8n writes it again from the key it is given.
if ! tar --extract --gzip --file="$SET/n8n-files.tar.gz" --directory="$N8N_FILES" --numeric-owner --same-permissions; then
    echo "n8n-fleet-restore: the database was restored from $(basename "$SET"), but its n8n files could not be: fix the cause above and run the restore again" >&2
    exit 1
fi
# Sets of n8n-fleet versions that keep the workflows' files folder on its own volume hold it too.
if [ -f "$SET/n8n-user-files.tar.gz" ] && ! tar --extract --gzip --file="$SET/n8n-user-files.tar.gz" --directory="$N8N_USER_FILES" --numeric-owner --same-permissions; then
    echo "n8n-fleet-restore: the database and n8n's data folder were restored from $(basename "$SET"), but the workflows' files could not be: fix the cause above and run the restore again" >&2
    exit 1
fi
echo "n8n-fleet-restore: restored $(basename "$SET") into database $PGDATABASE, $N8N_FILES and $N8N_USER_FILES" >&2
