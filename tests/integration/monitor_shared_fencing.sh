#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two `rollback monitor`s sharing one state in PostgreSQL (real PostgreSQL 15, real processes;
# docs/config.md "Leadership"). Fencing: the leader is paused (SIGSTOP) in the middle of a step
# past its lease; the follower takes over and finishes the run; the old leader, continued
# (SIGCONT), starts no further step — its next journal append is refused — says why and goes on
# as a follower. The server restarted mid-run: the leader's run waits for it and finishes,
# nothing lost or done twice; the monitors wait for it within the store's window (30 s) and go
# on without acting on nothing (break-it 43/F1). The server down, or the leader killed, as an
# incident begins: the monitor that leads next acts on it once (issue 14, "nobody acted").
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54344
source "$(dirname "$0")/../support/pg_shared.sh"

# The playbooks (pg_shared.sh): steps one, slow, two and the finally step fin.
run_gen() { q "SELECT generation FROM $1.lease WHERE name = 'run' AND held AND expires_at > clock_timestamp()" 2>/dev/null; }
generations_forward() {
    local run back
    run=$(q "SELECT run_id FROM $1.journal WHERE seq = 0")
    back=$(q "SELECT count(*) FROM (SELECT generation < lag(generation) OVER (ORDER BY seq) AS back FROM $1.journal WHERE run_id = '$run') t WHERE back")
    [ "$back" = 0 ] || fail "$1: a record of an older lease generation follows a newer one"
}

# --- fencing: the leader paused past its lease ------------------------------------------------
playbook fence 6
two_monitors fence
old=$(leader_pid fence)
echo 9 >"$WORK/fault.fence"
wait_for 20 started fence slow || fail "the run did not start step slow"
gen=$(run_gen fence)
kill -STOP "$old"
t0=$(now_ms)
taken() { local g; g=$(run_gen fence); [ -n "$g" ] && [ "$g" -gt "$gen" ]; }
wait_for 15 taken || { kill -CONT "$old"; fail "the follower did not take the run over"; }
echo "took over after $(($(now_ms) - t0)) ms"
kill -CONT "$old"
wait_for 30 run_done fence || fail "the run did not finish"
[ "$(finished_state fence)" = succeeded ] || fail "the run ended $(finished_state fence)"
sleep 3 # the old leader's step `slow` ended; its next append was refused
kill -0 "$old" || fail "the deposed leader exited; it should follow"
o=$(slot_of fence "$old")
contains "$WORK/$o/out" "lost its leadership and the run lock (another monitor took over); it starts nothing more and follows"
contains "$WORK/$o/local/rollback.log" "lost the run lock of generation $gen"
# Being fenced is no disk problem, and the run is not the deposed monitor's to resume.
lacks "$WORK/$o/out" "Free space"
lacks "$WORK/$o/out" "rollback resume"
effects_once fence
generations_forward fence
run=$(q "SELECT run_id FROM fence.journal WHERE seq = 0")
late=$(q "SELECT count(*) FROM fence.journal WHERE run_id = '$run' AND generation = $gen AND line::json->>'type' = 'step_started' AND seq > (SELECT min(seq) FROM fence.journal WHERE run_id = '$run' AND generation > $gen)")
[ "$late" = 0 ] || fail "the deposed leader started a step after the takeover"
expect_rc 0 "$WORK/status.out" -- "$RB" status -c "$WORK/fence.a/rollback.toml"
new=$(leader_pid fence)
[ "$new" != "$old" ] || fail "the deposed monitor leads again"
contains "$WORK/status.out" "leader: $(hostname) pid $new (generation"
stop_monitors fence
pass "a leader paused past its lease starts nothing after SIGCONT, says why and follows; the survivor finished the run"

# --- the server restarted mid-run -------------------------------------------------------------
playbook restart 4
two_monitors restart 8s
echo 9 >"$WORK/fault.restart"
wait_for 20 started restart slow || fail "the run did not start step slow (restart)"
bash "$SRC/tests/support/pg_throwaway.sh" stop
sleep 2
bash "$SRC/tests/support/pg_throwaway.sh" start
wait_for 40 run_done restart || fail "the run did not finish after the restart"
[ "$(finished_state restart)" = succeeded ] || fail "the run ended $(finished_state restart)"
[ "$(q "SELECT count(*) FROM restart.journal WHERE seq = 0")" = 1 ] || fail "more than one run"
effects_once restart
generations_forward restart
cat "$WORK"/restart.?/out >"$WORK/restart.out"
# A restart shorter than the store's window is waited out, not reported as an outage.
lacks "$WORK/restart.out" "the shared state did not answer"
grep -q "journal .*: connection lost" "$WORK"/restart.?/local/rollback.log || fail "the leader did not say it waited for the server"
for m in restart.a restart.b; do kill -0 "${PID_OF[$m]}" || fail "monitor $m died with the server"; done
sleep 2
[ "$(leader_pid restart)" != 0 ] || fail "nobody leads after the restart"
stop_monitors restart
pass "the server restarted mid-run: the run waited and finished, nothing lost or done twice; the monitors went on"

# --- the server down at the tick where the condition fires ------------------------------------
# While the state does not answer every monitor acts on nothing (its tick waits at the first
# operation of the store); whoever leads when the server is back adopts what the leaders acted
# on (nothing here) and acts at the next breaching tick: one run, not none, and not two.
playbook outage 0
two_monitors outage
bash "$SRC/tests/support/pg_throwaway.sh" stop
echo 9 >"$WORK/fault.outage"
sleep 4 # ticks that fire while nobody can act
bash "$SRC/tests/support/pg_throwaway.sh" start
wait_for 40 run_done outage || fail "nobody acted on the incident after the server came back"
[ "$(finished_state outage)" = succeeded ] || fail "the run ended $(finished_state outage)"
sleep 3 # a second run would start within a few ticks
[ "$(q "SELECT count(*) FROM outage.journal WHERE seq = 0")" = 1 ] || fail "more than one run (outage)"
effects_once outage
cat "$WORK"/outage.?/out >"$WORK/outage.out"
# The outage was met (each monitor's store waited for the server), and shorter than its window.
grep -q "connection lost" "$WORK"/outage.?/local/rollback.log || fail "no monitor met the outage (the test did not test it)"
lacks "$WORK/outage.out" "the shared state did not answer"
stop_monitors outage
pass "the server down at the firing tick: the leader after it acted once"

# --- the leader dies as the incident begins -----------------------------------------------------
# The host that ran the leader went down with the service: the follower evaluates the first
# breaching ticks while the dead leader's lease runs out, and records the triggers it may not act
# on. When it leads, it adopts what the leaders acted on (nothing) and acts: one run, not none.
playbook orphan 0
two_monitors orphan
dead=$(leader_pid orphan)
kill -KILL "$dead"
echo 9 >"$WORK/fault.orphan"
wait_for 40 run_done orphan || fail "the follower never acted on the incident the dead leader did not see"
[ "$(finished_state orphan)" = succeeded ] || fail "the run ended $(finished_state orphan)"
sleep 3
[ "$(q "SELECT count(*) FROM orphan.journal WHERE seq = 0")" = 1 ] || fail "more than one run (orphan)"
effects_once orphan
[ "$(q "SELECT count(*) FROM orphan.decisions WHERE doc::json->>'action' = 'trigger' AND doc::json->'leadership'->>'role' = 'follower'")" -ge 1 ] ||
    fail "the follower recorded no trigger while the dead leader's lease ran out (the test did not test it)"
stop_monitors orphan "$dead"
pass "the leader killed as the incident began: the follower, leading, acted once"
