#!/bin/bash
# n8n-fleet backups of one tenant, run in a container of the tenant's own postgres image on its
# internal network. A backup set is a folder of the backup volume holding the database
# (pg_dump, custom format), the n8n data folder's files that matter, and a manifest.
#
#   n8n-fleet-backup loop          one set now, then one per BACKUP_PERIOD_SECONDS, pruning by retention
#   n8n-fleet-backup once <kind>   one set of that kind (pre-upgrade, final, before a restore), then
#                                  exit; prints the set's name. Every run takes a new set: the
#                                  gates before an upgrade and at archiving are one-shot containers,
#                                  so a new gate always takes a new set and a retried one never
#                                  stands for a set weeks old
#   n8n-fleet-backup prune         apply the retention to the scheduled sets, then exit
#
# Visible failures: a non-zero exit (once: `pulumi up` stops on it), the `last-failure` file and
# log line (loop), and the container's health check, which fails when `last-success` is older than
# two periods.
#
# The manifest's n8nVersion is the version of n8n whose data the set holds: the deployed one
# (N8N_VERSION), or, in the set taken before an upgrade (DATA_VERSION_FROM_VOLUME=1), the version
# the scheduled sidecar last recorded in the volume (`n8n-version`), since the program declares the
# version it upgrades to, not the one it replaces; null when no sidecar recorded one yet.
set -euo pipefail

# The container's mount points; a test points them elsewhere.
BACKUPS=${BACKUPS_DIR:-/backups}
N8N_FILES=${N8N_FILES_DIR:-/n8n-data}
# The workflows' files folder (Read/Write Files from Disk), on its own volume.
N8N_USER_FILES=${N8N_USER_FILES_DIR:-/n8n-user-files}
: "${TENANT:?}" "${KEEP_HOURLY:=0}" "${KEEP_DAILY:=7}" "${KEEP_WEEKLY:=4}"

log() { printf '%s n8n-fleet-backup %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$TENANT" "$*" >&2; }

# Files that matter: everything but the key n8n copies into `config` (the key is escrowed, never
# backed up beside the data), logs and caches.
pack_n8n_files() {
    tar --create --gzip --file="$1" --directory="$N8N_FILES" --numeric-owner \
        --exclude=./config --exclude='*.log' --exclude='./n8nEventLog*' --exclude=./.cache --exclude=./cache .
}

file_entry() {
    local path=$1
    printf '{ "name": "%s", "bytes": %s, "sha256": "%s" }' "$(basename "$path")" "$(stat -c %s "$path")" "$(sha256sum "$path" | cut -d' ' -f1)"
}

# The version of n8n whose data is in the database now, as a JSON value.
data_version_json() {
    if [ "${DATA_VERSION_FROM_VOLUME:-0}" = 1 ]; then
        if [ -s "$BACKUPS/n8n-version" ]; then printf '"%s"' "$(cat "$BACKUPS/n8n-version")"; else printf 'null'; fi
    else
        printf '"%s"' "${N8N_VERSION:?}"
    fi
}

# DATABASE_IN=rds: the tenant's database is managed RDS, which keeps its own backups and
# snapshots; a set then holds the n8n files only.
take_set() {
    : "${KEY_FINGERPRINT:?}"
    local kind=$1 stamp name work version server_version=null database=null entries
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    name="$stamp-$kind"
    work="$BACKUPS/.incomplete-$name"
    rm -rf "$work" && mkdir -p "$work"
    version=$(data_version_json)
    if [ "${DATABASE_IN:-container}" != rds ]; then
        : "${PGPASSWORD_FILE:?}"
        PGPASSWORD=$(cat "$PGPASSWORD_FILE")
        export PGPASSWORD
        # A lock another session holds fails the set instead of hanging what waits for it.
        pg_dump --format=custom --no-owner --lock-wait-timeout=60s --file="$work/database.dump"
        server_version="\"$(psql -tAc 'show server_version')\""
        database="\"$PGDATABASE\""
    fi
    pack_n8n_files "$work/n8n-files.tar.gz"
    entries=$(file_entry "$work/n8n-files.tar.gz")
    if [ -d "$N8N_USER_FILES" ]; then
        tar --create --gzip --file="$work/n8n-user-files.tar.gz" --directory="$N8N_USER_FILES" --numeric-owner .
        entries="$entries, $(file_entry "$work/n8n-user-files.tar.gz")"
    fi
    [ -f "$work/database.dump" ] && entries="$(file_entry "$work/database.dump"), $entries"
    cat >"$work/manifest.json" <<JSON
{
  "format": 1,
  "tenant": "$TENANT",
  "kind": "$kind",
  "createdAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "n8nVersion": $version,
  "postgresVersion": $server_version,
  "database": $database,
  "keyFingerprint": "$KEY_FINGERPRINT",
  "files": [ $entries ]
}
JSON
    mv "$work" "$BACKUPS/$name"
    date -u +%s >"$BACKUPS/last-success"
    rm -f "$BACKUPS/last-failure"
    log "backup set $name: $(du -sh "$BACKUPS/$name" | cut -f1)"
    TAKEN_SET=$name
}

# Scheduled sets are kept while they are among the newest KEEP_HOURLY sets, the last of one of the
# newest KEEP_DAILY days, or the last of one of the newest KEEP_WEEKLY ISO weeks. Sets of other
# kinds (pre-upgrade, final, manual) are never pruned.
prune() {
    local kept_hours=0 day week days=0 weeks=0 seen_days=" " seen_weeks=" " keep name
    # Complete sets only (an interrupted one is `.incomplete-...`), newest first in any locale.
    for name in $(find "$BACKUPS" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*T*Z-scheduled' -printf '%f\n' | LC_ALL=C sort -r); do
        keep=no
        day=${name:0:8}
        week=$(date -u -d "${day:0:4}-${day:4:2}-${day:6:2}" +%G-W%V)
        if [ "$kept_hours" -lt "$KEEP_HOURLY" ]; then kept_hours=$((kept_hours + 1)); keep=yes; fi
        if [[ $seen_days != *" $day "* ]]; then
            seen_days="$seen_days$day "
            days=$((days + 1))
            [ "$days" -le "$KEEP_DAILY" ] && keep=yes
        fi
        if [[ $seen_weeks != *" $week "* ]]; then
            seen_weeks="$seen_weeks$week "
            weeks=$((weeks + 1))
            [ "$weeks" -le "$KEEP_WEEKLY" ] && keep=yes
        fi
        if [ "$keep" = no ]; then
            rm -rf "${BACKUPS:?}/$name"
            log "pruned $name"
        fi
    done
}

case "${1:-}" in
    once)
        take_set "${2:?usage: n8n-fleet-backup once <kind>}"
        printf '%s\n' "$TAKEN_SET"
        ;;
    prune)
        prune
        ;;
    loop)
        : "${BACKUP_PERIOD_SECONDS:?}" "${N8N_VERSION:?}"
        # What the next set before an upgrade records as the version of the data.
        printf '%s\n' "$N8N_VERSION" >"$BACKUPS/n8n-version"
        trap 'kill $! 2>/dev/null; exit 0' TERM INT
        while true; do
            # A separate process: inside `if`, bash ignores `set -e` in the functions it calls.
            if "$0" once scheduled && prune; then :; else
                date -u +%s >"$BACKUPS/last-failure"
                log "backup failed; the health check turns unhealthy when the last success is two periods old"
            fi
            sleep "$BACKUP_PERIOD_SECONDS" &
            wait $!
        done
        ;;
    *)
        echo "usage: n8n-fleet-backup loop | once <kind> | prune" >&2
        exit 2
        ;;
esac
