#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A notification answered 200 is kept before the answer: the monitor is busy running a playbook
# when a second alert arrives (answered 200, not yet applied), then is killed with SIGKILL; the
# restarted monitor applies it (alert x2 fired, in alerts.json) instead of losing it.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
source "$SRC/tests/support/monitor_server.sh"
cat > pb.toml <<TOML
[playbook]
name = "slow"
[[step]]
id = "slow"
action = "exec"
argv = ["sh", "-c", "echo started >> $WORK/runs.txt; sleep 3"]
TOML
alert_config 'alertname = "HighErrorRate"' 'mode = "auto"' 'playbook = "pb.toml"' 'interval = "1s"'
post() { post_alert "$(am_alert firing "$1" "" "" "\"alertname\":\"HighErrorRate\",\"n\":\"$1\"")"; } # FINGERPRINT
"$RB" monitor -c rollback.toml > loop1.out 2>&1 &
mon=$!
listening || { cat loop1.out; fail "the monitor did not listen"; }
post x1
for _ in $(seq 1 50); do [ -f runs.txt ] && break; sleep 0.1; done
[ -f runs.txt ] || { cat loop1.out; fail "no run started"; }
post x2 # the loop runs the playbook: answered, not applied yet
kill -KILL $mon
wait $mon 2>/dev/null || true
grep -q '"fingerprint":"x2"' .rollback/alerts.json 2>/dev/null && fail "x2 was applied before the kill: the test proves nothing"
sleep 3.5 # the killed run's step ends by itself
start_monitor loop2.out
for _ in $(seq 1 50); do grep -q '"fingerprint":"x2"' .rollback/alerts.json && break; sleep 0.1; done
contains .rollback/alerts.json '"fingerprint":"x2"'
[ ! -e .rollback/alerts.inbox ] || { sleep 1; [ ! -e .rollback/alerts.inbox ] || fail "alerts.inbox was not emptied once applied"; }
pass "a notification answered 200 survives SIGKILL of the monitor"
