#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Live: a web service on 127.0.0.1 starts answering 500 → `rollback monitor` (http source, 1 s
# interval, for = 3s) starts the playbook once, within one interval after the `for` window, and
# the run's report names the decision. A monitor that cannot reach anything says no_data.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 125; }

python3 "$SRC/tests/support/flaky_server.py" "$WORK/fail" "$WORK/answers.log" > port.txt &
srv=$!
stop_on_exit $srv
for _ in $(seq 1 50); do [ -s port.txt ] && break; sleep 0.1; done
port=$(head -1 port.txt)
[ -n "$port" ] || fail "the test server did not start"

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
[source.site]
kind = "http"
url = "http://127.0.0.1:$port/health/"
timeout = "500ms"
[[condition]]
name = "site-errors"
signal = "site.error_rate"
window = "1s"
above = 0.5
for = "3s"
severity = "critical"
[decision]
mode = "auto"
playbook = "pb.toml"
interval = "1s"
cooldown = "1h"
TOML
runs() { if [ -f runs.txt ]; then wc -l < runs.txt; else echo 0; fi; }

"$RB" monitor -c rollback.toml > loop.out 2>&1 &
mon=$!
stop_on_exit $mon
sleep 3
[ "$(runs)" -eq 0 ] || { cat loop.out; fail "a healthy service was rolled back"; }
grep -q "site-errors=ok" loop.out || { cat loop.out; fail "no ok verdict while healthy"; }
touch fail
for _ in $(seq 1 100); do [ "$(runs)" -ge 1 ] && break; sleep 0.1; done
[ "$(runs)" -eq 1 ] || { cat loop.out; fail "the monitor did not start the playbook"; }
sleep 3 # still failing: no second run (one rollback per incident)
kill -TERM $mon; wait $mon || true
[ "$(runs)" -eq 1 ] || { cat loop.out; fail "$(runs) runs for one incident"; }

# Timing: from the first 500 the service answered to the triggering decision.
first_500=$(awk '$2 == 500 { print $1; exit }' answers.log)
rec=$(grep -l '"action":"trigger"' .rollback/decisions/*.json)
[ "$(echo "$rec" | wc -l)" -eq 1 ] || fail "expected one trigger decision: $rec"
id=$(basename "$rec" .json)
decided=$(python3 -c 'import json,sys,datetime as d; t=json.load(open(sys.argv[1]))["time"]; print(d.datetime.strptime(t,"%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=d.timezone.utc).timestamp())' "$rec")
late=$(python3 -c "print(round($decided - $first_500, 3))")
echo "first 500 at $first_500, trigger decided at $decided: ${late}s (for = 3s, interval = 1s)"
python3 -c "import sys; sys.exit(0 if $late <= 3 + 1 else 1)" \
    || fail "triggered ${late}s after the first failure: more than for (3s) + one interval"
python3 -c "import sys; sys.exit(0 if $late >= 3 - 1 else 1)" \
    || fail "triggered ${late}s after the first failure: before the for window"
run_id=$(basename "$(ls .rollback/runs/*.jsonl)" .jsonl)
expect_rc 0 report.out -- "$RB" report -c rollback.toml "$run_id"
contains report.out "decision $id"
pass "500s → one run, ${late}s after the first failure; the report names decision $id"

# Nothing to reach (the service is gone, and a name that does not resolve): no_data, no run.
kill $srv; wait $srv 2>/dev/null || true
sed -i "s|^url = .*|url = \"http://no-such-host.invalid/health/\"|" rollback.toml
rm -rf .rollback runs.txt
expect_rc 0 nodata.out -- "$RB" check -c rollback.toml
contains nodata.out "site-errors=no_data"
[ "$(runs)" -eq 0 ] || fail "an unreachable monitor ran the playbook"
pass "unresolvable target: no_data, not downtime"
