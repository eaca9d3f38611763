#!/usr/bin/env bash
# Entrypoint of the postgres stand-in. It follows the documented behaviour of the official image's
# entrypoint (environment variables, first-start initialisation, init files, privilege drop) and is
# written for the n8n-fleet Docker test; see ../IMAGES.md.
#
# Not -u: files in /docker-entrypoint-initdb.d that are not executable are sourced into this shell,
# and the official image lets them read unset variables.
set -Eeo pipefail

INIT_DIR=/docker-entrypoint-initdb.d

# NAME from the environment or from the file named by NAME_FILE (Docker secrets), never both.
env_or_file() {
    local name=$1 default=${2:-}
    local file_name="${name}_FILE"
    local value=${!name:-} file=${!file_name:-}
    if [[ -n $value && -n $file ]]; then
        echo "error: both $name and $file_name are set; set only one of them" >&2
        exit 1
    fi
    if [[ -n $file ]]; then
        value=$(<"$file")
    fi
    export "$name=${value:-$default}"
    unset "$file_name"
}

load_settings() {
    env_or_file POSTGRES_PASSWORD
    env_or_file POSTGRES_USER postgres
    env_or_file POSTGRES_DB "$POSTGRES_USER"
    env_or_file POSTGRES_INITDB_ARGS
    : "${POSTGRES_HOST_AUTH_METHOD:=}"
}

# Arguments that make postgres print something and exit: no initialisation for those.
asks_for_information() {
    local arg
    for arg; do
        case $arg in
            -'?' | --help | --describe-config | -V | --version) return 0 ;;
        esac
    done
    return 1
}

# As root: give the data and socket folders to postgres. As any user: create them if missing.
prepare_folders() {
    mkdir -p "$PGDATA"
    # PostgreSQL refuses a data folder others can read; a foreign --user may not be allowed to chmod.
    chmod 0700 "$PGDATA" || :
    mkdir -p /var/run/postgresql || :
    chmod 3775 /var/run/postgresql || :
    if [[ $(id -u) == 0 ]]; then
        find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres: '{}' +
    fi
}

refuse_without_password() {
    if [[ -z $POSTGRES_PASSWORD && $POSTGRES_HOST_AUTH_METHOD != trust ]]; then
        cat >&2 <<'EOF'
Error: the database is not initialised and no superuser password is set.
       Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a non-empty value,
       or POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without one (not recommended).
EOF
        exit 1
    fi
    if [[ $POSTGRES_HOST_AUTH_METHOD == trust ]]; then
        echo "WARNING: POSTGRES_HOST_AUTH_METHOD=trust: every host connection is accepted without a password." >&2
    fi
}

run_initdb() {
    local -a extra=()
    # POSTGRES_INITDB_ARGS is a shell-quoted string, as in the official image.
    eval "extra=( ${POSTGRES_INITDB_ARGS:-} )"
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") "${extra[@]}"
}

# Host connections from anywhere, with the method the server hashes passwords for (scram-sha-256
# unless the command or POSTGRES_HOST_AUTH_METHOD says otherwise); local socket connections stay
# trusted, as initdb leaves them.
allow_host_connections() {
    local method=$POSTGRES_HOST_AUTH_METHOD
    if [[ -z $method ]]; then
        method=$(postgres -C password_encryption "$@")
    fi
    printf '\nhost all all all %s\n' "$method" >>"$PGDATA/pg_hba.conf"
}

# Socket only: nobody can connect over TCP to a half-initialised database.
start_setup_server() {
    local options
    options=$(printf '%q ' "$@" -c "listen_addresses=" -p "${PGPORT:-5432}")
    NOTIFY_SOCKET= PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -o "$options" -w start
}

stop_setup_server() {
    PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -m fast -w stop
}

# psql as the superuser over the local socket, stopping at the first error.
sql() {
    PGHOST= PGHOSTADDR= psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

create_database() {
    if [[ $POSTGRES_DB == postgres ]]; then
        return
    fi
    local exists
    exists=$(sql --dbname postgres --tuples-only --no-align --set db="$POSTGRES_DB" <<<"SELECT 1 FROM pg_database WHERE datname = :'db';")
    if [[ -z $exists ]]; then
        sql --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
}

run_init_files() {
    local file
    local -a files=()
    shopt -s nullglob
    files=("$INIT_DIR"/*)
    shopt -u nullglob
    for file in "${files[@]}"; do
        case $file in
            *.sh)
                if [[ -x $file ]]; then
                    echo "$0: running $file"
                    "$file"
                else
                    echo "$0: sourcing $file"
                    # shellcheck disable=SC1090
                    . "$file"
                fi
                ;;
            *.sql) echo "$0: running $file"; sql --dbname "$POSTGRES_DB" -f "$file" ;;
            *.sql.gz) echo "$0: running $file"; gunzip -c "$file" | sql --dbname "$POSTGRES_DB" ;;
            *.sql.xz) echo "$0: running $file"; xzcat "$file" | sql --dbname "$POSTGRES_DB" ;;
            *.sql.zst) echo "$0: running $file"; zstd -dc "$file" | sql --dbname "$POSTGRES_DB" ;;
            *) echo "$0: ignoring $file" ;;
        esac
    done
}

initialise() {
    refuse_without_password
    # Fail before initdb, not halfway, when the init folder cannot be read.
    ls "$INIT_DIR" >/dev/null
    run_initdb
    allow_host_connections "$@"
    # Needed only when POSTGRES_INITDB_ARGS made local connections ask for a password.
    export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
    start_setup_server "$@"
    create_database
    run_init_files
    stop_setup_server
    unset PGPASSWORD
    echo
    echo "PostgreSQL init process complete; ready for start up."
    echo
}

main() {
    if [[ ${1:0:1} == - ]]; then
        set -- postgres "$@"
    fi
    if [[ $1 == postgres ]] && ! asks_for_information "$@"; then
        load_settings
        prepare_folders
        if [[ $(id -u) == 0 ]]; then
            # Once as root to fix ownership, then the whole script again as postgres.
            HOME=$(getent passwd postgres | cut -d: -f6)
            export HOME
            exec setpriv --reuid=postgres --regid=postgres --init-groups -- "${BASH_SOURCE[0]}" "$@"
        fi
        if [[ -s $PGDATA/PG_VERSION ]]; then
            echo
            echo "PostgreSQL database directory appears to contain a database; skipping initialisation"
            echo
        else
            shift
            initialise "$@"
            set -- postgres "$@"
        fi
    fi
    exec "$@"
}

main "$@"
