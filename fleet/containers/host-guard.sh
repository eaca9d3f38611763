#!/bin/sh
# n8n-fleet host guard: the firewall rules that keep every tenant's containers away from the Docker
# host, the cloud's metadata service and the provider's private networks, whatever their code
# opens (raw sockets included, which n8n's own SSRF protection never sees). Runs in a container on
# the host's network namespace with NET_ADMIN and NET_RAW only, in the iptables backend dockerd
# uses (nft or legacy).
#
#   host-guard run      apply the rules, then apply them again every GUARD_PERIOD_SECONDS, so that
#                       a reboot, a dockerd restart or a reload of another firewall heals by itself
#   host-guard apply    apply once and exit
#   host-guard check    exit 0 when both jumps into the guard's chains are in place (health check)
#   host-guard remove   remove the jumps and the chains (the guard is gone from the host)
#
# Environment:
#   GUARD_FORWARD_CHAIN, GUARD_INPUT_CHAIN  the chains this guard owns (per fleet and target)
#   GUARD_RULES     one line per tenant bridge: "<bridge> <allowed CIDR>,<allowed CIDR>,..." (or "-")
#   GUARD_BLOCKED   space-separated CIDRs no tenant reaches unless its line allows them
#   GUARD_DIGEST    this guard's rule set; marked in its forward chain
#
# For each tenant bridge, in FORWARD (through Docker's DOCKER-USER chain, before Docker's own rules):
# traffic inside the bridge, replies, connections to ports the host publishes (Docker's DNAT: the
# HTTPS edge, a tenant's own webhooks) and DNS pass on to Docker's rules; the tenant's allowed
# ranges pass; the blocked ranges are refused (ICMP "administratively prohibited", so a caller
# sees EHOSTUNREACH at once, never a time-out). In INPUT, a tenant reaches no service of the host
# itself (sshd, a Docker API on tcp, exporters), on any of its addresses, except replies and what
# its allowed ranges name. Rules stay when the guard stops: a replaced guard never opens a gap.
#
# A new guard starts before the old one is removed (its name carries its rules' digest), and both
# own the same chains: the one started last wins. Each marks its rule set in the forward chain
# (a rule that matches nothing, with its digest as comment); a guard re-applies its rules only while
# the chains carry its own mark or none (flushed by something else), so the old one never puts its
# rules back over the new one's.
set -eu

: "${GUARD_FORWARD_CHAIN:?}" "${GUARD_INPUT_CHAIN:?}" "${GUARD_BLOCKED:?}"
GUARD_RULES=${GUARD_RULES:-}
PERIOD=${GUARD_PERIOD_SECONDS:-30}
# Legacy iptables serialises on a lock file; only dockerd and the guard write these tables, and the
# guard's changes are single transactions (iptables-restore) or idempotent inserts. Its own lock
# file is in its tmpfs (the root file system is read-only).
export XTABLES_LOCKFILE=${XTABLES_LOCKFILE:-/tmp/xtables.lock}

log() { printf '%s n8n-fleet-host-guard: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

# The backend dockerd wrote its chains with; plain `iptables` when neither shows them.
pick_backend() {
    for variant in iptables-nft iptables-legacy; do
        if command -v "$variant" >/dev/null 2>&1 && "$variant" -w -t filter -S DOCKER >/dev/null 2>&1; then
            IPT=$variant
            IPT_RESTORE=$variant-restore
            return
        fi
    done
    IPT=iptables
    IPT_RESTORE=iptables-restore
}

# Where FORWARD traffic is filtered before Docker's own rules: DOCKER-USER, or FORWARD itself when
# dockerd manages no iptables rules.
forward_hook() {
    if "$IPT" -w -t filter -S DOCKER-USER >/dev/null 2>&1; then echo DOCKER-USER; else echo FORWARD; fi
}

rules() {
    echo '*filter'
    echo ":$GUARD_FORWARD_CHAIN - [0:0]"
    echo ":$GUARD_INPUT_CHAIN - [0:0]"
    echo "-A $GUARD_FORWARD_CHAIN -m comment --comment \"n8n-fleet-guard ${GUARD_DIGEST:-none}\""
    printf '%s\n' "$GUARD_RULES" | while read -r bridge allowed; do
        [ -n "$bridge" ] || continue
        f="-A $GUARD_FORWARD_CHAIN -i $bridge"
        i="-A $GUARD_INPUT_CHAIN -i $bridge"
        echo "$f -o $bridge -j RETURN"
        echo "$f -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"
        echo "$f -m conntrack --ctstate DNAT -j RETURN"
        echo "$f -p udp --dport 53 -j RETURN"
        echo "$f -p tcp --dport 53 -j RETURN"
        echo "$i -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"
        if [ "$allowed" != "-" ] && [ -n "$allowed" ]; then
            for cidr in $(printf '%s' "$allowed" | tr ',' ' '); do
                echo "$f -d $cidr -j RETURN"
                echo "$i -d $cidr -j RETURN"
            done
        fi
        for cidr in $GUARD_BLOCKED; do
            echo "$f -d $cidr -j REJECT --reject-with icmp-admin-prohibited"
        done
        echo "$i -j REJECT --reject-with icmp-admin-prohibited"
    done
    echo 'COMMIT'
}

# Both chains are replaced whole in one transaction (declared chains are emptied first), then
# hooked in first place if they are not hooked yet.
apply() {
    rules | "$IPT_RESTORE" -w --noflush
    hook=$(forward_hook)
    "$IPT" -w -C "$hook" -j "$GUARD_FORWARD_CHAIN" 2>/dev/null || "$IPT" -w -I "$hook" 1 -j "$GUARD_FORWARD_CHAIN"
    "$IPT" -w -C INPUT -j "$GUARD_INPUT_CHAIN" 2>/dev/null || "$IPT" -w -I INPUT 1 -j "$GUARD_INPUT_CHAIN"
}

# The digest of the rule set in place now, or nothing.
applied_digest() {
    "$IPT" -w -S "$GUARD_FORWARD_CHAIN" 2>/dev/null | sed -n 's/.*--comment "\{0,1\}n8n-fleet-guard \([^" ]*\).*/\1/p' | head -n 1
}

check() {
    "$IPT" -w -C "$(forward_hook)" -j "$GUARD_FORWARD_CHAIN" && "$IPT" -w -C INPUT -j "$GUARD_INPUT_CHAIN"
}

remove() {
    for hook in DOCKER-USER FORWARD; do
        while "$IPT" -w -D "$hook" -j "$GUARD_FORWARD_CHAIN" 2>/dev/null; do :; done
    done
    while "$IPT" -w -D INPUT -j "$GUARD_INPUT_CHAIN" 2>/dev/null; do :; done
    for chain in "$GUARD_FORWARD_CHAIN" "$GUARD_INPUT_CHAIN"; do
        "$IPT" -w -F "$chain" 2>/dev/null || true
        "$IPT" -w -X "$chain" 2>/dev/null || true
    done
}

pick_backend
case "${1:-}" in
    apply) apply ;;
    check) check ;;
    remove) remove ;;
    run)
        apply
        log "rules applied with $IPT for $(printf '%s\n' "$GUARD_RULES" | grep -c .) tenant bridges"
        trap 'exit 0' TERM INT
        while true; do
            sleep "$PERIOD" &
            wait $!
            current=$(applied_digest)
            if [ -n "$current" ] && [ "$current" != "${GUARD_DIGEST:-none}" ]; then
                # A newer guard took over; this one is about to be removed.
                continue
            fi
            apply || log "applying the rules again failed; the health check turns unhealthy if the jumps are gone"
        done
        ;;
    *)
        echo "usage: host-guard run | apply | check | remove" >&2
        exit 2
        ;;
esac
