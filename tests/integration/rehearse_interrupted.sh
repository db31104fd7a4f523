#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 42/03: an interrupted `rollback rehearse` left its scratch copy of the production
# database (`<db>_rehearse_...`, customer data) behind, and nothing named it; SIGTERM (what
# `systemctl stop` sends) exited 143 saying nothing while pg_restore went on writing. Now:
# SIGTERM and SIGINT end pg_restore and drop the scratch database, exit 130 with a message;
# after kill -9 `status` (no run at all) and `plan` name it with the command that drops it, and
# the next `rehearse` drops it — by its name AND the record written before it was created,
# never a database of the name it has no record of.
# Real PostgreSQL 15 and the real binary; exit 125 without them. ~1 min.
source "$(dirname "$0")/../support/itest.sh"
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/initdb" ] || { echo "skip: PostgreSQL 15 missing"; exit 125; }
cd "$WORK"

export PG_BASE=$(mktemp -d /tmp/rbpgi.XXXXXX) PG_PORT=54384
on_exit 'cd / && bash "$SRC/tests/support/pg_throwaway.sh" destroy'
bash "$SRC/tests/support/pg_throwaway.sh" start
psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE" -p "$PG_PORT" -U rollback "$@"; }
DSN="host=$PG_BASE port=$PG_PORT user=rollback dbname=shop"
scratch() { psql -d postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'shop\_rehearse\_%' ORDER BY 1"; }
restoring() { pgrep -f "pg_restore.*shop_rehearse_" > /dev/null; }

psql -d postgres -c "CREATE DATABASE shop"
# Big enough that a restore takes seconds: the signal comes while pg_restore writes.
psql -d shop -c "CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(1, 1500000) g"
mkdir cat
expect_rc 0 backup.out -- "$RB" backup --dsn "$DSN" --catalog cat --mark-good
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

# start_rehearse OUT: `rehearse` in the background (its own session: the signal goes to the
# engine alone, as systemd's does); waits until pg_restore writes into the scratch database.
start_rehearse() {
    setsid "$RB" rehearse -p pb.toml --state-dir st > "$1" 2>&1 < /dev/null &
    reh=$!
    for _ in $(seq 1 300); do
        restoring && [ -n "$(ls st/rehearsals/scratch/*.json 2>/dev/null)" ] && return 0
        sleep 0.05
    done
    cat "$1"; fail "pg_restore never started"
}

for sig in TERM INT; do
    start_rehearse "reh-$sig.out"
    sleep 0.3
    kill -$sig $reh
    rc=0; wait $reh || rc=$?
    [ "$rc" = 130 ] || { cat "reh-$sig.out"; fail "SIG$sig: exit $rc, not 130"; }
    contains "reh-$sig.out" "rollback: rehearse interrupted by SIG$sig: pg_restore ended, no scratch database left"
    contains "reh-$sig.out" "FAIL pg_restore into shop_rehearse_"
    ! restoring || fail "SIG$sig: pg_restore still runs after the engine exited"
    [ -z "$(scratch)" ] || fail "SIG$sig: the scratch database is left: $(scratch)"
    [ -z "$(ls st/rehearsals/scratch/ 2>/dev/null)" ] || fail "SIG$sig: its record is left"
    pass "SIG$sig: pg_restore ended, the scratch database dropped, its record removed, exit 130"
done

# kill -9: the scratch database stays — and is named, then dropped by the next rehearsal.
start_rehearse reh-kill.out
kill -9 $reh; wait $reh 2>/dev/null || true
for _ in $(seq 1 100); do restoring || break; sleep 0.1; done # the orphan ends or is ended
left=$(scratch)
[ -n "$left" ] || fail "kill -9: no scratch database to find (the test's premise)"
ls st/rehearsals/scratch/"$left".json > /dev/null || fail "no record of $left"
# One of the name that no record here names: named, never dropped.
foreign=shop_rehearse_2020_01_01t00_00_00_1
psql -d postgres -c "CREATE DATABASE $foreign"

expect_rc 0 status.out -- "$RB" status --state-dir st
contains status.out "no runs in"
contains status.out "$left: scratch database of a rollback rehearse that did not finish"
contains status.out "drop: psql "
contains status.out "DROP DATABASE \"$left\""
expect_rc 0 status.json -- "$RB" status --state-dir st --json
python3 - "$left" <<'PY' || fail "status --json: $(cat status.json)"
import json, sys
o = json.load(open("status.json"))
kinds = {l["name"]: l["kind"] for l in o["leftover_databases"]}
assert kinds.get(sys.argv[1]) == "rehearsal", kinds
PY
expect_rc 0 plan.out -- "$RB" plan -p pb.toml --state-dir st
contains plan.out "note  restore-db: database $left: scratch database of a rollback rehearse"
contains plan.out "note  restore-db: database $foreign: scratch database of a rollback rehearse"
pass "kill -9: status (no run) and plan name $left with its drop command"

expect_rc 0 reh-next.out -- "$RB" rehearse -p pb.toml --state-dir st
contains reh-next.out "restore-db: dropped scratch database $left left by an interrupted rehearsal (pid "
contains reh-next.out "restore-db: leftover $foreign: "
contains reh-next.out "not recorded here, so not dropped: drop it with: "
contains reh-next.out "step restore-db: ok"
[ "$(scratch)" = "$foreign" ] || fail "after the next rehearsal: $(scratch)"
[ -z "$(ls st/rehearsals/scratch/ 2>/dev/null)" ] || fail "records left: $(ls st/rehearsals/scratch/)"
pass "the next rehearse dropped $left (recorded), named $foreign (not recorded) and kept it"
