#!/usr/bin/env bash
# `npm run pulumi -- <pulumi arguments>`: runs the Pulumi CLI you installed (on PATH, or where its
# installer puts it, ~/.pulumi/bin) with the project's Node 24 first on PATH, so the language host
# runs the program on the Node version it needs whatever Node the machine has. npm puts
# node_modules/.bin (with Node 24) first on PATH before it runs this script.
set -euo pipefail
cli=$(command -v pulumi || true)
if [ -z "$cli" ] && [ -x "${PULUMI_HOME:-$HOME/.pulumi}/bin/pulumi" ]; then
    cli="${PULUMI_HOME:-$HOME/.pulumi}/bin/pulumi"
fi
if [ -z "$cli" ]; then
    echo "The Pulumi CLI is not installed (not on PATH, not in ${PULUMI_HOME:-$HOME/.pulumi}/bin)." >&2
    echo "Fix: install it (https://www.pulumi.com/docs/install/), then run npm run pulumi -- $*" >&2
    exit 127
fi
exec "$cli" "$@"
