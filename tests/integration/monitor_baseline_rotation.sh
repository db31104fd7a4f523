#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A before_deploy baseline is kept in the baseline book at the deploy and taken back by a
# monitor restarted after the access log was rotated (the lines before the deploy are in
# access.log.1, which it does not read): the release is still judged against the one before
# (docs/decision.md "Baselines"; break-it 22 of issue 10, finding 09; timings shortened). ~35 s.
source "$(dirname "$0")/../support/itest.sh"
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 125; }
cd "$WORK"
# gen.py LOG SECONDS: 20 lines a second, each taking the seconds in ./lat
cat > gen.py <<'PY'
import datetime, sys, time
log, dur = sys.argv[1], float(sys.argv[2])
end = time.time() + dur
f = open(log, 'a', buffering=1)
while time.time() < end:
    lat = open('lat').read().strip()
    now = datetime.datetime.now(datetime.timezone.utc)
    f.write(f'127.0.0.1 - - [{now.strftime("%d/%b/%Y:%H:%M:%S %z")}] "GET /p HTTP/1.1" '
            f'200 12 "-" "t" {lat}\n')
    time.sleep(0.05)
PY
cat > rollback.toml <<'TOML'
[target]
name = "shop"
state_dir = "st"
[source.web]
kind = "access_log"
path = "access.log"
format = "combined_request_time"
interval = "1s"
max_lateness = "1s"
[[condition]]
name = "slow"
signal = "web.latency_p95"
window = "4s"
above_baseline = 2.0
baseline = "before_deploy"
baseline_window = "6s"
min_requests = 10
for = "3s"
[decision]
mode = "observe"
interval = "1s"
cooldown = "1h"
TOML
gen_pid=""; mon_pid=""
on_exit 'kill $gen_pid $mon_pid 2>/dev/null || true'
echo 0.020 > lat
timeout 40 python3 gen.py access.log 14 & gen_pid=$!
sleep 1
"$RB" monitor -c rollback.toml > mon1.out 2>&1 & mon_pid=$!
sleep 8
expect_rc 0 deployed.out -- "$RB" deployed -c rollback.toml --release v2
sleep 4 # the baseline is computed once the window reaches the deploy, and kept at once
kill -TERM "$mon_pid"; wait "$mon_pid" 2>/dev/null || true
wait "$gen_pid" 2>/dev/null || true
python3 - <<'PY' || fail "the before_deploy baseline of v2 is not in st/baselines.json: $(cat st/baselines.json)"
import json
book = json.load(open('st/baselines.json'))
v2 = [r for r in book['releases'] if r['release'] == 'v2'][0]
assert v2['before_deploy']['slow']['value'] is not None
PY
mv access.log access.log.1 # logrotate: the lines before the deploy leave the log
echo 0.080 > lat           # v2 four times slower than v1
timeout 40 python3 gen.py access.log 12 & gen_pid=$!
sleep 1
"$RB" monitor -c rollback.toml > mon2.out 2>&1 & mon_pid=$!
sleep 9
kill -TERM "$mon_pid"; wait "$mon_pid" 2>/dev/null || true
lacks mon2.out "only 0 requests"
grep -q "trigger" mon2.out ||
    fail "v2 at 80 ms against the kept baseline (~20 ms) never fired after the restart: $(cat mon2.out)"
pass "the before_deploy baseline kept at the deploy survives a rotation and a restart"
