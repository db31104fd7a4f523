#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# /metrics follows Prometheus' naming conventions (docs/metrics.md): each condition's value is in
# the family of its unit, in base units — a p95 latency of 0.75 s is
# rollback_condition_value_seconds 0.736 (the records keep ms: 736), downtime in seconds too, the error
# rate in _ratio, the request count in _requests, a command's number in rollback_condition_value —
# no condition in two families, and `promtool check metrics` accepts the page.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
command -v curl >/dev/null || { echo "skip: curl not installed"; exit 125; }
command -v promtool >/dev/null || { echo "skip: promtool not installed"; exit 125; }

port=$(free_port)
closed=$(free_port)
# 40 requests of the last half minute, each 0.750 s, one in four a 500.
python3 - > access.log <<'PY'
import datetime as dt
now = dt.datetime.now(dt.timezone.utc)
for i in range(40):
    t = now - dt.timedelta(seconds=35 - i * 0.5)
    status = 500 if i % 4 == 0 else 200
    print('127.0.0.1 - - [%s] "GET /cart HTTP/1.1" %d 512 "-" "curl" 0.750 0.749'
          % (t.strftime('%d/%b/%Y:%H:%M:%S +0000'), status))
PY
cat > rollback.toml <<TOML
[target]
name = "units"
[source.web]
kind = "access_log"
path = "access.log"
format = '\$remote_addr - \$remote_user [\$time_local] "\$request" \$status \$body_bytes_sent "\$http_referer" "\$http_user_agent" \$request_time \$upstream_response_time'
max_lateness = "2s"
[source.health]
kind = "http"
url = "http://127.0.0.1:$closed/"
timeout = "1s"
[source.probe]
kind = "command"
argv = ["echo", "42"]
[[condition]]
name = "p95"
signal = "web.latency_p95"
window = "5m"
above = "2000ms"
[[condition]]
name = "down"
signal = "health.downtime"
above = "15m"
[[condition]]
name = "err"
signal = "web.error_rate"
window = "5m"
above = 0.5
min_requests = 10
[[condition]]
name = "reqs"
signal = "web.request_count"
window = "5m"
above = 100000
[[condition]]
name = "answer"
signal = "probe.value"
above = 100
[server]
listen = "127.0.0.1:$port"
[decision]
mode = "observe"
interval = "1s"
TOML

"$RB" monitor -c rollback.toml > loop.out 2>&1 &
mon=$!
stop_on_exit $mon
for _ in $(seq 1 100); do
    curl -s -o metrics.txt "http://127.0.0.1:$port/metrics" || true
    grep -q '^rollback_condition_value_seconds{condition="down"}' metrics.txt 2>/dev/null &&
        grep -q '^rollback_condition_value_seconds{condition="p95"}' metrics.txt && break
    sleep 0.2
done
running $mon || { cat loop.out; fail "the monitor stopped"; }
grep '^rollback_condition_value' metrics.txt
# The p95 of forty 0.750 s requests, from the latency histogram: 736 ms in the record.
contains metrics.txt 'rollback_condition_value_seconds{condition="p95"} 0.736'
grep -q '^rollback_condition_value_seconds{condition="down"} [0-9.e+-]*$' metrics.txt ||
    fail "no downtime in seconds"
contains metrics.txt 'rollback_condition_value_ratio{condition="err"} 0.25'
contains metrics.txt 'rollback_condition_value_requests{condition="reqs"} 40'
contains metrics.txt 'rollback_condition_value{condition="answer"} 42'
# Each condition in exactly one family.
for c in p95 down err reqs answer; do
    n=$(grep -c "^rollback_condition_value[a-z_]*{condition=\"$c\"}" metrics.txt || true)
    [ "$n" = 1 ] || fail "condition $c is in $n value families"
done
pass "each condition's value in the family of its unit, in base units (p95 0.736 s, not 736)"

promtool check metrics < metrics.txt > promtool.out 2>&1 || { cat promtool.out; fail "promtool check metrics"; }
pass "promtool check metrics accepts the page"
kill -TERM $mon; wait $mon || true
