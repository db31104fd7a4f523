#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The real thing: Debian's prometheus evaluates a rule over a tiny exporter and sends the alert
# to prometheus-alertmanager, which routes it (webhook_configs, short group_wait, group_interval
# and repeat_interval, a bearer token) to `rollback monitor`. The alert fires → exactly one run;
# the notifications Alertmanager re-sends → no second run; resolved → recorded. Prometheus also
# scrapes the monitor's /metrics with the token (`up` is 1). Everything on 127.0.0.1.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
for b in prometheus prometheus-alertmanager python3 curl; do
    command -v "$b" >/dev/null || { echo "skip: $b not installed"; exit 125; }
done
deadline=$(( $(date +%s) + 75 ))
left() { [ "$(date +%s)" -lt "$deadline" ] || fail "out of time ($*)"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rb_port=$(free_port); prom_port=$(free_port); am_port=$(free_port)
echo "am-rollback-token" > token
echo 0 > ratio

python3 "$SRC/tests/support/flip_exporter.py" "$WORK/ratio" > exporter.port &
stop_on_exit $!
for _ in $(seq 1 50); do [ -s exporter.port ] && break; sleep 0.1; done
exp_port=$(head -1 exporter.port)
[ -n "$exp_port" ] || fail "the exporter did not start"

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
cat > rules.yml <<YAML
groups:
  - name: shop
    rules:
      - alert: HighErrorRate
        expr: shop_error_ratio > 0.5
        labels: { service: shop, severity: page }
        annotations: { summary: "5xx above half" }
YAML
cat > prometheus.yml <<YAML
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [ "$WORK/rules.yml" ]
alerting:
  alertmanagers:
    - static_configs: [ { targets: [ "127.0.0.1:$am_port" ] } ]
scrape_configs:
  - job_name: shop
    static_configs: [ { targets: [ "127.0.0.1:$exp_port" ] } ]
  - job_name: rollback
    static_configs: [ { targets: [ "127.0.0.1:$rb_port" ] } ]
    authorization: { credentials_file: "$WORK/token" }
YAML
cat > alertmanager.yml <<YAML
route:
  receiver: rollback
  group_by: [ alertname ]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 3s
receivers:
  - name: rollback
    webhook_configs:
      - url: "http://127.0.0.1:$rb_port/api/v1/alertmanager"
        send_resolved: true
        http_config:
          authorization: { credentials_file: "$WORK/token" }
YAML

runs() { if [ -f runs.txt ]; then wc -l < runs.txt; else echo 0; fi; }
events() { grep -c "\"event\":\"$1\"" .rollback/monitor.jsonl 2>/dev/null || true; }

"$RB" monitor -c rollback.toml > loop.out 2>&1 &
mon=$!
stop_on_exit $mon
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$rb_port/healthz" && break; sleep 0.1; done

prometheus-alertmanager --config.file=alertmanager.yml --storage.path="$WORK/am-data" \
    --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= > am.log 2>&1 &
stop_on_exit $!
prometheus --config.file=prometheus.yml --storage.tsdb.path="$WORK/prom-data" \
    --web.listen-address="127.0.0.1:$prom_port" --rules.alert.resend-delay=1s > prom.log 2>&1 &
stop_on_exit $!

query() { curl -s -G "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1"; }
until query 'up{job="rollback"}' | grep -q '"value":\[[0-9.]*,"1"\]'; do
    left "Prometheus scraping rollback's /metrics"; sleep 0.5
done
pass "Prometheus scrapes the monitor's /metrics with the token: up is 1"
until query 'up{job="shop"}' | grep -q '"value":\[[0-9.]*,"1"\]'; do left "scraping the exporter"; sleep 0.5; done

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
