#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `rollback check` reading http and prometheus sources from a real server on 127.0.0.1: healthy →
# ok; failing probes → firing (immediate) and pending (`for`); a refused target is its failure,
# an unreachable Prometheus or an unresolvable probe host is no data; NaN is an error.
source "$(dirname "$0")/../support/itest.sh"
command -v python3 >/dev/null || { echo "python3 not found: skipping"; exit 125; }
cd "$WORK"

# The target's /health/ answers the status in ./status; /api/v1/query answers ./prom.json.
cat > server.py <<'PY'
import http.server, os
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/api/v1/query?query="):
            code, body = 200, open("prom.json", "rb").read()
        else:
            code, body = int(open("status").read()), b"health"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
open("port.tmp", "w").write(str(server.server_address[1]))
os.rename("port.tmp", "port")
server.serve_forever()
PY
prom() { printf '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"%s"]}]}}' "$1" > prom.json; }
echo 200 > status
prom 0.1
python3 server.py & server_pid=$!
stop_on_exit $server_pid
for _ in $(seq 50); do [ -f port ] && break; sleep 0.1; done
[ -f port ] || fail "test server did not start"
port=$(cat port)

cat > rollback.toml <<TOML
[target]
name = "shop"
[source.health]
kind = "http"
url = "http://127.0.0.1:$port/health/"
timeout = "1s"
[source.prom]
kind = "prometheus"
url = "http://127.0.0.1:$port"
query = 'sum(rate(http_requests_total{code=~"5.."}[5m]))'
timeout = "1s"
[source.elsewhere]
kind = "http"
url = "http://no-such-host.invalid/health/"
timeout = "1s"
[[condition]]
name = "down"
signal = "health.error_rate"
window = "1m"
above = 0.5
severity = "critical"
[[condition]]
name = "down-for"
signal = "health.error_rate"
window = "1m"
above = 0.5
for = "2m"
[[condition]]
name = "errors"
signal = "prom.value"
above = 0.5
[[condition]]
name = "remote"
signal = "elsewhere.downtime"
above = 60
on_no_data = "ignore"
TOML

verdict() { # verdict FILE CONDITION → the condition's verdict in a check --json record
    python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
print([c for c in r["conditions"] if c["name"] == sys.argv[2]][0]["verdict"])' "$1" "$2"
}

expect_rc 0 ok.json -- "$RB" check -c rollback.toml --json
[ "$(verdict ok.json down)" = ok ] || fail "healthy target: down is $(verdict ok.json down)"
[ "$(verdict ok.json down-for)" = ok ] || fail "healthy target: down-for not ok"
[ "$(verdict ok.json errors)" = ok ] || fail "prometheus 0.1: errors not ok"
[ "$(verdict ok.json remote)" = no_data ] || fail "unresolvable host: $(verdict ok.json remote)"
contains ok.json 'source \"elsewhere\" unavailable: cannot resolve host \"no-such-host.invalid\"'
pass "healthy target: ok; an unresolvable probe host is no_data"

echo 500 > status
prom 0.9
expect_rc 5 bad.json -- "$RB" check -c rollback.toml --json
[ "$(verdict bad.json down)" = firing ] || fail "500s: down is $(verdict bad.json down)"
[ "$(verdict bad.json down-for)" = pending ] || fail "500s: down-for is $(verdict bad.json down-for)"
[ "$(verdict bad.json errors)" = firing ] || fail "prometheus 0.9: errors not firing"
contains bad.json '"action":"trigger","mode":"auto","executed":false'
pass "failing probes: firing (immediate) and pending (for = 2m); exit 5"

echo 200 > status
prom NaN
expect_rc 0 nan.json -- "$RB" check -c rollback.toml --json
[ "$(verdict nan.json errors)" = no_traffic ] || fail "NaN: errors is $(verdict nan.json errors)"
contains nan.json "query returned NaN: a ratio over a window without requests"
if grep -q '"action":"escalate"' nan.json; then fail "NaN (no traffic) escalated"; fi
pass "a NaN from Prometheus (0/0: no requests) is no_traffic, ignored by default - not ok, not a page"

# break-it 25/11: the error ratio of docs/config.md on a healthy service with no 5xx since it
# started (the 5xx series do not exist yet): an empty vector, an answer - not a page.
printf '{"status":"success","data":{"resultType":"vector","result":[]}}' > prom.json
expect_rc 0 empty.json -- "$RB" check -c rollback.toml --json
[ "$(verdict empty.json errors)" = no_traffic ] || fail "empty vector: errors is $(verdict empty.json errors)"
contains empty.json "empty vector: the query matched no series"
if grep -q '"action":"escalate"' empty.json; then fail "an empty vector escalated"; fi
pass "an empty vector from a working Prometheus is no_traffic, ignored by default - not a page"

kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
expect_rc 5 gone.json -- "$RB" check -c rollback.toml --json
[ "$(verdict gone.json down)" = firing ] || fail "refused target: down is $(verdict gone.json down)"
[ "$(verdict gone.json errors)" = no_data ] || fail "Prometheus down: errors is $(verdict gone.json errors)"
contains gone.json "not reachable: connect to 127.0.0.1:$port: Connection refused"
pass "a refused target is its failure (firing); Prometheus unreachable is no_data"
