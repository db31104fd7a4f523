#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A throwaway PostgreSQL 15 cluster for tests: start | stop | destroy | env.
#   PG_BASE     directory of the cluster (data/, server.log, the socket); short path (socket ≤ 107 B)
#   PG_PORT     port number used for the socket name (default 54330); no TCP listener
#   PG_OS_USER  unprivileged OS user that runs the server when we are root (default postgres)
#   PG_DURABLE  1: fsync, synchronous_commit and full_page_writes on (benchmarks); default off
# The bootstrap superuser is `rollback` (trust auth on the socket). One extra role, `rb_scram`,
# with password `rb-scram-pw` must authenticate with SCRAM: tests use it for "wrong password".
# Exits 125 (skip) when the PostgreSQL 15 server binaries are missing.
set -euo pipefail

cmd=${1:?usage: pg_throwaway.sh start|stop|destroy|env}
: "${PG_BASE:?PG_BASE must be set}"
PG_PORT=${PG_PORT:-54330}
PG_OS_USER=${PG_OS_USER:-postgres}
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

if [ ! -x "$BIN/initdb" ] || [ ! -x "$BIN/pg_ctl" ]; then
    echo "pg_throwaway: PostgreSQL 15 server binaries not found in $BIN; skipping" >&2
    exit 125
fi

AS=()
if [ "$(id -u)" -eq 0 ]; then
    AS=(runuser -u "$PG_OS_USER" --)
fi

case "$cmd" in
start)
    if [ -f "$PG_BASE/data/postmaster.pid" ] && "${AS[@]}" "$BIN/pg_ctl" -D "$PG_BASE/data" status >/dev/null 2>&1; then
        exit 0
    fi
    mkdir -p "$PG_BASE"
    chmod 0755 "$PG_BASE"
    if [ "$(id -u)" -eq 0 ]; then
        chown "$PG_OS_USER": "$PG_BASE"
    fi
    if [ ! -f "$PG_BASE/data/PG_VERSION" ]; then
        "${AS[@]}" "$BIN/initdb" -D "$PG_BASE/data" -U rollback -A trust -E UTF8 --locale=C -N >"$PG_BASE/initdb.log" 2>&1 ||
            { cat "$PG_BASE/initdb.log" >&2; exit 1; }
        # SCRAM for one role (first matching line wins), trust for everyone else.
        hba="$PG_BASE/data/pg_hba.conf"
        { echo "local all rb_scram scram-sha-256"; cat "$hba"; } >"$hba.new"
        cat "$hba.new" >"$hba" && rm -f "$hba.new"
    fi
    durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if [ "${PG_DURABLE:-0}" = 1 ]; then
        durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
    fi
    "${AS[@]}" "$BIN/pg_ctl" -D "$PG_BASE/data" -l "$PG_BASE/server.log" -w -t 30 \
        -o "-c listen_addresses='' -c port=$PG_PORT -c unix_socket_directories='$PG_BASE' $durability -c max_connections=50" \
        start >/dev/null
    "$BIN/psql" -X -q -h "$PG_BASE" -p "$PG_PORT" -U rollback -d postgres -v ON_ERROR_STOP=1 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rb_scram') THEN
    SET password_encryption = 'scram-sha-256';
    CREATE ROLE rb_scram LOGIN PASSWORD 'rb-scram-pw';
  END IF;
END $$;
SQL
    ;;
stop)
    if [ -f "$PG_BASE/data/postmaster.pid" ]; then
        "${AS[@]}" "$BIN/pg_ctl" -D "$PG_BASE/data" -m immediate -w stop >/dev/null
    fi
    ;;
destroy)
    if [ -f "$PG_BASE/data/postmaster.pid" ]; then
        "${AS[@]}" "$BIN/pg_ctl" -D "$PG_BASE/data" -m immediate -w stop >/dev/null || true
    fi
    rm -rf "$PG_BASE"
    ;;
env)
    echo "host=$PG_BASE port=$PG_PORT user=rollback dbname=postgres"
    ;;
*)
    echo "usage: pg_throwaway.sh start|stop|destroy|env" >&2
    exit 2
    ;;
esac
