#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# PostgreSQL restarted for ~20 s in the middle of a person's run, longer than the default lease
# (15 s) and shorter than the 30 s the store waits for the server (real PostgreSQL 15, the real
# binary; docs/config.md "The run lock", "The server going away"; break-it 46 F2): the run lock
# expired on the server's clock while nobody could take it, so the engine renews it when the
# server answers — the run finishes, every step and the finally step once, under one generation,
# and rollback.log says why. A run lock whose generation moved meanwhile stays lost (exit 7).
# A lone monitor's run rides through the same restart (its leader lease too).
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54396
source "$(dirname "$0")/../support/pg_shared.sh"

# --- a person's run, default lease, the server away ~20 s --------------------------------------
playbook person 8
cat >"$WORK/rollback.toml" <<TOML
[target]
name = "shop"
state_dir = "$WORK/local"
[state]
dsn = "$DSN"
schema = "person"
TOML
"$RB" state init -c "$WORK/rollback.toml" >/dev/null
"$RB" run -p "$WORK/pb.person.toml" -c "$WORK/rollback.toml" --yes </dev/null >"$WORK/person.out" 2>&1 &
pid=$!
stop_on_exit "$pid"
wait_for 20 started person slow || fail "step slow did not start"
gen=$(q "SELECT generation FROM person.lease WHERE name = 'run'")
q "CHECKPOINT" # the throwaway server stops with -m immediate
bash "$SRC/tests/support/pg_throwaway.sh" stop
down=$(now_ms)
sleep 20
bash "$SRC/tests/support/pg_throwaway.sh" start
echo "server away $((($(now_ms) - down) / 1000)) s" >&2
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/person.out"; fail "the run exited $rc after a 20 s restart"; }
[ "$(finished_state person)" = succeeded ] || fail "the run ended $(finished_state person)"
effects_once person
lacks "$WORK/person.out" "silent past its lease"
lacks "$WORK/person.out" "lost the run lock"
contains "$WORK/local/rollback.log" "expired while the PostgreSQL server did not answer; nobody took it: renewed"
[ "$(q "SELECT count(DISTINCT generation) FROM person.journal")" = 1 ] || fail "the run changed generation"
[ "$(q "SELECT generation FROM person.lease WHERE name = 'run'")" = "$gen" ] ||
    fail "the run lock was acquired again instead of renewed"
pass "a person's run rides through a 20 s restart with the default 15 s lease: renewed, each step once"

# --- the generation moved while the holder could not reach the server: still refused ----------
playbook moved 6
sed -e 's/schema = "person"/schema = "moved"/' -e 's/^\[state\]/[state]\nlease = "3s"/' \
    "$WORK/rollback.toml" >"$WORK/moved.toml"
"$RB" state init -c "$WORK/moved.toml" >/dev/null
: >"$WORK/local/rollback.log"
"$RB" run -p "$WORK/pb.moved.toml" -c "$WORK/moved.toml" --yes </dev/null >"$WORK/moved.out" 2>&1 &
pid=$!
stop_on_exit "$pid"
wait_for 20 started moved slow || fail "step slow did not start (moved)"
kill -STOP "$pid"
# Its sessions cut (it reconnects when continued), its lease expired, and another took it.
q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'rb_scram'" >/dev/null
sleep 4
q "UPDATE moved.lease SET generation = generation + 1, holder = replace(holder, '\"pid\":$pid', '\"pid\":1'), expires_at = clock_timestamp() + interval '1 hour' WHERE name = 'run'"
taken=$(q "SELECT generation || ' ' || holder FROM moved.lease WHERE name = 'run'")
kill -CONT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 7 ] || { cat "$WORK/moved.out"; fail "a run whose lock was taken exited $rc, not 7"; }
contains "$WORK/moved.out" "lost the run lock of generation"
[ "$(q "SELECT generation || ' ' || holder FROM moved.lease WHERE name = 'run'")" = "$taken" ] ||
    fail "the lock taken by another was changed"
lacks "$WORK/local/rollback.log" "nobody took it: renewed"
[ "$(effects moved)" = "one:1 slow:1 " ] || fail "moved: effects $(effects moved)"
pass "a run lock whose generation moved while its holder was cut off stays lost (exit 7)"

# --- a lone monitor's run, the same restart ---------------------------------------------------
playbook mon 8
echo 1 >"$WORK/fault.mon"
monitor_config "$WORK/mon" mon 15s "$WORK/fault.mon" "$WORK/pb.mon.toml"
echo 9 >"$WORK/fault.mon"
"$RB" monitor --once -c "$WORK/mon/rollback.toml" </dev/null >"$WORK/mon.out" 2>&1 &
pid=$!
stop_on_exit "$pid"
wait_for 20 started mon slow || fail "step slow did not start (monitor)"
lead=$(q "SELECT generation FROM mon.lease WHERE name = 'leader'")
q "CHECKPOINT"
bash "$SRC/tests/support/pg_throwaway.sh" stop
sleep 20
bash "$SRC/tests/support/pg_throwaway.sh" start
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/mon.out"; fail "monitor --once exited $rc after a 20 s restart"; }
[ "$(finished_state mon)" = succeeded ] || fail "the monitor's run ended $(finished_state mon)"
effects_once mon
[ "$(q "SELECT count(DISTINCT generation) FROM mon.journal")" = 1 ] || fail "the monitor's run changed generation"
[ "$(q "SELECT generation FROM mon.lease WHERE name = 'leader'")" = "$lead" ] ||
    fail "the leadership was acquired again instead of renewed"
lacks "$WORK/mon.out" "stopped"
pass "a lone monitor's run rides through a 20 s restart: its run lock and its lead renewed, each step once"
