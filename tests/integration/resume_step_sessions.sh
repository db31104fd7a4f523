#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A sql step's database session outlives its engine (kill -9 while the server runs its
# statement: the backend does not notice its client is gone until it answers). Real PostgreSQL
# 15, real processes (docs/actions.md "Step sessions"):
# 1. `rollback resume` ends the interrupted attempt's session (named by its attempt) before it
#    probes the step: a step_sessions record, its open transaction rolled back; the step runs
#    again and its effect is there once.
# 2. Resumed as a role that may not end that session: the step does not start, the run stops in
#    needs_attention (exit 6) naming the session and the server's refusal; once it is gone, the
#    next resume runs the step.
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54382
source "$(dirname "$0")/../support/pg_shared.sh"

q "CREATE TABLE t_eff (run text); CREATE TABLE t_sleep (s float); INSERT INTO t_sleep VALUES (60)"
q "GRANT SELECT, INSERT ON t_eff, t_sleep TO rb_scram"
su_dsn="host=$PG_BASE port=$PG_PORT user=rollback dbname=postgres"
scram_dsn="host=$PG_BASE port=$PG_PORT user=rb_scram password=rb-scram-pw dbname=postgres"
cat >"$WORK/probe.sh" <<SH
#!/bin/sh
n=\$("$BIN/psql" -X -h "$PG_BASE" -p "$PG_PORT" -U rollback -d postgres -tAc "SELECT count(*) FROM t_eff")
[ "\$n" -ge 1 ]
SH
chmod +x "$WORK/probe.sh"
cat >"$WORK/pb.toml" <<TOML
[playbook]
name = "sessions"
[vars]
db_dsn = { env = "STEP_DSN", secret = true }
[[step]]
id = "orders-off"
phase = "immediate"
action = "sql"
dsn = "{{db_dsn}}"
statements = ["INSERT INTO t_eff VALUES ('x')", "SELECT pg_sleep(s) FROM t_sleep"]
probe = "$WORK/probe.sh"
timeout = "120s"
TOML
sd="$WORK/state"
# The attempt's session, in its pg_sleep with its INSERT not committed.
sleeping() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'rollback/%/orders-off/1' AND query LIKE '%pg_sleep%' AND state = 'active'")" = 1 ]; }
# start_and_kill: a run whose engine is killed while its sql step's statement runs; RUN is its id.
start_and_kill() {
    q "TRUNCATE t_eff; UPDATE t_sleep SET s = 60"
    STEP_DSN="$su_dsn" "$RB" run -p "$WORK/pb.toml" --state-dir "$sd" --yes --reason test </dev/null >"$WORK/run.out" 2>&1 &
    local pid=$!
    wait_for 20 sleeping || { kill -9 "$pid"; fail "the sql step's session never ran its statement"; }
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    sleeping || fail "the session ended with its engine (the test tests nothing)"
    RUN=$(q "SELECT split_part(application_name, '/', 2) FROM pg_stat_activity WHERE application_name LIKE 'rollback/%/orders-off/1'")
    [ -n "$RUN" ] || fail "no run id in the session's name"
    q "UPDATE t_sleep SET s = 0" # the next attempt does not wait
}
record_of() { grep '"type":"step_sessions"' "$sd/runs/$RUN.jsonl"; }

# --- 1. the interrupted attempt's session is ended, the step runs again once ------------------
start_and_kill
expect_rc 0 "$WORK/resume1.out" -- env STEP_DSN="$su_dsn" "$RB" resume "$RUN" --state-dir "$sd" --yes
sleeping && fail "the interrupted attempt's session is still running after the resume"
[ "$(q "SELECT count(*) FROM t_eff")" = 1 ] || fail "the step's effect is there $(q "SELECT count(*) FROM t_eff") times"
rec=$(record_of)
[ -n "$rec" ] || fail "no step_sessions record"
grep -q '"outcome":"ended"' <<<"$rec" || fail "the session was not ended: $rec"
grep -q "\"name\":\"rollback/$RUN/orders-off/1\"" <<<"$rec" || fail "the record does not name the attempt's session: $rec"
grep -q '"state":"active"' <<<"$rec" || fail "the record does not say the session was active: $rec"
# Ended before the probe: the probe saw what the server kept.
awk '/"type":"step_sessions"/{s=NR} /"type":"step_probe"/{p=NR} END{exit !(s && p && s < p)}' "$sd/runs/$RUN.jsonl" ||
    fail "the step was probed before its session was ended"
expect_rc 0 "$WORK/report1.out" -- "$RB" report "$RUN" --state-dir "$sd"
contains "$WORK/report1.out" "database sessions of attempt 1 (and earlier) open on"
contains "$WORK/report1.out" "ended them (pg_terminate_backend: their open transactions rolled back)"
pass "resume ended the interrupted attempt's session before probing; the step took effect once"

# --- 2. a session the resuming role may not end keeps the step from starting -------------------
start_and_kill
pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'rollback/$RUN/orders-off/1'")
expect_rc 6 "$WORK/resume2.out" -- env STEP_DSN="$scram_dsn" "$RB" resume "$RUN" --state-dir "$sd" --yes --allow-changed-vars
contains "$WORK/resume2.out" "database sessions of step \"orders-off\"'s interrupted attempt 1 are still open"
contains "$WORK/resume2.out" "pid $pid (rollback on postgres)" # its state: not shown to another role
contains "$WORK/resume2.out" "the server refused to end them"
contains "$WORK/resume2.out" "application_name IN ('rollback/$RUN/orders-off/1')"
lacks "$WORK/resume2.out" "rb-scram-pw"
sleeping || fail "the session the role may not end was ended anyway"
[ "$(q "SELECT count(*) FROM t_eff")" = 0 ] || fail "the step ran again beside its open session"
grep -q '"outcome":"remain"' <<<"$(record_of)" || fail "no step_sessions record with outcome remain"
expect_rc 0 "$WORK/status2.out" -- "$RB" status "$RUN" --state-dir "$sd"
contains "$WORK/status2.out" "needs_attention"
# A DBA ends it; the next resume (the run's own DSN again) runs the step.
q "SELECT pg_terminate_backend($pid)" >/dev/null
gone() { ! sleeping; }
wait_for 10 gone || fail "the session did not end on pg_terminate_backend"
expect_rc 0 "$WORK/resume3.out" -- env STEP_DSN="$su_dsn" "$RB" resume "$RUN" --state-dir "$sd" --yes
[ "$(q "SELECT count(*) FROM t_eff")" = 1 ] || fail "after the session ended, the step took effect $(q "SELECT count(*) FROM t_eff") times"
pass "a session the resuming role may not end: needs_attention naming it; after it ended, the step ran once"
