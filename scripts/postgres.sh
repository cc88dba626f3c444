#!/usr/bin/env bash
# Private, throw-away PostgreSQL server for tests.
#
#   scripts/postgres.sh start DIR   start (creating if needed) a server whose files all live in DIR,
#                                   then print ONE line on stdout: the Npgsql connection string.
#   scripts/postgres.sh stop DIR    stop that server if it is running (silent otherwise).
#   scripts/postgres.sh crash DIR   stop it at once, as a power cut would (pg_ctl -m immediate: no checkpoint; the
#                                   next start recovers from the WAL). For fault tests.
#
# Everything except the connection string goes to stderr, so callers can do
#   CONN=$(scripts/postgres.sh start /tmp/pg)
#
# Layout of DIR (owned by the user the server runs as, mode 700):
#   DIR/data          the cluster (initdb)
#   DIR/run           unix socket directory (only reachable by that user and root)
#   DIR/postgres.log  server log
#   DIR/port          TCP port of the last start
#
# When run as root the server runs as the unprivileged `postgres` user (initdb and
# pg_ctl refuse to run as root). PostgreSQL is installed from Debian's packages when
# no pg_ctl can be found. The server listens on 127.0.0.1 only. Debian's service
# scripts (systemctl / service / pg_ctlcluster) are deliberately not used.
set -euo pipefail

readonly DB_NAME=collections
readonly DB_USER=collections
readonly DB_PASSWORD=collections

log() { printf '%s\n' "postgres.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    printf 'usage: %s start|stop|crash DIR\n' "$0" >&2
    exit 2
}

# Prints the directory holding pg_ctl/initdb/psql, or fails.
find_pg_bin() {
    local p
    if p=$(command -v pg_ctl 2>/dev/null); then
        dirname "$(readlink -f "$p")"
        return 0
    fi
    # Debian keeps the server binaries out of PATH; take the newest installed major version.
    p=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n $p && -x $p/pg_ctl ]]; then
        printf '%s\n' "$p"
        return 0
    fi
    return 1
}

install_postgres() {
    [[ $EUID -eq 0 ]] || die "PostgreSQL is not installed and installing it needs root"
    command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and apt-get is not available"
    log "installing PostgreSQL from the Debian packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y postgresql >&2
}

# Runs a command as the user that owns the cluster.
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Succeeds when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints a TCP port that currently looks free, preferring the one used last time.
pick_port() {
    local port tries
    if [[ -r $DIR/port ]]; then
        port=$(<"$DIR/port")
        if [[ $port =~ ^[0-9]+$ ]] && ! port_in_use "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
    fi
    for ((tries = 0; tries < 200; tries++)); do
        port=$((20000 + RANDOM % 12000)) # below the kernel's ephemeral range (32768+), which outgoing connections draw from
        if ! port_in_use "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    die "could not find a free TCP port"
}

is_running() {
    [[ -f $DATA/PG_VERSION ]] && as_pg "$PG_BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

# The port of the running server: line 4 of postmaster.pid, else DIR/port.
running_port() {
    local port=""
    if [[ -r $DATA/postmaster.pid ]]; then
        port=$(sed -n '4p' "$DATA/postmaster.pid" 2>/dev/null || true)
    fi
    if [[ ! $port =~ ^[0-9]+$ && -r $DIR/port ]]; then
        port=$(<"$DIR/port")
    fi
    [[ $port =~ ^[0-9]+$ ]] || die "cannot tell which port the server in $DIR listens on"
    printf '%s\n' "$port"
}

print_connection_string() {
    printf 'Host=127.0.0.1;Port=%s;Username=%s;Password=%s;Database=%s\n' \
        "$1" "$DB_USER" "$DB_PASSWORD" "$DB_NAME"
}

prepare_dir() {
    mkdir -p "$DIR"
    if [[ $EUID -eq 0 ]]; then
        chown postgres:postgres "$DIR"
    fi
    chmod 700 "$DIR"
    as_pg test -w "$DIR" -a -x "$DIR" ||
        die "$DIR is not usable by the postgres user (is a parent directory private, e.g. under /root?); pick a directory such as /tmp/collections-pg"
    # Unix socket paths are limited to 107 bytes.
    local socket="$DIR/run/.s.PGSQL.65535"
    ((${#socket} <= 107)) || die "DIR path is too long for a unix socket path: $DIR"
    as_pg mkdir -p "$DIR/run"
    as_pg chmod 700 "$DIR/run"
}

init_cluster() {
    [[ -f $DATA/PG_VERSION ]] && return 0
    log "creating cluster in $DATA"
    as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 >&2 2>&1 ||
        die "initdb failed"
    # Only the owner can reach the socket directory, so local trust is safe;
    # TCP (127.0.0.1 only) requires a password.
    as_pg tee "$DATA/pg_hba.conf" >/dev/null <<'EOF'
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  scram-sha-256
EOF
    as_pg tee -a "$DATA/postgresql.conf" >/dev/null <<EOF

# Added by scripts/postgres.sh (private test server).
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR/run'
timezone = 'UTC'
log_timezone = 'UTC'
# The tests run many in-process engines at once, each with its own pools on a database of its own: a Grains.Tests run
# held 84 connections at its peak, close to the default 100 (97 for non-superusers), past which a connection is
# refused ("too many clients") and a test fails for no fault of the engine.
max_connections = 300
EOF
}

start_server() {
    local port attempt
    for ((attempt = 1; attempt <= 5; attempt++)); do
        port=$(pick_port)
        log "starting PostgreSQL on 127.0.0.1:$port (data in $DATA)"
        # 9>&-: the server must not inherit (and hold forever) the lock on DIR/.lock.
        if as_pg "$PG_BIN/pg_ctl" start -D "$DATA" -l "$DIR/postgres.log" -w -t 60 \
            -o "-p $port" >&2 9>&-; then
            as_pg tee "$DIR/port" >/dev/null <<<"$port"
            return 0
        fi
        log "start attempt $attempt failed; last lines of $DIR/postgres.log:"
        tail -n 5 "$DIR/postgres.log" >&2 || true
        rm -f "$DIR/port"
    done
    die "could not start PostgreSQL"
}

# Creates the application role and database if they do not exist yet.
create_app_db() {
    local port=$1
    local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR/run" -p "$port" -U postgres -d postgres)
    as_pg "${psql[@]}" >&2 <<EOF
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '$DB_USER') THEN
        CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD';
    END IF;
END
\$\$;
-- Tests give each cluster a database of its own (its journal, event log and projection checkpoints).
ALTER ROLE $DB_USER CREATEDB;
EOF
    if [[ -z $(as_pg "${psql[@]}" -tAc "SELECT 1 FROM pg_catalog.pg_database WHERE datname = '$DB_NAME'") ]]; then
        as_pg "${psql[@]}" -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" >&2
    fi
}

cmd_start() {
    if ! PG_BIN=$(find_pg_bin); then
        install_postgres
        PG_BIN=$(find_pg_bin) || die "PostgreSQL was installed but pg_ctl cannot be found"
    fi
    prepare_dir
    # Serialise concurrent start/stop calls on the same DIR.
    exec 9>>"$DIR/.lock"
    flock 9
    if is_running; then
        print_connection_string "$(running_port)"
        return 0
    fi
    init_cluster
    start_server
    local port
    port=$(<"$DIR/port")
    create_app_db "$port"
    print_connection_string "$port"
}

cmd_stop() {
    local mode=${1:-fast}
    [[ -d $DIR ]] || return 0
    PG_BIN=$(find_pg_bin) || return 0
    [[ -f $DATA/PG_VERSION ]] || return 0
    exec 9>>"$DIR/.lock"
    flock 9
    if is_running; then
        as_pg "$PG_BIN/pg_ctl" stop -D "$DATA" -m "$mode" -w -t 60 >/dev/null 2>&1 ||
            die "pg_ctl stop failed (see $DIR/postgres.log)"
    fi
}

main() {
    [[ $# -eq 2 ]] || usage
    local action=$1
    [[ -n $2 ]] || usage
    # Absolute path, so the script works from any working directory.
    case $2 in
        /*) DIR=$2 ;;
        *) DIR=$PWD/$2 ;;
    esac
    DIR=${DIR%/}
    DATA=$DIR/data
    # The server user may not be able to enter the caller's working directory.
    cd /
    case $action in
        start) cmd_start ;;
        stop) cmd_stop fast ;;
        crash) cmd_stop immediate ;;
        *) usage ;;
    esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
