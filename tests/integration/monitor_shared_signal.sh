#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SIGTERM to the leader while it runs a run it resumed (a dead leader left it; real PostgreSQL 15,
# real processes): as for a run it started, the run is handed over (journaled `run_handed_over`:
# the signal, the step it interrupted, the next leader, the resume command; its finally step is
# left to the next leader's resume, not run now) and the monitor stops with exit 130, resuming
# and starting nothing more. status, report and audit verify read the record.
# While the resumed run executes, that monitor's /healthz answers 503 naming it.
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54345
source "$(dirname "$0")/../support/pg_shared.sh"
command -v curl >/dev/null || { echo "skip: curl not installed"; exit 125; }
port=$(free_port)

cat >"$WORK/pb.toml" <<TOML
[playbook]
name = "slow"
[[step]]
id = "slow"
action = "exec"
idempotent = true
argv = ["sh", "-c", "echo started >> $WORK/slow.txt; sleep 60"]
[[finally]]
id = "cleanup"
action = "exec"
argv = ["sh", "-c", "echo cleanup >> $WORK/finally.txt"]
TOML
echo 1 >"$WORK/fault"
# config DIR [SERVER]: a monitor of the shared state (its own local state_dir).
config() { monitor_config "$1" sig 3s "$WORK/fault" "$WORK/pb.toml" "${2:-}"; }
config "$WORK/a"
config "$WORK/b" "[server]
listen = \"127.0.0.1:$port\""
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

"$RB" monitor -c "$WORK/a/rollback.toml" </dev/null >"$WORK/a.out" 2>&1 &
a=$!
stop_on_exit $a
a_leads() { [ "$(leader_pid sig)" = "$a" ]; }
wait_for 20 a_leads || { cat "$WORK/a.out"; fail "the first monitor does not lead"; }
"$RB" monitor -c "$WORK/b/rollback.toml" </dev/null >"$WORK/b.out" 2>&1 &
b=$!
stop_on_exit $b
b_serves() { curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; }
wait_for 20 b_serves || { cat "$WORK/b.out"; fail "the second monitor does not serve"; }

echo 9 >"$WORK/fault"
started_once() { [ "$(lines "$WORK/slow.txt")" -ge 1 ]; }
wait_for 20 started_once || { cat "$WORK/a.out"; fail "the leader started no run"; }
kill -KILL $a
wait $a 2>/dev/null || true
# The resumed run first waits for the step's process the dead leader left running (sleep 60),
# then would run the step again: either way it executes, under the second monitor.
resumed() { grep -q " resumed by " "$WORK/b.out"; }
wait_for 30 resumed || { cat "$WORK/b.out"; fail "the second monitor did not resume the left run"; }
contains "$WORK/b.out" "was left unfinished: resuming it"
run=$(q "SELECT run_id FROM sig.journal WHERE seq = 0")

code=$(curl -s -o "$WORK/health.json" -w '%{http_code}' "http://127.0.0.1:$port/healthz")
[ "$code" = 503 ] || { cat "$WORK/health.json"; fail "/healthz during the resumed run: $code, not 503"; }
contains "$WORK/health.json" '"ok":false'
contains "$WORK/health.json" "\"reason\":\"resuming run $run (decision "
pass "/healthz answers 503 while the leader runs the run it resumed"

kill -TERM $b
for _ in $(seq 1 100); do kill -0 $b 2>/dev/null || break; sleep 0.1; done
if kill -0 $b 2>/dev/null; then
    cat "$WORK/b.out"
    fail "the monitor still runs 10 s after SIGTERM"
fi
rc=0
wait $b || rc=$?
[ "$rc" = 130 ] || { cat "$WORK/b.out"; fail "the monitor's exit code is $rc, not 130"; }
[ "$(lines "$WORK/finally.txt")" = 0 ] ||
    fail "the finally step ran $(lines "$WORK/finally.txt") times at a hand-over (the next leader's resume runs it, last)"
[ "$(q "SELECT count(*) FROM sig.journal WHERE run_id = '$run' AND line::json->>'type' = 'run_handed_over'")" = 1 ] ||
    fail "the resumed run is not journaled as handed over"
[ "$(q "SELECT count(*) FROM sig.journal WHERE run_id = '$run' AND line::json->>'type' IN ('note', 'run_interrupted')")" = 0 ] ||
    fail "the hand-over is journaled as a note or run_interrupted besides its own record"
over() { q "SELECT line::json->>'$1' FROM sig.journal WHERE run_id = '$run' AND line::json->>'type' = 'run_handed_over'"; }
[ "$(over signal)" = SIGTERM ] || fail "hand-over signal: $(over signal)"
[ "$(over during)" = steps ] || fail "hand-over during: $(over during)"
[ "$(over to)" = next_leader ] || fail "hand-over to: $(over to)"
[ "$(over generation)" -ge 1 ] || fail "hand-over generation: $(over generation)"
[ "$(over resume)" = "rollback resume $run -c $(realpath "$WORK/b/rollback.toml")" ] ||
    fail "hand-over resume command: $(over resume)"
# The signal came while the resume waited for the dead leader's survivors (no step in flight)
# or while step slow ran again (then interrupted, its programs ended).
case "$(over step)/$(over step_status)" in
/ | slow/interrupted) ;;
*) fail "hand-over step: $(over step) ($(over step_status))" ;;
esac
expect_rc 0 "$WORK/verify.out" -- "$RB" audit verify "$run" -c "$WORK/b/rollback.toml"
expect_rc 0 "$WORK/status.out" -- "$RB" status "$run" -c "$WORK/b/rollback.toml"
contains "$WORK/status.out" "  hand-over to the next leader (from generation $(over generation)) on SIGTERM"
contains "$WORK/status.out" "  next: the next leader resumes it"
contains "$WORK/status.out" "with no leader left: rollback resume $run -c "
expect_rc 0 "$WORK/report.out" -- "$RB" report "$run" -c "$WORK/b/rollback.toml"
contains "$WORK/report.out" "run handed over to the next leader (from generation $(over generation)) on SIGTERM"
[ "$(q "SELECT count(*) FROM sig.journal WHERE seq = 0")" = 1 ] || fail "another run started"
n=$(lines "$WORK/slow.txt")
sleep 1
[ "$(lines "$WORK/slow.txt")" = "$n" ] || fail "the step ran again after SIGTERM"
pass "SIGTERM during a resumed run: the run is interrupted, the monitor exits 130"
