#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `rollback report RUN_ID --html` and `rollback explain DECISION_ID --html` after a real monitor
# triggered a run: one self-contained file (no network: no http(s) reference, no script), rendered
# by headless Chromium — the DOM holds the key facts (run, decision, condition, the chart's
# threshold and signal, every step, the retry), the screenshot is not blank. A secret printed by a
# step and a <script> in step output reach the page masked and escaped.
# REPORT_SCREENSHOT=PATH keeps the screenshot (docs/report-example.png was made so).
source "$(dirname "$0")/../support/itest.sh"

browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "skip: chromium is not installed (scripts/install-deps.sh)"; exit 125; }
cd "$WORK"

cat >pb.toml <<'TOML'
[playbook]
name = "restore-shop"
[vars]
token = { env = "SHOP_TOKEN", secret = true }
[[step]]
id = "notify"
phase = "immediate"
action = "exec"
argv = ["sh", "-c", "echo \"paging <script>alert(1)</script> with $TOKEN\""]
env = { TOKEN = "{{token}}" }
[[step]]
id = "restore-db"
phase = "database"
action = "exec"
argv = ["sh", "-c", "n=$(cat tries 2>/dev/null || echo 0); echo $((n+1)) > tries; sleep 0.3; [ $n -ge 1 ]"]
retries = 1
retry_delay = "100ms"
[[step]]
id = "verify"
phase = "verify"
action = "exec"
argv = ["sh", "-c", "sleep 0.2; echo ok"]
TOML
cat >rollback.toml <<'TOML'
[target]
name = "shop"
[source.orders]
kind = "command"
argv = ["cat", "value"]
[[condition]]
name = "stuck-orders"
signal = "orders.value"
window = "10s"
above = 5
consecutive = 2
severity = "critical"
[decision]
playbook = "pb.toml"
interval = "1s"
cooldown = "1h"
TOML
export SHOP_TOKEN='TokSecretZ9q8w7e6'
echo 1 >value
"$RB" monitor -c rollback.toml >monitor.log 2>&1 &
mon=$!
stop_on_exit $mon
sleep 6
echo 9 >value
for _ in $(seq 100); do
    ls .rollback/runs/*.jsonl >/dev/null 2>&1 && grep -qs '"type":"run_finished"' .rollback/runs/*.jsonl && break
    sleep 0.1
done
sleep 1.5
kill $mon
wait $mon 2>/dev/null || true
run=$(basename "$(ls .rollback/runs/*.jsonl | head -1)" .jsonl)
[ -n "$run" ] || { cat monitor.log >&2; fail "the monitor started no run"; }
decision=$(grep -o '"decision_id":"[^"]*"' ".rollback/runs/$run.jsonl" | head -1 | cut -d'"' -f4)
[ -n "$decision" ] || fail "the run names no decision"

expect_rc 0 report.out -- "$RB" report "$run" --state-dir .rollback --html -o run.html
contains report.out "wrote run.html"
expect_rc 0 explain.out -- "$RB" explain "$decision" --state-dir .rollback --html -o decision.html
# self-contained and safe: no script, no network reference, the secret masked, the tag escaped
for f in run.html decision.html; do
    lacks "$f" "<script"
    lacks "$f" "$SHOP_TOKEN"
    ! grep -Eq '(src|href)="https?:' "$f" || fail "$f references the network"
done
contains run.html "&lt;script&gt;alert(1)&lt;/script&gt;"

dump() { # FILE: the DOM after Chromium rendered it
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --dump-dom "file://$WORK/$1" 2>/dev/null
}
dump run.html >run.dom
for fact in "$run" "$decision" "stuck-orders" "restore-shop" "notify" "restore-db" "verify" \
    'class="timeline"' 'class="chart"' 'class="signal"' 'class="threshold"' \
    "restore-db attempt 1: failed" "restore-db attempt 2: succeeded" "above 5"; do
    contains run.dom "$fact"
done
dump decision.html >decision.dom
contains decision.dom "stuck-orders"
contains decision.dom "What followed"
contains decision.dom "$run"

shot=${REPORT_SCREENSHOT:-$WORK/run.png}
timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --hide-scrollbars --window-size=1000,1500 --screenshot="$shot" "file://$WORK/run.html" \
    >/dev/null 2>&1 || fail "chromium could not take a screenshot"
python3 - "$shot" <<'PY' || fail "the screenshot is blank"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, width = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IHDR":
        width = struct.unpack(">I", data[pos + 8:pos + 12])[0]
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
# A blank page is one colour: its scanlines compress to a few byte values. A drawn one is not.
distinct = len(set(raw[::7]))
print(f"screenshot {width} px wide, {distinct} distinct byte values")
assert distinct > 40, distinct
PY
pass "report --html and explain --html: self-contained, masked, escaped; Chromium renders the facts"
