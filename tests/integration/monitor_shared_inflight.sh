#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two `rollback monitor`s sharing one state in PostgreSQL (real PostgreSQL 15, real processes),
# the leader paused (SIGSTOP) past its lease in the middle of a step whose effect is no program
# of its own (break-it 43; docs/actions.md "Step sessions", docs/config.md "Fencing"):
# - F5: a `sql` step (pg_sleep, then an INSERT). The follower takes over, ends the paused
#   leader's database session (its transaction rolled back) before it probes the step, and runs
#   the step again; the old leader, continued, commits nothing: the INSERT is there once.
# - F6: an `http` POST with `attempts`. The follower takes over (the step, not idempotent and
#   without a probe, needs a person); the old leader, continued, sends no further POST — each
#   attempt is fenced like a step's start — and says why.
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54381
source "$(dirname "$0")/../support/pg_shared.sh"

run_gen() { q "SELECT generation FROM $1.lease WHERE name = 'run' AND held AND expires_at > clock_timestamp()" 2>/dev/null; }
# taken_over SCHEMA GEN: the run lock was taken since generation GEN (held now or not: a resume
# that stops at once for a person holds it for milliseconds).
taken_over() { local g; g=$(q "SELECT generation FROM $1.lease WHERE name = 'run'" 2>/dev/null); [ -n "$g" ] && [ "$g" -gt "$2" ]; }
journal_count() { q "SELECT count(*) FROM $1.journal WHERE $2"; }

# --- F5: an open transaction of the paused leader --------------------------------------------
q "CREATE TABLE t_effects (step text, at timestamptz DEFAULT clock_timestamp(), backend int DEFAULT pg_backend_pid())"
step_dsn="host=$PG_BASE port=$PG_PORT user=rollback dbname=postgres"
e="$WORK/effects.sqlf"
: >"$e"
cat >"$WORK/sql_probe.sh" <<SH
#!/bin/sh
n=\$("$BIN/psql" -X -h "$PG_BASE" -p "$PG_PORT" -U rollback -d postgres -tAc "SELECT count(*) FROM t_effects WHERE step = 'sql'")
[ "\$n" -ge 1 ]
SH
chmod +x "$WORK/sql_probe.sh"
cat >"$WORK/pb.sqlf.toml" <<TOML
[playbook]
name = "pb-sqlf"
[[step]]
id = "one"
phase = "immediate"
action = "exec"
argv = ["sh", "-c", "echo one >> $e"]
probe = "grep -qx one $e"
[[step]]
id = "sqlstep"
phase = "database"
action = "sql"
dsn = "$step_dsn"
statements = ["SELECT pg_sleep(6)", "INSERT INTO t_effects (step) VALUES ('sql')"]
probe = "$WORK/sql_probe.sh"
timeout = "60s"
[[step]]
id = "two"
phase = "code"
action = "exec"
argv = ["sh", "-c", "echo two >> $e"]
probe = "grep -qx two $e"
TOML
two_monitors sqlf
old=$(leader_pid sqlf)
echo 9 >"$WORK/fault.sqlf"
wait_for 20 started sqlf sqlstep || fail "the run did not start step sqlstep"
gen=$(run_gen sqlf)
sleep 1 # the leader's session is in its pg_sleep, its transaction open
kill -STOP "$old"
wait_for 15 taken_over sqlf "$gen" || { kill -CONT "$old"; fail "the follower did not take the run over"; }
wait_for 40 run_done sqlf || { kill -CONT "$old"; fail "the run did not finish"; }
kill -CONT "$old"
sleep 4 # the old leader goes on from its pg_sleep: its session is gone, it commits nothing
[ "$(finished_state sqlf)" = succeeded ] || fail "the run ended $(finished_state sqlf)"
rows=$(q "SELECT count(*) FROM t_effects WHERE step = 'sql'")
[ "$rows" = 1 ] || fail "the sql step took effect $rows times (the deposed leader committed its attempt after the new leader ran it again)"
[ "$(journal_count sqlf "line::json->>'type' = 'step_sessions' AND line::json->>'step' = 'sqlstep' AND line::json->>'outcome' = 'ended' AND line::json->'found'->0->>'name' LIKE 'rollback/%/sqlstep/1'")" = 1 ] ||
    fail "no step_sessions record says the paused attempt's session was ended"
# Ended before the step was looked at: the probe saw what the server kept, not an open transaction.
sessions_seq=$(q "SELECT min(seq) FROM sqlf.journal WHERE line::json->>'type' = 'step_sessions'")
probe_seq=$(q "SELECT min(seq) FROM sqlf.journal WHERE line::json->>'type' = 'step_probe' AND line::json->>'step' = 'sqlstep'")
[ -n "$probe_seq" ] && [ "$sessions_seq" -lt "$probe_seq" ] || fail "the step was probed before its sessions were ended"
kill -0 "$old" || fail "the deposed leader exited; it should follow"
o=$(slot_of sqlf "$old")
contains "$WORK/$o/local/rollback.log" "lost the run lock of generation $gen"
stop_monitors sqlf
pass "a leader paused inside a sql step commits nothing after SIGCONT: its session was ended before the step ran again (F5)"

# --- F6: an http POST with attempts -----------------------------------------------------------
port=$(free_port)
cat >"$WORK/post_server.py" <<'PY'
import http.server, sys, time
log = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with open(log, 'a') as f:
            f.write('%d\n' % int(time.time() * 1000))
        self.send_response(503)
        self.end_headers()
        self.wfile.write(b'no')
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
PY
posts="$WORK/posts"
: >"$posts"
python3 "$WORK/post_server.py" "$port" "$posts" &
stop_on_exit $!
e="$WORK/effects.httpf"
: >"$e"
cat >"$WORK/pb.httpf.toml" <<TOML
[playbook]
name = "pb-httpf"
[[step]]
id = "one"
phase = "immediate"
action = "exec"
argv = ["sh", "-c", "echo one >> $e"]
probe = "grep -qx one $e"
[[step]]
id = "drain"
phase = "immediate"
action = "http"
method = "POST"
url = "http://127.0.0.1:$port/drain"
body = "x=1"
expect_status = 200
attempts = 30
interval = "1s"
timeout = "120s"
TOML
two_monitors httpf
old=$(leader_pid httpf)
echo 9 >"$WORK/fault.httpf"
wait_for 20 started httpf drain || fail "the run did not start step drain"
gen=$(run_gen httpf)
posts_sent() { [ "$(wc -l <"$posts")" -ge "$1" ]; }
wait_for 10 posts_sent 2 || fail "the step sent no second POST"
kill -STOP "$old"
wait_for 15 taken_over httpf "$gen" || { kill -CONT "$old"; fail "the follower did not take the run over (F6)"; }
wait_for 20 run_done httpf || { kill -CONT "$old"; fail "the new leader did not settle the run"; }
[ "$(finished_state httpf)" = needs_attention ] || fail "the run ended $(finished_state httpf), not needs_attention"
sleep 1
cont=$(now_ms)
kill -CONT "$old"
sleep 4 # 4 attempts' worth of interval
late=$(awk -v t="$cont" '$1 >= t' "$posts" | wc -l)
[ "$late" = 0 ] || fail "the deposed leader sent $late POST(s) after it was continued"
kill -0 "$old" || fail "the deposed leader exited; it should follow"
o=$(slot_of httpf "$old")
contains "$WORK/$o/local/rollback.log" "lost the run lock of generation $gen"
contains "$WORK/$o/local/rollback.log" "(checked before attempt "
contains "$WORK/$o/local/rollback.log" "of step \"drain\" (POST http://127.0.0.1:$port/drain))"
contains "$WORK/$o/out" "lost its leadership and the run lock (another monitor took over); it starts nothing more and follows"
stop_monitors httpf
pass "a leader paused between the attempts of an http POST sends none after SIGCONT and says why (F6)"
