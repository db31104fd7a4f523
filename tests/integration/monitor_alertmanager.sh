#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The real thing: Debian's prometheus evaluates a rule over a tiny exporter and sends the alert
# to prometheus-alertmanager, which routes it (webhook_configs, short group_wait, group_interval
# and repeat_interval, a bearer token) to `rollback monitor`. The alert fires → exactly one run;
# the notifications Alertmanager re-sends → no second run; resolved → recorded. Prometheus also
# scrapes the monitor's /metrics with the token (`up` is 1). Everything on 127.0.0.1.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
deadline=$(( $(date +%s) + 75 ))
left() { [ "$(date +%s)" -lt "$deadline" ] || fail "out of time ($*)"; }
source "$SRC/tests/support/prom_am.sh"
echo "am-rollback-token" > token

cat > pb.toml <<TOML
[playbook]
name = "revert"
[[step]]
id = "mark"
action = "exec"
argv = ["sh", "-c", "echo ran >> $WORK/runs.txt"]
TOML
cat > rollback.toml <<TOML
[target]
name = "shop"
[[condition]]
name = "shop-errors"
kind = "alert"
match = { alertname = "HighErrorRate", service = "shop" }
[server]
listen = "127.0.0.1:$rb_port"
token_file = "token"
[decision]
mode = "auto"
playbook = "pb.toml"
interval = "2s"
TOML
prom_am_config "$WORK/token"

runs() { if [ -f runs.txt ]; then wc -l < runs.txt; else echo 0; fi; }
events() { grep -c "\"event\":\"$1\"" .rollback/monitor.jsonl 2>/dev/null || true; }

"$RB" monitor -c rollback.toml > loop.out 2>&1 &
mon=$!
stop_on_exit $mon
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$rb_port/healthz" && break; sleep 0.1; done

prom_am_start
wait_up rollback
pass "Prometheus scrapes the monitor's /metrics with the token: up is 1"
wait_up shop

echo 1 > ratio
t0=$(date +%s)
until [ "$(runs)" -ge 1 ]; do left "the alert to start a run"; sleep 0.2; done
echo "metric flipped to a run: $(( $(date +%s) - t0 )) s"
pass "the alert fired: a run started"

# Alertmanager re-sends the firing group every repeat_interval (3 s): the same incident.
until [ "$(events alert_repeated)" -ge 2 ]; do left "re-sent notifications"; sleep 0.5; done
[ "$(runs)" -eq 1 ] || { cat loop.out; fail "$(runs) runs for one alert"; }
pass "re-sent notifications ($(events alert_repeated)): still exactly one run"

echo 0 > ratio
until [ "$(events alert_resolved)" -ge 1 ]; do left "the resolved notification"; sleep 0.5; done
for _ in $(seq 1 30); do grep -q 'shop-errors=ok' loop.out && break; sleep 0.1; done
tail -n 1 loop.out | grep -q 'shop-errors=ok' || { cat loop.out; fail "the resolution is not a decision record"; }
grep -l '"verdict":"ok"' .rollback/decisions/2*.json > /dev/null || fail "no record of the resolution"
[ "$(runs)" -eq 1 ] || fail "a second run after the resolution"
pass "resolved: recorded (monitor.jsonl alert_resolved, a decision record with verdict ok)"

curl -s -H "Authorization: Bearer am-rollback-token" "http://127.0.0.1:$rb_port/metrics" > metrics.txt
contains metrics.txt 'rollback_runs_total{state="succeeded"} 1'
contains metrics.txt 'rollback_alert_notifications_total{outcome="resolved"} 1'
if command -v promtool >/dev/null; then
    promtool check metrics < metrics.txt || fail "promtool check metrics"
fi
kill -TERM $mon; wait $mon || true
echo "total: $(( $(date +%s) - deadline + 75 )) s"
