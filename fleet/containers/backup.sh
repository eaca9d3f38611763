#!/bin/bash
# n8n-fleet backups of one tenant, run in a container of the tenant's own postgres image on its
# internal network. A backup set is a folder of the backup volume holding the database
# (pg_dump, custom format), the n8n data folder's files that matter, and a manifest.
#
#   n8n-fleet-backup loop          one set now, then one per BACKUP_PERIOD_SECONDS, pruning by retention
#   n8n-fleet-backup once <kind>   one set of that kind (pre-upgrade, final, manual), then exit
#   n8n-fleet-backup prune         apply the retention to the scheduled sets, then exit
#   n8n-fleet-backup gate <kind>   one set of that kind unless one exists, then stay up, healthy, so
#                                  that what waits for it starts only once the set exists (and
#                                  never if it failed)
#
# Visible failures: a non-zero exit (once), the `last-failure` file and log line (loop), and the
# container's health check, which fails when `last-success` is older than two periods.
set -euo pipefail

# The container's mount points; a test points them elsewhere.
BACKUPS=${BACKUPS_DIR:-/backups}
N8N_FILES=${N8N_FILES_DIR:-/n8n-data}
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

take_set() {
    : "${N8N_VERSION:?}" "${KEY_FINGERPRINT:?}" "${PGPASSWORD_FILE:?}"
    local kind=$1 stamp name work
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    name="$stamp-$kind"
    work="$BACKUPS/.incomplete-$name"
    rm -rf "$work" && mkdir -p "$work"
    PGPASSWORD=$(cat "$PGPASSWORD_FILE")
    export PGPASSWORD
    pg_dump --format=custom --no-owner --file="$work/database.dump"
    local server_version
    server_version=$(psql -tAc 'show server_version')
    pack_n8n_files "$work/n8n-files.tar.gz"
    cat >"$work/manifest.json" <<JSON
{
  "format": 1,
  "tenant": "$TENANT",
  "kind": "$kind",
  "createdAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "n8nVersion": "$N8N_VERSION",
  "postgresVersion": "$server_version",
  "database": "$PGDATABASE",
  "keyFingerprint": "$KEY_FINGERPRINT",
  "files": [ $(file_entry "$work/database.dump"), $(file_entry "$work/n8n-files.tar.gz") ]
}
JSON
    mv "$work" "$BACKUPS/$name"
    date -u +%s >"$BACKUPS/last-success"
    rm -f "$BACKUPS/last-failure"
    log "backup set $name: $(du -sh "$BACKUPS/$name" | cut -f1)"
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
        ;;
    prune)
        prune
        ;;
    gate)
        # Once per kind: a restarted gate (a reboot, a resumed tenant) finds its set and takes no other.
        kind=${2:?usage: n8n-fleet-backup gate <kind>}
        taken=$(find "$BACKUPS" -mindepth 1 -maxdepth 1 -type d -name "[0-9]*T*Z-$kind" -printf '%f\n' -quit)
        if [ -n "$taken" ]; then log "set $taken exists; none taken"; else take_set "$kind"; fi
        touch "${GATE_DONE_FILE:-/tmp/n8n-fleet-backup-done}"
        sleep infinity &
        trap 'kill $! 2>/dev/null; exit 0' TERM INT
        wait $!
        ;;
    loop)
        : "${BACKUP_PERIOD_SECONDS:?}"
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
        echo "usage: n8n-fleet-backup loop | once <kind> | gate <kind> | prune" >&2
        exit 2
        ;;
esac
