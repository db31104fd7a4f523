# Sourced by the tests against the real Prometheus and Alertmanager (after itest.sh, in $WORK):
# skips the test (exit 125) without Debian's prometheus, prometheus-alertmanager, python3 or curl;
# picks free ports (rb_port for the monitor, prom_port, am_port) and starts the flip exporter,
# whose metric shop_error_ratio is the number in $WORK/ratio (0 to begin with; exp_port).
# prom_am_config [TOKEN_FILE]: rules.yml (HighErrorRate: shop_error_ratio > 0.5, labels service
# shop, severity page), prometheus.yml (1 s scrapes of the exporter; with TOKEN_FILE also of the
# monitor's /metrics with that token) and alertmanager.yml (short group_wait, group_interval and
# repeat_interval; a webhook to the monitor, with TOKEN_FILE as its bearer token).
# prom_am_start: starts both, stopped at exit. query EXPR: Prometheus' answer. wait_up JOB:
# until Prometheus scrapes JOB (`up` is 1), within the test's deadline (`left`, set by the test).
for b in prometheus prometheus-alertmanager python3 curl; do
    command -v "$b" >/dev/null || { echo "skip: $b not installed"; exit 125; }
done

rb_port=$(free_port)
prom_port=$(free_port)
am_port=$(free_port)
echo 0 > "$WORK/ratio"

python3 "$SRC/tests/support/flip_exporter.py" "$WORK/ratio" > "$WORK/exporter.port" &
stop_on_exit $!
for _ in $(seq 1 50); do [ -s "$WORK/exporter.port" ] && break; sleep 0.1; done
exp_port=$(head -1 "$WORK/exporter.port")
[ -n "$exp_port" ] || fail "the exporter did not start"

prom_am_config() {
    local token=${1:-} scrape_rb="" auth=""
    if [ -n "$token" ]; then
        scrape_rb="  - job_name: rollback
    static_configs: [ { targets: [ \"127.0.0.1:$rb_port\" ] } ]
    authorization: { credentials_file: \"$token\" }"
        auth="        http_config:
          authorization: { credentials_file: \"$token\" }"
    fi
    cat > "$WORK/rules.yml" <<YAML
groups:
  - name: shop
    rules:
      - alert: HighErrorRate
        expr: shop_error_ratio > 0.5
        labels: { service: shop, severity: page }
        annotations: { summary: "5xx above half" }
YAML
    cat > "$WORK/prometheus.yml" <<YAML
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [ "$WORK/rules.yml" ]
alerting:
  alertmanagers:
    - static_configs: [ { targets: [ "127.0.0.1:$am_port" ] } ]
scrape_configs:
  - job_name: shop
    static_configs: [ { targets: [ "127.0.0.1:$exp_port" ] } ]
$scrape_rb
YAML
    cat > "$WORK/alertmanager.yml" <<YAML
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
$auth
YAML
}

prom_am_start() {
    prometheus-alertmanager --config.file="$WORK/alertmanager.yml" --storage.path="$WORK/am-data" \
        --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= > "$WORK/am.log" 2>&1 &
    stop_on_exit $!
    prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom-data" \
        --web.listen-address="127.0.0.1:$prom_port" --rules.alert.resend-delay=1s \
        > "$WORK/prom.log" 2>&1 &
    stop_on_exit $!
}

query() { curl -s -G "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1"; }
wait_up() {
    until query "up{job=\"$1\"}" | grep -q '"value":\[[0-9.]*,"1"\]'; do
        left "Prometheus scraping $1"
        sleep 0.5
    done
}
