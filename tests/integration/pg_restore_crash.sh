#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A crash in the middle of a database restore is visible and resumable (real PostgreSQL 15, the
# real binary): the engine is SIGKILLed right after each stage of the pg_restore step is durable
# (ROLLBACK_TEST_KILL_AT_STAGE), then `rollback resume --yes` with no --mark-done must finish the
# restore: production restored exactly once and verified, the old database kept, the
# reconciliation written, no side database left. `--mark-done` before the swap warns and needs
# --yes; `status` and `plan` show leftover databases with the command that drops them.
source "$(dirname "$0")/../support/itest.sh"
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/initdb" ] || { echo "PostgreSQL 15 missing: skipped"; exit 125; }

export PG_BASE=$(mktemp -d /tmp/rbpgc.XXXXXX) PG_PORT=54332
on_exit 'bash "$SRC/tests/support/pg_throwaway.sh" destroy'
bash "$SRC/tests/support/pg_throwaway.sh" start
psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE" -p "$PG_PORT" -U rollback "$@"; }
q() { psql -d postgres -tAc "$1"; }
DSN="host=$PG_BASE port=$PG_PORT user=rollback dbname=shop"

# shop at backup time: 50 orders; after it, 5 more (the reconciliation must find exactly those).
psql -d postgres -c "CREATE DATABASE shop"
psql -d shop -c "CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g FROM generate_series(1, 50) g"
mkdir "$WORK/cat"
expect_rc 0 "$WORK/backup.out" -- "$RB" backup --dsn "$DSN" --catalog "$WORK/cat" --mark-good --tables orders

# (Re)makes production as it is at rollback time: the backup's 50 orders plus orders 51..55.
reset_shop() {
    for d in $(q "SELECT datname FROM pg_database WHERE datname LIKE 'shop%'"); do
        psql -d postgres -c "DROP DATABASE \"$d\" WITH (FORCE)"
    done
    psql -d postgres -c "CREATE DATABASE shop"
    psql -d shop -c "CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g FROM generate_series(1, 55) g"
}

make_playbook() { # DIR
    mkdir -p "$1"
    cat >"$1/pb.toml" <<TOML
[playbook]
name = "db"

[[step]]
id = "restore-db"
phase = "database"
action = "pg_restore"
dsn = "$DSN"
catalog = "$WORK/cat"
assert = [ { sql = "SELECT count(*) FROM orders", expect = 50 } ]
reconcile = [ { table = "orders", key = "id" } ]

[[step]]
id = "after"
phase = "verify"
action = "exec"
argv = ["true"]
TOML
}

# Production restored exactly once, verified, old database kept, reconciliation written.
check_restored() { # DIR RUN
    local dir=$1 run=$2 red
    red=$(echo "$run" | tr 'A-Z-' 'a-z_')
    [ "$(q "SELECT count(*) FROM pg_database WHERE datname = 'shop_rolledback_$red'")" = 1 ] || fail "$dir: old database not kept as shop_rolledback_$red"
    [ "$(psql -d shop -tAc "SELECT count(*) FROM orders")" = 50 ] || fail "$dir: shop is not the backup"
    [ "$(psql -d "shop_rolledback_$red" -tAc "SELECT count(*) FROM orders")" = 55 ] || fail "$dir: old database changed"
    [ "$(q "SELECT count(*) FROM pg_database WHERE datname LIKE 'shop_restore_%'")" = 0 ] || fail "$dir: side database left"
    [ "$(q "SELECT count(*) FROM pg_database WHERE datname LIKE 'shop_rolledback_%'")" = 1 ] || fail "$dir: swapped more than once"
    [ "$(q "SELECT string_agg(datallowconn::text, ',') FROM pg_database WHERE datname LIKE 'shop%'")" = "true,true" ] || fail "$dir: a database refuses connections"
    local csv="$dir/.rollback/runs/$run/reconcile/orders.missing.csv"
    [ -f "$csv" ] || fail "$dir: no reconciliation file"
    [ "$(tail -n +2 "$csv" | cut -d, -f1 | tr '\n' ' ')" = "51 52 53 54 55 " ] || fail "$dir: reconciliation: $(cat "$csv")"
}

for stage in side_created restored verified swapping swapped reconciled; do
    reset_shop
    dir="$WORK/$stage"
    make_playbook "$dir"
    rc=0
    ROLLBACK_TEST_KILL_AT_STAGE=$stage "$RB" run -p "$dir/pb.toml" --yes --reason "crash at $stage" </dev/null >"$dir/run.out" 2>&1 || rc=$?
    [ "$rc" = 137 ] || { cat "$dir/run.out" >&2; fail "kill at $stage: exit $rc, expected 137 (SIGKILL)"; }
    run=$(ls "$dir/.rollback/runs" | sed -n 's/\.jsonl$//p')
    expect_rc 0 "$dir/status1.out" -- "$RB" status --state-dir "$dir/.rollback"
    contains "$dir/status1.out" "last stage reached: $stage"
    if [ "$stage" != reconciled ] && [ "$stage" != swapped ]; then
        # Before the swap, production is untouched.
        [ "$(psql -d shop -tAc "SELECT count(*) FROM orders")" = 55 ] || fail "$stage: shop changed before the swap"
    fi
    expect_rc 0 "$dir/resume.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
    contains "$dir/resume.out" "probe: "
    check_restored "$dir" "$run"
    expect_rc 0 "$dir/status2.out" -- "$RB" status --state-dir "$dir/.rollback"
    contains "$dir/status2.out" "succeeded"
    # The kept old database is shown, with the command that drops it.
    contains "$dir/status2.out" "shop_rolledback_"
    contains "$dir/status2.out" "drop: psql "
    lacks "$dir/status2.out" "shop_restore_"
    pass "killed at stage $stage, resumed without --mark-done: restored once"
done

# --mark-done before the swap: a clear warning saying production is not restored; without --yes
# nothing happens (exit 2); the side database stays visible in status and plan with its command.
reset_shop
dir="$WORK/markdone"
make_playbook "$dir"
rc=0
ROLLBACK_TEST_KILL_AT_STAGE=verified "$RB" run -p "$dir/pb.toml" --yes </dev/null >"$dir/run.out" 2>&1 || rc=$?
[ "$rc" = 137 ] || fail "mark-done setup: exit $rc"
run=$(ls "$dir/.rollback/runs" | sed -n 's/\.jsonl$//p')
red=$(echo "$run" | tr 'A-Z-' 'a-z_')
expect_rc 2 "$dir/md1.out" -- "$RB" resume --state-dir "$dir/.rollback" --mark-done restore-db
contains "$dir/md1.out" "rollback: warning: --mark-done restore-db: the step did not finish: the swap did not happen: shop is NOT restored"
contains "$dir/md1.out" "rollback: error: --mark-done restore-db: the step's probe says it did not finish"
[ "$(psql -d shop -tAc "SELECT count(*) FROM orders")" = 55 ] || fail "mark-done refused, yet shop changed"
expect_rc 0 "$dir/md2.out" -- "$RB" resume --state-dir "$dir/.rollback" --mark-done restore-db --yes
contains "$dir/md2.out" "shop is NOT restored"
expect_rc 0 "$dir/status.out" -- "$RB" status --state-dir "$dir/.rollback"
contains "$dir/status.out" "leftover databases (no run drops them):"
contains "$dir/status.out" "shop_restore_$red: side database of run $run, stage verified, never swapped in"
contains "$dir/status.out" "drop: psql \"dbname='postgres' host='$PG_BASE' port='$PG_PORT' user='rollback'\" -c 'DROP DATABASE \"shop_restore_$red\"'"
expect_rc 0 "$dir/report.out" -- "$RB" report "$run" --state-dir "$dir/.rollback"
contains "$dir/report.out" "although its probe said: the swap did not happen"
expect_rc 0 "$dir/plan.out" -- "$RB" plan -p "$dir/pb.toml"
contains "$dir/plan.out" "note  restore-db: database shop_restore_$red: side database of run $run, stage verified"
contains "$dir/plan.out" "Runnable: yes"
# The printed command really drops it, and then nothing is listed any more.
cmd=$(sed -n 's/^ *drop: //p' "$dir/status.out" | head -1)
sh -c "$cmd" >/dev/null
[ "$(q "SELECT count(*) FROM pg_database WHERE datname LIKE 'shop_restore_%'")" = 0 ] || fail "the drop command did not drop"
expect_rc 0 "$dir/status2.out" -- "$RB" status --state-dir "$dir/.rollback"
lacks "$dir/status2.out" "leftover databases"
pass "--mark-done before the swap warns, needs --yes; status and plan show the side database"

# A side database planted by hand (another run's, long dead) and a kept rolled-back one: both
# listed by plan with their drop commands; the engine drops neither.
psql -d postgres -c "CREATE DATABASE shop_restore_20200101t000000z_abcdef"
psql -d postgres -c "COMMENT ON DATABASE shop_restore_20200101t000000z_abcdef IS 'rollback:restore run=20200101T000000Z-abcdef stage=restored backup=x allow_connections=true'"
psql -d postgres -c "CREATE DATABASE shop_rolledback_20200101t000000z_abcdef"
expect_rc 0 "$WORK/plan2.out" -- "$RB" plan -p "$dir/pb.toml"
contains "$WORK/plan2.out" "note  restore-db: database shop_restore_20200101t000000z_abcdef: side database of run 20200101T000000Z-abcdef, stage restored"
contains "$WORK/plan2.out" "note  restore-db: database shop_rolledback_20200101t000000z_abcdef: the previous shop, kept by run 20200101T000000Z-abcdef"
contains "$WORK/plan2.out" "DROP DATABASE \"shop_rolledback_20200101t000000z_abcdef\""
[ "$(q "SELECT count(*) FROM pg_database WHERE datname LIKE '%20200101t000000z_abcdef'")" = 2 ] || fail "plan dropped something"
pass "plan lists planted leftovers with their drop commands and drops nothing"
