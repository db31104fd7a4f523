#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two `rollback monitor`s sharing one state in PostgreSQL (real PostgreSQL 15, real processes;
# docs/config.md "Leadership", "Bounds"): a takeover while the old leader is silent at the worst
# instants (issue 14, break-it 24), each held open deterministically — a source that SIGSTOPs
# its own monitor, BEFORE INSERT triggers that sleep in the server.
#  - paused mid-tick after it asked whether it leads: when continued it starts no second run;
#  - killed, or paused, after it decided to act but before its run recorded anything: the next
#    leader starts the run it decided (one run, not none), and the paused one starts nothing;
#  - paused inside a journal append (a row lock held): the follower still takes the run over
#    within the bound, and the old leader's append never commits.
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54348
source "$(dirname "$0")/../support/pg_shared.sh"

# The playbooks (pg_shared.sh): steps one, two and the finally step fin. The monitors' source
# (FAULT_READER, source.sh) reads the fault file; when the file's pause file ($WORK/pause.SCHEMA
# for $WORK/fault.SCHEMA) names the monitor reading it, it SIGSTOPs that monitor first (once): the
# monitor stops in the middle of its tick, after it asked whether it leads.
FAULT_READER=$WORK/source.sh
cat >"$FAULT_READER" <<'SH'
#!/bin/sh
pause=$(dirname "$1")/pause.${1##*/fault.}
if [ "$(cat "$pause" 2>/dev/null)" = "$PPID" ]; then rm -f "$pause"; kill -STOP "$PPID"; sleep 0.5; fi
cat "$1"
SH
chmod +x "$FAULT_READER"
stop_all() { for p in "${PID_OF[@]}"; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done; }
on_exit stop_all
runs() { q "SELECT count(*) FROM $1.journal WHERE line::json->>'type' = 'run_started'"; }
# stall SCHEMA NAME CONDITION SECONDS: journal inserts matching CONDITION (on NEW) sleep in the
# server until public.stall_off has a row.
q "CREATE TABLE public.stall_off(x int); GRANT SELECT ON public.stall_off TO PUBLIC"
stall() {
    q "CREATE OR REPLACE FUNCTION public.$2() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN IF $3 AND NOT EXISTS (SELECT 1 FROM public.stall_off) THEN PERFORM pg_sleep($4); END IF; RETURN NEW; END \$\$"
    q "CREATE TRIGGER $2 BEFORE INSERT ON $1.journal FOR EACH ROW EXECUTE FUNCTION public.$2()"
}
# want NAME: the section runs (all by default; TAKEOVER_ONLY=NAME runs one, to look at it alone).
want() { [ -z "${TAKEOVER_ONLY:-}" ] || [ "$TAKEOVER_ONLY" = "$1" ]; }
stalled() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND usename = 'rb_scram'")" -ge 1 ]; }

# --- paused mid-tick, after it asked whether it leads ------------------------------------------
# The leader stops in its tick's source read as the incident begins; the follower takes over and
# rolls back. Continued, the old leader finishes the tick it began as "leader": it must not start
# a second run (its run start is fenced by the leadership it no longer holds).
if want tick; then
playbook tick
two_monitors tick
old=$(leader_pid tick)
echo "$old" >"$WORK/pause.tick"
echo 9 >"$WORK/fault.tick"
paused() { [ "$(awk '{print $3}' "/proc/$old/stat")" = T ]; }
wait_for 10 paused || fail "the leader's source did not pause it"
wait_for 30 run_done tick || fail "the follower did not act while the leader was paused"
kill -CONT "$old"
sleep 5 # the old leader's tick ends; a second run would start now
[ "$(runs tick)" = 1 ] || fail "the deposed leader started a second run ($(runs tick) runs)"
effects_once tick
o=$(slot_of tick "$old")
grep -q "no longer leads" "$WORK/$o/local/rollback.log" || fail "the deposed leader did not say it no longer leads"
kill -0 "$old" || fail "the deposed leader exited"
stop_monitors tick
pass "a leader paused mid-tick past its lease starts no second run when continued"
fi

# --- killed after deciding, before its run's first record ---------------------------------------
# The policy memory says "acted" (the decided run named), the run lock was taken, the header's
# INSERT sleeps in the server; the leader is killed there. The next leader starts the decided run.
if want gap; then
playbook gap
two_monitors gap
old=$(leader_pid gap)
stall gap stall_gap "NEW.seq = 0" 60
echo 9 >"$WORK/fault.gap"
wait_for 20 stalled || fail "the run's first record never stalled (gap)"
kill -KILL "$old"
q "INSERT INTO public.stall_off VALUES (1)"
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep'" >/dev/null
wait_for 40 run_done gap || fail "nobody acted on the incident whose decided run never started"
[ "$(finished_state gap)" = succeeded ] || fail "the run ended $(finished_state gap)"
sleep 3
[ "$(runs gap)" = 1 ] || fail "$(runs gap) runs (gap)"
effects_once gap
cat "$WORK"/gap.?/out >"$WORK/gap.out"
contains "$WORK/gap.out" "was decided by the previous leader but never started"
stop_monitors gap "$old"
q "TRUNCATE public.stall_off"
pass "a leader killed between its decision and its run's first record: the next leader ran it, once"
fi

# --- paused after deciding, its first record stalled in the server -------------------------------
# The same window, the old leader paused instead: the follower leads, finds the decided run never
# recorded, takes the expired run lock once the old leader's transaction is ended by the server
# (idle past the lease) and runs it. The old leader, continued, starts nothing.
if want stop; then
playbook stop
two_monitors stop
old=$(leader_pid stop)
stall stop stall_stop "NEW.seq = 0 AND NEW.generation = 1" 6
echo 9 >"$WORK/fault.stop"
wait_for 20 stalled || fail "the run's first record never stalled (stop)"
kill -STOP "$old"
wait_for 40 run_done stop || { kill -CONT "$old"; fail "the new leader did not run the decided run"; }
kill -CONT "$old"
sleep 5
[ "$(runs stop)" = 1 ] || fail "$(runs stop) runs (stop)"
[ "$(q "SELECT count(*) FROM stop.journal WHERE generation = 1")" = 0 ] ||
    fail "the paused leader's records committed after its lease expired"
effects_once stop
kill -0 "$old" || fail "the paused leader exited"
stop_monitors stop
pass "a leader paused between its decision and its run's first record: the next leader ran it, the old one nothing"
fi

# --- paused inside a journal append (its row lock held) ----------------------------------------
# The old leader's step_started of `two` sleeps 3 s in the server, holding the run row FOR SHARE,
# and the leader is paused there. The follower's takeover must not wait on that lock: it resumes
# the run within the lease (3 s) + the server ending the idle transaction (3 s) + two ticks and
# its loop keeps ticking meanwhile; the old append never commits.
if want lock; then
playbook lock
two_monitors lock
old=$(leader_pid lock)
stall lock stall_lock "NEW.line::json->>'type' = 'step_started' AND NEW.line::json->>'step' = 'two' AND NEW.generation = 1" 3
echo 9 >"$WORK/fault.lock"
wait_for 20 stalled || fail "the append never stalled (lock)"
kill -STOP "$old"
t0=$(now_ms)
# Taken over: the new leader journaled under its generation (the resumed run may finish and free
# the run row before a poll of the row sees it).
taken() { [ "$(q "SELECT count(*) FROM lock.journal WHERE generation > 1" 2>/dev/null)" -ge 1 ] 2>/dev/null; }
wait_for 20 taken || { kill -CONT "$old"; fail "the follower did not take the run over while the old leader was paused"; }
took=$(($(now_ms) - t0))
echo "took over after $took ms"
[ "$took" -le 12000 ] || fail "the takeover took $took ms (bound: 3 s + 3 s + 2 ticks + 1 s)"
wait_for 20 run_done lock || { kill -CONT "$old"; fail "the run did not finish (lock)"; }
kill -CONT "$old"
sleep 4
[ "$(finished_state lock)" = succeeded ] || fail "the run ended $(finished_state lock)"
[ "$(runs lock)" = 1 ] || fail "$(runs lock) runs (lock)"
[ "$(q "SELECT count(*) FROM lock.journal WHERE generation = 1 AND line::json->>'step' = 'two'")" = 0 ] ||
    fail "the paused leader's append of step two committed after its lease expired"
effects_once lock
grep -q "leading (generation" "$WORK/$(leader_slot lock)/out" || fail "the new leader did not say it leads"
stop_monitors lock
pass "a leader paused inside a journal append: the follower took over in $took ms, the old append never committed"
fi
