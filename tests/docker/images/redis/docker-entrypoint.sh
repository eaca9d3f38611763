#!/bin/sh
# Entrypoint of the redis stand-in, following the documented behaviour of the official image's
# entrypoint; written for the n8n-fleet Docker test, see ../IMAGES.md.
set -e

# Options or a config file alone mean "run the server with these".
case "$1" in
    -* | *.conf) set -- redis-server "$@" ;;
esac

# Only a server started as root is moved to the redis user (after taking ownership of its working
# folder); any other command, or a container started with --user, runs exactly as given.
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --clear-groups -- "$0" "$@"
fi

# Data files readable by their owner only, unless the caller chose a umask already.
if [ "$(umask)" = 0022 ]; then
    umask 0077
fi

exec "$@"
