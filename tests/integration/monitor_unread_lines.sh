#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 10 ("never miss an outage", "late lines counted"), break-it 25/04 and 25/05, the live
# monitor (~30 s):
#  - lines that stop matching the format (a release that changed its log_format while it fails)
#    are the monitor's failure: the source is unavailable ("N of M lines do not match the format
#    since T"), escalated by the default on_no_data, logged, and counted in /metrics — never
#    "no requests";
#  - lines later than max_lateness are logged with their count, carried in the tick log and in
#    the records of the windows that hold them (late), never dropped silently.
source "$(dirname "$0")/../support/itest.sh"
command -v python3 > /dev/null || exit 125
cd "$WORK"
gen= mon=
on_exit '[ -z "$mon" ] || _stop_process "$mon"; [ -z "$gen" ] || _stop_process "$gen"'
source "$SRC/tests/support/monitor_server.sh"
conf() { # lateness, metrics port
    web_errors_config "$1"
    cat <<TOML
[decision]
mode = "observe"
interval = "1s"
cooldown = "1h"
[server]
listen = "127.0.0.1:$2"
TOML
}

# 25/04: 20 req/s; from 6 s on the lines are JSON and every request fails.
port=$(free_port)
conf 2s "$port" > rollback.toml
cat > gen.py <<'PY'
import time, datetime as dt, json
f = open("access.log", "a", buffering=1); start = time.time()
while time.time() < start + 14:
    el = time.time() - start; now = dt.datetime.now(dt.timezone.utc)
    if el < 6:
        f.write(f'10.0.0.1 - - [{now.strftime("%d/%b/%Y:%H:%M:%S +0000")}] "POST /checkout/ HTTP/1.1" 200 512 "-" "x" 0.012\n')
    else:
        f.write(json.dumps({"time": now.isoformat(), "request": "POST /checkout/", "status": 500}) + "\n")
    time.sleep(0.05)
PY
: > access.log
"$RB" monitor -c rollback.toml > mon.out 2>&1 & mon=$!
sleep 0.5
python3 gen.py
curl -fsS "http://127.0.0.1:$port/metrics" > metrics.txt || fail "no /metrics"
kill -TERM "$mon"; wait "$mon" || true; mon=
contains st/rollback.log "lines do not match the format since"
grep -q 'escalate.*err=no_data' mon.out || { cat mon.out >&2; fail "no escalation of the unreadable lines"; }
grep -h '"verdict"' st/decisions/2*.json > /dev/null
python3 - <<'PY' || fail "the records do not say that the lines do not match"
import json, glob
recs = [json.load(open(f)) for f in sorted(glob.glob("st/decisions/2*.json"))]
esc = [r for r in recs if r["action"] == "escalate"]
assert esc, [r["action"] for r in recs]
c = esc[0]["conditions"][0]
assert c["verdict"] == "no_data" and "do not match the format since" in c["detail"], c
PY
grep -E '^rollback_log_lines_rejected_total\{source="web"\} [1-9]' metrics.txt > /dev/null ||
    { cat metrics.txt >&2; fail "/metrics has no rejected lines"; }
pass "lines that stop matching the format: no_data, escalated, logged, in /metrics"

# 25/05: 20 req/s healthy; every 3 s a batch of 10 504s dated 8 s back (max_lateness 3s).
rm -rf st access.log
port=$(free_port)
conf 3s "$port" > rollback.toml
cat > gen.py <<'PY'
import time, datetime as dt
f = open("access.log", "a", buffering=1); start = time.time(); last = start
def line(ts, st):
    d = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    return f'10.0.0.1 - - [{d.strftime("%d/%b/%Y:%H:%M:%S +0000")}] "GET / HTTP/1.1" {st} 1 "-" "x" 0.010\n'
while time.time() < start + 12:
    now = time.time(); f.write(line(now, 200))
    if now - last > 3:
        for i in range(10): f.write(line(now - 8, 504))
        last = now
    time.sleep(0.05)
PY
: > access.log
"$RB" monitor -c rollback.toml > mon.out 2>&1 & mon=$!
sleep 0.5
python3 gen.py
sleep 1
curl -fsS "http://127.0.0.1:$port/metrics" > metrics.txt || fail "no /metrics"
kill -TERM "$mon"; wait "$mon" || true; mon=
contains st/rollback.log "more lines not counted: they came later than max_lateness = 3s"
grep -q '"late":[1-9]' st/decisions/ticks-*.jsonl || fail "the tick log has no late count"
grep -q '"late":[1-9]' st/decisions/2*.json || fail "no record shows the late lines"
grep -E '^rollback_log_lines_late_total\{source="web"\} [1-9]' metrics.txt > /dev/null ||
    { cat metrics.txt >&2; fail "/metrics has no late lines"; }
pass "late lines: logged, in the tick log, in the records and in /metrics"
