#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `backup verify --restore-test` restores a backup of production into a scratch database
# (`<db>_verify_...`, customer data) — the daily "verify backup completion" timer's job. Like an
# interrupted rehearsal (break-it 42/03), an interrupted verification left that copy behind and
# nothing named it. Now: SIGTERM and SIGINT end pg_restore and drop the scratch database, leave
# the manifest as it was, exit 130 with a message; after kill -9 `plan` names it with the command
# that drops it and the next verification drops it — by its name AND the record written in the
# catalog before it was created, never a database of the name it has no record of.
# Real PostgreSQL 15 and the real binary; exit 125 without them. ~1 min.
source "$(dirname "$0")/../support/itest.sh"
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/initdb" ] || { echo "skip: PostgreSQL 15 missing"; exit 125; }
cd "$WORK"

export PG_BASE=$(mktemp -d /tmp/rbpgi.XXXXXX) PG_PORT=54397
on_exit 'cd / && bash "$SRC/tests/support/pg_throwaway.sh" destroy'
bash "$SRC/tests/support/pg_throwaway.sh" start
psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE" -p "$PG_PORT" -U rollback "$@"; }
DSN="host=$PG_BASE port=$PG_PORT user=rollback dbname=shop"
scratch() { psql -d postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'shop\_verify\_%' ORDER BY 1"; }
restoring() { pgrep -f "pg_restore.*shop_verify_" > /dev/null; }
manifest() { cat cat/*.json | md5sum; }

psql -d postgres -c "CREATE DATABASE shop"
# Big enough that a restore takes seconds: the signal comes while pg_restore writes.
psql -d shop -c "CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(1, 1500000) g"
mkdir cat
expect_rc 0 backup.out -- "$RB" backup --dsn "$DSN" --catalog cat --mark-good
before=$(manifest)

# start_verify OUT: the restore test in the background (its own session: the signal goes to the
# engine alone, as systemd's does); waits until pg_restore writes into the scratch database.
start_verify() {
    setsid "$RB" backup verify --catalog cat --restore-test --dsn "$DSN" > "$1" 2>&1 < /dev/null &
    ver=$!
    for _ in $(seq 1 300); do
        restoring && [ -n "$(ls cat/scratch/*.json 2>/dev/null)" ] && return 0
        sleep 0.05
    done
    cat "$1"; fail "pg_restore never started"
}

for sig in TERM INT; do
    start_verify "ver-$sig.out"
    sleep 0.3
    kill -$sig $ver
    rc=0; wait $ver || rc=$?
    [ "$rc" = 130 ] || { cat "ver-$sig.out"; fail "SIG$sig: exit $rc, not 130"; }
    contains "ver-$sig.out" "rollback: backup verify interrupted by SIG$sig: pg_restore ended"
    contains "ver-$sig.out" "FAIL interrupted by SIG$sig: the verification did not finish"
    ! restoring || fail "SIG$sig: pg_restore still runs after the engine exited"
    [ -z "$(scratch)" ] || fail "SIG$sig: the scratch database is left: $(scratch)"
    [ -z "$(ls cat/scratch/ 2>/dev/null)" ] || fail "SIG$sig: its record is left"
    [ "$(manifest)" = "$before" ] || fail "SIG$sig: the manifest changed: $(cat cat/*.json)"
    pass "SIG$sig: pg_restore ended, the scratch database dropped, its record removed, manifest unchanged, exit 130"
done

# kill -9: the scratch database stays — and is named, then dropped by the next verification.
start_verify ver-kill.out
kill -9 $ver; wait $ver 2>/dev/null || true
for _ in $(seq 1 100); do restoring || break; sleep 0.1; done # the orphan ends or is ended
left=$(scratch)
[ -n "$left" ] || fail "kill -9: no scratch database to find (the test's premise)"
ls cat/scratch/"$left".json > /dev/null || fail "no record of $left"
# One of the name that no record here names: named, never dropped.
foreign=shop_verify_20200101t000000z1
psql -d postgres -c "CREATE DATABASE $foreign"
cat > pb.toml <<TOML
[playbook]
name = "db"
[[step]]
id = "restore-db"
phase = "database"
action = "pg_restore"
dsn = "$DSN"
catalog = "cat"
backup = "last_good"
TOML
expect_rc 0 plan.out -- "$RB" plan -p pb.toml --state-dir st
contains plan.out "note  restore-db: database $left: scratch database of a rollback backup verify --restore-test that did not finish"
contains plan.out "note  restore-db: database $foreign: scratch database of a rollback backup verify"
contains plan.out "DROP DATABASE \"$left\""
pass "kill -9: plan names $left with its drop command"

expect_rc 0 ver-next.out -- "$RB" backup verify --catalog cat --restore-test --dsn "$DSN"
contains ver-next.out "backup verify: dropped scratch database $left left by an interrupted backup verification (pid "
contains ver-next.out "row counts and checksums match"
[ "$(scratch)" = "$foreign" ] || fail "after the next verification: $(scratch)"
[ -z "$(ls cat/scratch/ 2>/dev/null)" ] || fail "records left: $(ls cat/scratch/)"
grep -q '"restore_tested_at": *"2' cat/*.json || fail "the finished verification did not record restore_tested_at"
pass "the next verification dropped $left (recorded), kept $foreign (not recorded), verified the backup"
