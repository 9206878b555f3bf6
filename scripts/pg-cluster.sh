#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests and the demo.
#
#   scripts/pg-cluster.sh start DIR [PORT]  initdb (if needed) and start a cluster: data in DIR/data,
#                                           log in DIR/log, Unix socket in DIR (trust), TCP on
#                                           127.0.0.1 only (scram-sha-256) on PORT or a free port.
#                                           Prints PGHOST=127.0.0.1 and PGPORT=N lines.
#                                           At initdb: $PG_EXTRA_CONF (lines) is appended to
#                                           postgresql.conf; PG_REPLICATION=1 also allows
#                                           replication connections (socket: trust, loopback: SCRAM).
#   scripts/pg-cluster.sh stop DIR          stop it (fast shutdown); no-op if it is not running.
#   scripts/pg-cluster.sh seed DIR          create (or reset) the login role `backup` with the
#                                           password in $PG_BACKUP_PASSWORD (generated and printed
#                                           as PG_BACKUP_PASSWORD=... if unset), member of
#                                           pg_read_all_data and pg_monitor.
#
# The superuser is `postgres`, reachable without a password through the socket only:
#   psql -h DIR -p N -U postgres
# Run as root, initdb/pg_ctl/psql run as the `postgres` OS user (DIR is chown'ed to it, and every
# parent directory of DIR must be traversable by it). Binaries: newest /usr/lib/postgresql/*/bin,
# or $PG_BINDIR. Passwords never go on an argv: seed feeds its SQL to psql on stdin.
set -euo pipefail

die() { echo "pg-cluster: $*" >&2; exit 1; }
usage() { die "usage: $0 start DIR [PORT] | stop DIR | seed DIR"; }

[[ $# -ge 2 ]] || usage
cmd=$1
mkdir -p -- "$2"
DIR=$(cd -- "$2" && pwd)
DATA=$DIR/data

if [[ -n ${PG_BINDIR:-} ]]; then
    BIN=$PG_BINDIR
else
    BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
[[ -n $BIN && -x $BIN/initdb && -x $BIN/pg_ctl ]] || die "no PostgreSQL server binaries (looked in /usr/lib/postgresql/*/bin; set PG_BINDIR)"

if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' OS user"
    run() { (cd "$DIR" && runuser -u postgres -- "$@"); }
else
    run() { (cd "$DIR" && "$@"); }
fi

running_port() {   # prints the port of a running cluster in DIR, or fails
    [[ -f $DATA/postmaster.pid ]] || return 1
    run "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1 || return 1
    sed -n 4p "$DATA/postmaster.pid"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case $cmd in
start)
    [[ $# -le 3 ]] || usage
    if port=$(running_port); then
        echo "PGHOST=127.0.0.1"; echo "PGPORT=$port"; exit 0
    fi
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$DIR"; fi
    chmod 0700 "$DIR"
    if [[ ! -f $DATA/PG_VERSION ]]; then
        run "$BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C --auth=trust >"$DIR/initdb.log" 2>&1 \
            || { cat "$DIR/initdb.log" >&2; die "initdb failed (log: $DIR/initdb.log)"; }
        cat >"$DATA/pg_hba.conf" <<HBA
# pg-cluster.sh: trust on the Unix socket in $DIR, passwords (SCRAM) on loopback TCP.
local   all   all                  trust
host    all   all   127.0.0.1/32   scram-sha-256
HBA
        if [[ ${PG_REPLICATION:-} == 1 ]]; then
            printf '%s\n' 'local   replication   all                  trust' \
                           'host    replication   all   127.0.0.1/32   scram-sha-256' >>"$DATA/pg_hba.conf"
        fi
        cat >>"$DATA/postgresql.conf" <<CONF

# pg-cluster.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
password_encryption = 'scram-sha-256'
logging_collector = off
fsync = off
CONF
        if [[ -n ${PG_EXTRA_CONF:-} ]]; then
            printf '\n# PG_EXTRA_CONF\n%s\n' "$PG_EXTRA_CONF" >>"$DATA/postgresql.conf"
        fi
    fi
    for attempt in 1 2 3 4 5 6 7 8; do
        if [[ $# -eq 3 ]]; then
            port=$3
        else
            port=$((20000 + RANDOM % 30000))
            if port_in_use "$port"; then continue; fi
        fi
        if run "$BIN/pg_ctl" -D "$DATA" -l "$DIR/log" -o "-p $port" -w -t 60 start >/dev/null; then
            echo "PGHOST=127.0.0.1"; echo "PGPORT=$port"; exit 0
        fi
        [[ $# -eq 3 ]] && break
    done
    tail -n 20 "$DIR/log" >&2 || true
    die "could not start the cluster in $DIR (log: $DIR/log)"
    ;;
stop)
    [[ $# -eq 2 ]] || usage
    if running_port >/dev/null; then
        run "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
    fi
    ;;
seed)
    [[ $# -eq 2 ]] || usage
    port=$(running_port) || die "no cluster running in $DIR"
    pw=${PG_BACKUP_PASSWORD:-}
    if [[ -z $pw ]]; then
        pw=$(head -c 18 /dev/urandom | base64 | tr -d '+/=')
        echo "PG_BACKUP_PASSWORD=$pw"
    fi
    lit=${pw//\'/\'\'}
    run "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$port" -U postgres -d postgres >/dev/null <<SQL
SELECT 'CREATE ROLE backup LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'backup') \gexec
ALTER ROLE backup LOGIN PASSWORD '$lit';
GRANT pg_read_all_data, pg_monitor TO backup;
SQL
    echo "PGUSER=backup"
    ;;
*) usage ;;
esac
