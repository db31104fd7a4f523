#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A healthy leader's own journal append slower than its lease (real PostgreSQL 15, two real
# monitors, lease 3 s; docs/config.md "Fencing", "Failover"). A trigger stalls one INSERT 3.5 s:
# the holder's renewal does not wait for its own append (FOR KEY SHARE), so the run goes on and
# finishes. The journal table locked 6 s by another session: the append fails (exit 7), and the
# leader resumes its own run, saying so: every step once, the run finished.
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54361
source "$(dirname "$0")/../support/pg_shared.sh"

# 1. One INSERT stalled 3.5 s (> lease) in the server.
playbook st 0
two_monitors st
q "CREATE TABLE public.stalled (s text); GRANT ALL ON public.stalled TO PUBLIC"
q "CREATE FUNCTION public.stall() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN IF NEW.line::json->>'type' = 'step_started' AND NEW.line::json->>'step' = 'two' AND NOT EXISTS (SELECT 1 FROM public.stalled) THEN INSERT INTO public.stalled VALUES ('x'); PERFORM pg_sleep(3.5); END IF; RETURN NEW; END \$\$"
q "CREATE TRIGGER stall BEFORE INSERT ON st.journal FOR EACH ROW EXECUTE FUNCTION public.stall()"
echo 9 >"$WORK/fault.st"
wait_for 30 run_done st || { cat "$WORK"/st.*/out; fail "the run with a slow append did not finish"; }
[ "$(q "SELECT count(*) FROM st.journal WHERE line::json->>'type' = 'run_resumed'")" = 0 ] ||
    fail "the run was stopped and resumed: the slow append fenced its own healthy holder"
[ "$(q "SELECT count(*) FROM public.stalled")" = 1 ] || fail "the append was not stalled"
[ "$(finished_state st)" = succeeded ] || fail "the run ended $(finished_state st)"
[ "$(effects st)" = "fin:1 one:1 slow:1 two:1 " ] || fail "effects: $(effects st)"
[ "$(q "SELECT count(*) FROM st.journal WHERE seq = 0")" = 1 ] || fail "more than one run"
pass "an append slower than the lease: the leader keeps its lease and finishes the run"

# 2. The journal table locked 6 s (> lease) during step slow: the run stops (exit 7), and the
# leader resumes it.
playbook lk 3
two_monitors lk
echo 9 >"$WORK/fault.lk"
wait_for 20 started lk slow || fail "step slow never started"
out=$WORK/$(leader_slot lk)/out
"$BIN/psql" -X -q -h "$PG_BASE" -p "$PG_PORT" -U rollback -d postgres \
    -c "BEGIN; LOCK TABLE lk.journal IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;" >/dev/null
wait_for 40 run_succeeded lk || { cat "$WORK"/lk.*/out; fail "nobody finished the run the locked table stopped"; }
[ "$(finished_state lk)" = succeeded ] || fail "the run ended $(finished_state lk)"
[ "$(effects lk)" = "fin:1 one:1 slow:1 two:1 " ] || fail "effects: $(effects lk)"
[ "$(q "SELECT count(*) FROM lk.journal WHERE seq = 0")" = 1 ] || fail "more than one run"
contains "$out" "stopped unfinished"
contains "$out" "of this monitor was left unfinished: resuming it"
pass "an append refused by a locked table: the leader resumes its own run and says so"
