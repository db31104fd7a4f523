#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The monitor as a service (brk28 04, 06, 13): a run left unfinished when the monitor starts and
# resumed later is counted on /metrics and noticed; a [decision] playbook that is missing is
# refused by `validate -c` and the monitor (exit 2), and one that stops loading after the start
# is a trigger not acted on: escalated, counted, retried; a state directory the monitor cannot
# write is exit 7 with a clear message, and `check` as another user than the state's owner
# refuses instead of leaving files the service cannot write (root only: setpriv).
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
source "$SRC/tests/support/monitor_server.sh"

# --- 04: a run unfinished at start, resumed, is counted and noticed ----------------------------
cat > slow.toml <<'TOML'
[playbook]
name = "slow"
[[step]]
id = "s"
action = "exec"
argv = ["sh", "-c", "sleep 2"]
idempotent = true
TOML
alert_config 'alertname = "HighErrorRate"' 'mode = "observe"' 'playbook = "slow.toml"' 'interval = "1s"'
"$RB" run -p slow.toml -c rollback.toml --yes > run1.out 2>&1 &
p=$!
sleep 1
kill -9 $p; wait $p 2>/dev/null || true
rid=$(basename "$(ls -t .rollback/runs/*.jsonl | head -1)" .jsonl)
start_monitor mon.out
expect_rc 0 resume.out -- "$RB" resume "$rid" -c rollback.toml --yes
wait_for 'curl -s "$base/metrics" | grep -q "^rollback_runs_total{state=\"succeeded\"} 1"' ||
    { curl -s "$base/metrics" | grep rollback_runs; fail "the resumed run is not counted"; }
# Read whole before grep: with pipefail, grep -q leaving at its first match fails curl (SIGPIPE).
curl -s "$base/metrics" > metrics.txt
grep -q '^rollback_last_run_duration_seconds' metrics.txt || fail "no last_run gauge"
wait_for '[ "$(events run_noticed)" -ge 1 ]' || fail "the resumed run was not noticed"
kill -TERM $mon; wait $mon 2>/dev/null || true
pass "a run unfinished at the monitor's start, resumed, is counted and noticed"

# --- 06: the [decision] playbook missing, then broken after the start ---------------------------
rm -rf .rollback
alert_config 'alertname = "HighErrorRate"' 'mode = "auto"' 'playbook = "playbook.toml"' 'interval = "1s"' 'cooldown = "1h"'
expect_rc 2 validate.out -- "$RB" validate -c rollback.toml
contains validate.out '[decision] playbook'
contains validate.out 'playbook.toml does not exist'
expect_rc 2 mon0.out -- "$RB" monitor -c rollback.toml
contains mon0.out 'playbook.toml does not exist'
printf '[playbook]\nname = "r"\n[[step]]\nid = "m"\naction = "exec"\nargv = ["sh", "-c", "echo ran >> %s/runs.txt"]\n' "$WORK" > playbook.toml
expect_rc 0 validate.out -- "$RB" validate -c rollback.toml
start_monitor mon.out
echo 'this is = = not toml' > playbook.toml # broken after the start
post_alert "$(am_alert firing a1)"
wait_for '[ "$(events escalated)" -ge 1 ]' || { cat mon.out; fail "the failed start was not escalated"; }
contains .rollback/monitor.jsonl '"event":"run_not_started"'
curl -s "$base/metrics" > metrics.txt
contains metrics.txt 'rollback_runs_not_started_total{reason="playbook"}'
grep -q 'rollback_runs_not_started_total{reason="playbook"} 0' metrics.txt && fail "not counted"
printf '[playbook]\nname = "r"\n[[step]]\nid = "m"\naction = "exec"\nargv = ["sh", "-c", "echo ran >> %s/runs.txt"]\n' "$WORK" > playbook.toml
wait_for '[ "$(runs)" -ge 1 ]' || { cat mon.out; fail "the still-firing incident never got its run (cooldown 1h)"; }
kill -TERM $mon; wait $mon 2>/dev/null || true
pass "a missing playbook is refused at start; one broken later is escalated, counted, retried"

# --- 13: the state directory ---------------------------------------------------------------------
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
    echo "skip: the state-owner checks need root and setpriv"
    exit 0
fi
chmod 755 "$WORK"
cat > obs.toml <<TOML
[target]
name = "shop"
state_dir = "$WORK/svc"
[source.probe]
kind = "command"
argv = ["true"]
[[condition]]
name = "p"
signal = "probe.value"
above = 1
[decision]
mode = "observe"
interval = "1s"
TOML
chmod 644 obs.toml
as_service() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
mkdir svc; chmod 755 svc # root's: the service user cannot write it
expect_rc 7 mon7.out -- as_service "$RB" monitor --once -c obs.toml
contains mon7.out "cannot write to state directory $WORK/svc"
grep -q "internal error" mon7.out && fail "an internal error: $(cat mon7.out)"
expect_rc 7 chk7.out -- as_service "$RB" check -c obs.toml
chown 65534:65534 svc
expect_rc 2 root.out -- "$RB" check -c obs.toml
contains root.out "the state directory $WORK/svc belongs to"
[ ! -e svc/decisions ] || fail "root's check created $(ls -ld svc/decisions)"
expect_rc 0 svc.out -- as_service "$RB" check -c obs.toml
pass "an unwritable state directory is exit 7; root's check refuses the service's state"
