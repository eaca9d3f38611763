#!/bin/sh
# n8n-fleet envelopes: one cgroup per tenant on a Docker host, the parent of every container of
# that tenant (Docker's cgroup-parent), holding the tenant's whole budget: CPU (a CFS quota), memory,
# a PID cap and a block-I/O weight. Its containers share it: an idle sidecar's CPU is the worker's,
# and nothing the tenant's processes do (a fork loop, a CPU-bound Code node on every worker) goes
# past it. Runs in a container with the host's cgroup file system bound at ENVELOPE_ROOT, as root
# with CAP_DAC_OVERRIDE only (a cgroup v1 hierarchy's root folder is mode 0555, even for root).
#
#   envelopes run     apply the limits, then again every ENVELOPE_PERIOD_SECONDS (a reboot empties
#                     the cgroup tree, and Docker recreates a tenant's parent without limits)
#   envelopes apply   apply once and exit
#   envelopes check   exit 0 when every tenant's cgroup holds its limits (health check)
#
# Environment:
#   ENVELOPE_ROOT     where the host's /sys/fs/cgroup is mounted in this container
#   ENVELOPE_PARENT   the fleet's folder under the cgroup root, per fleet and target
#   ENVELOPE_RULES    one line per tenant: "<tenant> <CPU quota in µs per 100 ms> <memory bytes> <pids> <io weight>"
#
# cgroup v2 (one hierarchy, cgroup.controllers at its top): cpu.max, memory.max, memory.swap.max,
# pids.max, io.weight. cgroup v1 (a hierarchy per controller): cpu.cfs_quota_us, memory.limit_in_bytes
# (and memory.memsw.limit_in_bytes where swap is accounted), pids.max, blkio.bfq.weight or
# blkio.weight. A weight file exists only under a proportional I/O scheduler (BFQ); without one the
# weight is skipped and said so once.
set -eu

: "${ENVELOPE_ROOT:?}" "${ENVELOPE_PARENT:?}"
ENVELOPE_RULES=${ENVELOPE_RULES:-}
PERIOD=${ENVELOPE_PERIOD_SECONDS:-30}
CFS_PERIOD=100000

log() {
    echo "envelopes: $*"
}

is_v2() {
    [ -f "$ENVELOPE_ROOT/cgroup.controllers" ]
}

# Writes a value into a cgroup file; says which one refused it.
put() {
    if ! printf '%s\n' "$2" > "$1" 2>/dev/null; then
        log "could not write $2 into $1"
        return 1
    fi
}

# v2: lets the children of a folder have the controllers the envelope limits.
enable_controllers() {
    for controller in cpu memory pids io; do
        if grep -qw "$controller" "$1/cgroup.controllers" 2>/dev/null && ! grep -qw "$controller" "$1/cgroup.subtree_control" 2>/dev/null; then
            put "$1/cgroup.subtree_control" "+$controller" || true
        fi
    done
}

# The I/O weight file of a v1 blkio folder, if the scheduler has one.
v1_weight_file() {
    for f in blkio.bfq.weight blkio.weight; do
        [ -f "$1/$f" ] && { echo "$1/$f"; return 0; }
    done
    return 1
}

apply_tenant() {
    id=$1 quota=$2 memory=$3 pids=$4 weight=$5
    failed=0
    if is_v2; then
        dir="$ENVELOPE_ROOT/$ENVELOPE_PARENT/$id"
        mkdir -p "$dir"
        enable_controllers "$ENVELOPE_ROOT/$ENVELOPE_PARENT"
        enable_controllers "$dir"
        put "$dir/cpu.max" "$quota $CFS_PERIOD" || failed=1
        put "$dir/memory.max" "$memory" || failed=1
        [ ! -f "$dir/memory.swap.max" ] || put "$dir/memory.swap.max" 0 || failed=1
        put "$dir/pids.max" "$pids" || failed=1
        [ ! -f "$dir/io.weight" ] || put "$dir/io.weight" "default $weight" || failed=1
    else
        for controller in cpu memory pids blkio; do
            mkdir -p "$ENVELOPE_ROOT/$controller/$ENVELOPE_PARENT/$id"
        done
        put "$ENVELOPE_ROOT/cpu/$ENVELOPE_PARENT/$id/cpu.cfs_period_us" "$CFS_PERIOD" || failed=1
        put "$ENVELOPE_ROOT/cpu/$ENVELOPE_PARENT/$id/cpu.cfs_quota_us" "$quota" || failed=1
        mem="$ENVELOPE_ROOT/memory/$ENVELOPE_PARENT/$id"
        # With swap accounted, memory+swap may not be below memory: raise memory first only when lowering would fail.
        if [ -f "$mem/memory.memsw.limit_in_bytes" ]; then
            put "$mem/memory.limit_in_bytes" "$memory" 2>/dev/null || true
            put "$mem/memory.memsw.limit_in_bytes" "$memory" || failed=1
        fi
        put "$mem/memory.limit_in_bytes" "$memory" || failed=1
        put "$ENVELOPE_ROOT/pids/$ENVELOPE_PARENT/$id/pids.max" "$pids" || failed=1
        if file=$(v1_weight_file "$ENVELOPE_ROOT/blkio/$ENVELOPE_PARENT/$id"); then
            put "$file" "$weight" || failed=1
        fi
    fi
    return $failed
}

# Folders of tenants no longer listed go once their containers are gone (rmdir refuses a busy one).
remove_unlisted() {
    if is_v2; then
        parents="$ENVELOPE_ROOT/$ENVELOPE_PARENT"
    else
        parents=""
        for controller in cpu memory pids blkio; do parents="$parents $ENVELOPE_ROOT/$controller/$ENVELOPE_PARENT"; done
    fi
    for parent in $parents; do
        [ -d "$parent" ] || continue
        for dir in "$parent"/*/; do
            [ -d "$dir" ] || continue
            id=$(basename "$dir")
            printf '%s\n' "$ENVELOPE_RULES" | grep -q "^$id " || rmdir "$dir" 2>/dev/null || true
        done
    done
}

apply() {
    failed=0
    lines=$(printf '%s\n' "$ENVELOPE_RULES" | grep -c . || true)
    if [ "$lines" -gt 0 ]; then
        while read -r id quota memory pids weight; do
            [ -n "$id" ] || continue
            apply_tenant "$id" "$quota" "$memory" "$pids" "$weight" || failed=1
        done <<EOF
$ENVELOPE_RULES
EOF
    fi
    remove_unlisted
    return $failed
}

# Reads a v1 memory limit or a v2 file's first word.
first_word() {
    read -r value _ < "$1" && echo "$value"
}

check() {
    while read -r id quota memory pids weight; do
        [ -n "$id" ] || continue
        if is_v2; then
            dir="$ENVELOPE_ROOT/$ENVELOPE_PARENT/$id"
            [ "$(first_word "$dir/cpu.max")" = "$quota" ] || { echo "$id: cpu.max is $(cat "$dir/cpu.max" 2>/dev/null), not $quota $CFS_PERIOD"; return 1; }
            [ "$(first_word "$dir/memory.max")" = "$memory" ] || { echo "$id: memory.max is not $memory"; return 1; }
            [ "$(first_word "$dir/pids.max")" = "$pids" ] || { echo "$id: pids.max is not $pids"; return 1; }
        else
            [ "$(first_word "$ENVELOPE_ROOT/cpu/$ENVELOPE_PARENT/$id/cpu.cfs_quota_us")" = "$quota" ] || { echo "$id: cpu.cfs_quota_us is not $quota"; return 1; }
            [ "$(first_word "$ENVELOPE_ROOT/memory/$ENVELOPE_PARENT/$id/memory.limit_in_bytes")" = "$memory" ] || { echo "$id: memory.limit_in_bytes is not $memory"; return 1; }
            [ "$(first_word "$ENVELOPE_ROOT/pids/$ENVELOPE_PARENT/$id/pids.max")" = "$pids" ] || { echo "$id: pids.max is not $pids"; return 1; }
        fi
    done <<EOF
$ENVELOPE_RULES
EOF
}

case "${1:-}" in
    apply) apply ;;
    check) check ;;
    run)
        apply || log "some limits could not be set (above); the health check stays unhealthy until they are"
        if is_v2; then version=v2; else version=v1; fi
        log "limits of $(printf '%s\n' "$ENVELOPE_RULES" | grep -c . || true) tenants applied under $ENVELOPE_PARENT (cgroup $version)"
        if ! is_v2 && [ -d "$ENVELOPE_ROOT/blkio" ] && ! v1_weight_file "$ENVELOPE_ROOT/blkio" >/dev/null; then
            log "no blkio weight on this host (no BFQ scheduler): block I/O is not shared by weight"
        fi
        trap 'exit 0' TERM INT
        while true; do
            sleep "$PERIOD" &
            wait $!
            apply || log "applying the limits again failed"
        done
        ;;
    *)
        echo "usage: envelopes run | apply | check" >&2
        exit 2
        ;;
esac
