#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A notification answered 200 is kept before the answer: the monitor is busy running a playbook
# when a second alert arrives (answered 200, not yet applied), then is killed with SIGKILL; the
# restarted monitor applies it (alert x2 fired, in alerts.json) instead of losing it.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
command -v curl >/dev/null || { echo "skip: curl not installed"; exit 125; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
cat > pb.toml <<TOML
[playbook]
name = "slow"
[[step]]
id = "slow"
action = "exec"
argv = ["sh", "-c", "echo started >> $WORK/runs.txt; sleep 3"]
TOML
cat > rollback.toml <<TOML
[target]
name = "shop"
[[condition]]
name = "shop-errors"
kind = "alert"
match = { alertname = "HighErrorRate" }
[server]
listen = "127.0.0.1:$port"
[decision]
mode = "auto"
playbook = "pb.toml"
interval = "1s"
TOML
post() { # FINGERPRINT
    [ "$(curl -s -o body.txt -w '%{http_code}' -X POST --data-binary "{\"version\":\"4\",\"groupKey\":\"g\",\"status\":\"firing\",\"receiver\":\"r\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"HighErrorRate\",\"n\":\"$1\"},\"startsAt\":\"2026-12-05T23:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\",\"fingerprint\":\"$1\"}]}" "$base/api/v1/alertmanager")" = 200 ] ||
        fail "notification refused: $(cat body.txt)"
}
listening() { for _ in $(seq 1 50); do curl -s -o /dev/null "$base/healthz" && return 0; sleep 0.1; done; return 1; }
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
"$RB" monitor -c rollback.toml > loop2.out 2>&1 &
mon=$!
stop_on_exit $mon
listening || { cat loop2.out; fail "the monitor did not listen again"; }
for _ in $(seq 1 50); do grep -q '"fingerprint":"x2"' .rollback/alerts.json && break; sleep 0.1; done
contains .rollback/alerts.json '"fingerprint":"x2"'
[ ! -e .rollback/alerts.inbox ] || { sleep 1; [ ! -e .rollback/alerts.inbox ] || fail "alerts.inbox was not emptied once applied"; }
pass "a notification answered 200 survives SIGKILL of the monitor"
