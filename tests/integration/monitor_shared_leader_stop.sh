#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The leading monitor stopped cleanly (SIGTERM: systemctl stop, a reboot) in the middle of its run
# (real PostgreSQL 15, two real monitors, lease 3 s; docs/config.md "Failover", docs/decision.md
# "Signals"): its run is handed over — journaled `run_handed_over` naming step slow, no finally step run
# — it exits 130 and leaves the run lock naming the run, as a dead holder's; the other monitor
# leads and resumes the run to its end: the step interrupted and the steps after it run, no step
# twice, and the finally step once, last (break-it 32/02: it ran before the resumed steps).
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54362
source "$(dirname "$0")/../support/pg_shared.sh"

playbook tm 5
two_monitors tm
old=$(leader_slot tm)
[ -n "$old" ] || fail "no leader slot"
for m in tm.a tm.b; do if [ "$m" != "$old" ]; then survivor=$m; fi; done
echo 9 >"$WORK/fault.tm"
wait_for 20 started tm slow || fail "step slow never started"
sleep 1
kill -TERM "${PID_OF[$old]}"
rc=0
wait "${PID_OF[$old]}" || rc=$?
[ "$rc" = 130 ] || { cat "$WORK/$old/out"; fail "the stopped leader exited $rc, not 130"; }
wait_for 40 run_succeeded tm || { cat "$WORK/$survivor/out"; fail "the survivor did not finish the run"; }
# The interrupted run's own run_finished (interrupted) comes first; the resumed one's last.
[ "$(finished_state tm)" = succeeded ] || { cat "$WORK/$survivor/out"; fail "the run ended $(finished_state tm)"; }
[ "$(effects tm)" = "fin:1 one:1 slow:1 two:1 " ] || fail "effects: $(effects tm)"
[ "$(tr '\n' ' ' <"$WORK/effects.tm")" = "one slow two fin " ] ||
    fail "effects in order: $(tr '\n' ' ' <"$WORK/effects.tm") (the finally step must come last)"
[ "$(q "SELECT count(*) FROM tm.journal WHERE line::json->>'type' = 'run_handed_over' AND line::json->>'step' = 'slow' AND line::json->>'step_status' = 'interrupted' AND line::json->>'during' = 'steps'")" = 1 ] ||
    fail "the stopped leader's run has no run_handed_over record naming step slow, interrupted"
[ "$(q "SELECT count(*) FROM tm.journal WHERE line::json->>'type' = 'note'")" = 0 ] ||
    fail "the stopped leader's run has a free-form note"
[ "$(q "SELECT count(*) FROM tm.journal WHERE seq = 0")" = 1 ] || fail "more than one run"
contains "$WORK/$survivor/out" "was left unfinished: resuming it"
pass "a leader stopped cleanly mid-run: the next leader resumes its run to the end"
