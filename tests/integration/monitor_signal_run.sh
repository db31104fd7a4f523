#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SIGTERM to the monitor while the playbook it started runs (what `systemctl stop` sends): the
# run is interrupted (journaled `interrupted`, its finally step runs) and the monitor itself stops
# promptly with exit 130, starting nothing more; before, it went on ticking until a second signal.
# While the run executes, /healthz answers 503 naming it (the loop does not tick meanwhile).
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
source "$SRC/tests/support/monitor_server.sh"

cat > pb.toml <<TOML
[playbook]
name = "slow"
[[step]]
id = "slow"
action = "exec"
argv = ["sh", "-c", "echo started >> $WORK/runs.txt; sleep 30"]
[[finally]]
id = "cleanup"
action = "exec"
argv = ["sh", "-c", "echo cleanup >> $WORK/finally.txt"]
TOML
alert_config 'alertname = "HighErrorRate"' 'mode = "auto"' 'playbook = "pb.toml"' 'interval = "1s"'
start_monitor loop.out
post_alert "$(am_alert firing a1)"
for _ in $(seq 1 50); do [ -f runs.txt ] && break; sleep 0.1; done
[ -f runs.txt ] || { cat loop.out; fail "the alert started no run"; }
# While the run executes the loop does not tick: /healthz says so (finding 08).
code=$(curl -s -o health.json -w '%{http_code}' "$base/healthz")
[ "$code" = 503 ] || { cat health.json; fail "/healthz during the run: $code, not 503"; }
contains health.json '"ok":false'
contains health.json '"reason":"running the playbook of decision '
kill -TERM $mon
rc=0
for _ in $(seq 1 100); do kill -0 $mon 2>/dev/null || break; sleep 0.1; done
if kill -0 $mon 2>/dev/null; then
    cat loop.out
    fail "the monitor still runs 10 s after SIGTERM"
fi
wait $mon || rc=$?
[ "$rc" = 130 ] || { cat loop.out; fail "the monitor's exit code is $rc, not 130"; }
[ -f finally.txt ] || fail "the interrupted run's finally step did not run"
[ "$(wc -l < runs.txt)" = 1 ] || fail "a second run started after SIGTERM"
grep -q '"type":"run_interrupted"' .rollback/runs/*.jsonl || fail "the run is not journaled as interrupted"
grep -q '"event":"stopped"' .rollback/monitor.jsonl || fail "no stopped event in monitor.jsonl"
pass "SIGTERM during a monitor's run: the run is interrupted, the monitor exits 130"
