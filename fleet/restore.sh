#!/bin/bash
# Restores one backup set (fleet/backup.sh) into a tenant's database and n8n data folder, in a
# container of the tenant's postgres image while the tenant's n8n containers are stopped:
#
#   n8n-fleet-restore <set folder>
#
# Nothing is changed unless the set is whole (every checksum of its manifest matches) and was
# taken with the key in hand (KEY_FINGERPRINT): a set restored under another key would leave every
# credential unreadable, and n8n cannot re-encrypt them.
set -euo pipefail

SET=${1:?usage: n8n-fleet-restore <set folder>}
N8N_FILES=${N8N_FILES_DIR:-/n8n-data}
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

PGPASSWORD=$(cat "$PGPASSWORD_FILE")
export PGPASSWORD
# Objects are re-created and owned by the role that restores them: n8n's own.
pg_restore --clean --if-exists --no-owner --exit-on-error --single-transaction --dbname="$PGDATABASE" "$SET/database.dump"
# Over what is there: a fresh volume gets n8n's files; the key's `config` is never in a set, and
# n8n writes it again from the key it is given.
tar --extract --gzip --file="$SET/n8n-files.tar.gz" --directory="$N8N_FILES" --numeric-owner --same-permissions
echo "n8n-fleet-restore: restored $(basename "$SET") into database $PGDATABASE and $N8N_FILES" >&2
