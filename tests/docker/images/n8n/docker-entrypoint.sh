#!/bin/sh
# Entrypoint of the n8n stand-in, following the documented behaviour of the official image's
# entrypoint: trust mounted CA certificates, then run n8n with the container's command as its
# arguments (`start`, `worker --concurrency=N`, ...). See ../IMAGES.md.

if [ -d /opt/custom-certificates ]; then
    echo "Trusting custom certificates from /opt/custom-certificates."
    export NODE_OPTIONS="--use-openssl-ca $NODE_OPTIONS"
    export SSL_CERT_DIR=/opt/custom-certificates
    # OpenSSL finds certificates in a folder by their subject hash links.
    openssl rehash /opt/custom-certificates
fi

if [ ! -e /usr/local/lib/node_modules/n8n/bin/n8n ]; then
    echo "n8n is not installed in this image: mount the npm install of n8n read-only at /usr/local/lib/node_modules (n8nInstallMounts in tests/docker/images/build.ts)." >&2
    exit 1
fi

exec n8n "$@"
