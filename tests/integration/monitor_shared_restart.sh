#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The shared state's server restarted, or its sessions cut, while a monitor's run goes on (real
# PostgreSQL 15, real monitors; docs/config.md "The server going away"; break-it 43/F1): every
# operation of the store reconnects within its window, so a run that succeeded is reported as
# succeeded — `monitor --once` exits 0, monitor.jsonl says exit_code 0 — and nothing says it
# stopped, that the state did not answer, or takes the lead again.
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54392
source "$(dirname "$0")/../support/pg_shared.sh"

# --- monitor --once, the server restarted in the middle of the run -----------------------------
playbook once 6
echo 1 >"$WORK/fault.once"
monitor_config "$WORK/once" once 15s "$WORK/fault.once" "$WORK/pb.once.toml"
echo 9 >"$WORK/fault.once"
"$RB" monitor --once -c "$WORK/once/rollback.toml" </dev/null >"$WORK/once.out" 2>&1 &
pid=$!
stop_on_exit "$pid"
wait_for 20 started once slow || fail "step slow did not start"
q "CHECKPOINT" # the throwaway server stops with -m immediate (pg_shared.sh)
bash "$SRC/tests/support/pg_throwaway.sh" stop
sleep 3
bash "$SRC/tests/support/pg_throwaway.sh" start
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/once.out"; fail "monitor --once exited $rc after a run that succeeded"; }
[ "$(finished_state once)" = succeeded ] || fail "the run ended $(finished_state once)"
effects_once once
contains "$WORK/once.out" "succeeded"
lacks "$WORK/once.out" "stopped"
lacks "$WORK/once.out" "Could not obtain client encoding"
grep -q '"event":"run_finished".*"exit_code":0' "$WORK/once/local/monitor.jsonl" ||
    fail "monitor.jsonl: $(grep run_ "$WORK/once/local/monitor.jsonl")"
lacks "$WORK/once/local/monitor.jsonl" "run_stopped_unfinished"
pass "the server restarted mid-run: monitor --once says the run succeeded and exits 0"

# --- two monitors, every session of the engine cut again and again during the run -------------
playbook cut 5
two_monitors cut 6s
echo 9 >"$WORK/fault.cut"
wait_for 20 started cut slow || fail "step slow did not start (cut)"
gen=$(q "SELECT generation FROM cut.lease WHERE name = 'leader'")
leader=$(leader_slot cut)
for _ in $(seq 1 10); do
    q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'rb_scram'" >/dev/null
    sleep 0.5
done
wait_for 40 run_done cut || fail "the run did not finish (cut)"
[ "$(finished_state cut)" = succeeded ] || fail "the run ended $(finished_state cut)"
effects_once cut
sleep 3 # ticks after the run: a monitor that lost its session would say so now
[ "$(q "SELECT count(*) FROM cut.journal WHERE seq = 0")" = 1 ] || fail "more than one run (cut)"
[ "$(q "SELECT count(DISTINCT generation) FROM cut.journal")" = 1 ] || fail "the run changed hands"
[ "$(q "SELECT generation FROM cut.lease WHERE name = 'leader'")" = "$gen" ] ||
    fail "the leadership changed hands: the leader lost its session and took the lead again"
for m in cut.a cut.b; do
    lacks "$WORK/$m/out" "stopped"
    lacks "$WORK/$m/out" "did not answer"
    lacks "$WORK/$m/out" "Could not obtain client encoding"
done
grep -q '"event":"run_finished".*"exit_code":0' "$WORK/$leader/local/monitor.jsonl" ||
    fail "monitor.jsonl of the leader: $(grep run_ "$WORK/$leader/local/monitor.jsonl")"
stop_monitors cut
pass "sessions cut during the run: it succeeded, said so, one leader and one run lock generation throughout"
