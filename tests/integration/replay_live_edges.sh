#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The break-it findings of issue 10's second round, through the real binary: a replay judges the
# quiet after a log's last line as the monitor does, a CSV's last row with a fractional second,
# spreadsheet CSVs (BOM, "+9"), lines live never counts (over 64 KiB, NUL runs), a span of
# centuries; and live: a monitor whose clock is behind the web server's escalates "clock skew",
# and a rotation without `create` loses no line the server wrote to the renamed file.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"

line() { printf '1.2.3.4 - - [%s +0000] "GET / HTTP/1.1" %s 10 "-" "x" 0.010\n' "$1" "$2"; }
stamp() { date -u -d "@$1" +%d/%b/%Y:%H:%M:%S; }

# 1. Breach, then the service never writes again (finding 02): the replay escalates "silent after
# breaching" though no line follows — without --to, and with one.
cat >silence.toml <<'TOML'
[target]
name = "t"
state_dir = "st"
[source.web]
kind = "access_log"
path = "access.log"
format = "combined_request_time"
interval = "10s"
[[condition]]
name = "checkout"
signal = "web.error_rate"
window = "1m"
above = 0.05
min_requests = 100
for = "90s"
max_missed = 2
[decision]
mode = "observe"
interval = "10s"
TOML
t0=1796500000 # 2026-12-05T...
{
    for s in $(seq 0 79); do
        for k in 1 2 3 4 5; do
            if [ "$s" -ge 30 ] && [ "$k" -eq 1 ]; then st=500; else st=200; fi
            line "$(stamp $((t0 + s)))" $st
        done
    done
} >silent.log
"$RB" check -c silence.toml --replay silent.log --json >out.jsonl 2>err || true
grep -q '"action":"escalate"' out.jsonl || fail "no escalation after the breach and silence: $(cat err)"
grep -q 'silent after breaching' out.jsonl || fail "the escalation does not say why: $(cat out.jsonl)"
"$RB" check -c silence.toml --replay silent.log --json --to "$(date -u -d @$((t0 + 600)) +%FT%TZ)" \
    >out_to.jsonl 2>err || true
[ "$(grep '"action":"escalate"' out.jsonl | cut -c1-60)" = "$(grep '"action":"escalate"' out_to.jsonl | cut -c1-60)" ] ||
    fail "--to changes the escalation: $(grep escalate out.jsonl out_to.jsonl | cut -c1-120)"
pass "a breach followed by the log's end escalates in a replay, at the same tick with --to"

# 2. A CSV's last row at a fractional second breaches (finding 05); a BOM and '+' signs.
cat >value.toml <<'TOML'
[target]
name = "t"
state_dir = "st"
[source.web]
kind = "command"
argv = ["/bin/echo", "1"]
[[condition]]
name = "v"
signal = "web.value"
window = "10m"
above = 5.0
[decision]
mode = "observe"
interval = "5m"
TOML
printf 'timestamp,value\n2026-03-01T00:00:00Z,1\n2026-03-01T00:05:00Z,1\n2026-03-01T00:10:00.5Z,9\n' >a.csv
rc=0
"$RB" check -c value.toml --replay a.csv >out 2>err || rc=$?
[ $rc -eq 5 ] || fail "the last row 00:10:00.5 (9 > 5) was not judged: exit $rc $(cat err)"
grep -q '^2026-03-01T00:15:00.000Z  trigger' out || fail "not judged at the tick after it: $(cat out)"
printf '\xef\xbb\xbftimestamp,value\r\n2026-03-01T00:00:00Z,+1\r\n2026-03-01T00:05:00Z,+9\r\n2026-03-01T00:10:00Z,+-9\r\n' >bom.csv
rc=0
"$RB" check -c value.toml --replay bom.csv >out 2>err || rc=$?
[ $rc -eq 5 ] || fail "a BOM CSV with +9: exit $rc $(cat err)"
grep -q 'bom.csv:4:22: value: not a number: "+-9"' err || fail "+-9 is not a located bad row: $(cat err)"
pass "a CSV's fractional last row is judged; a BOM is skipped, +9 is 9, +-9 is a located bad row"

# 3. Lines the monitor never counts are not counted by a replay either (finding 04).
{
    for s in $(seq 0 29); do line "$(stamp $((t0 + s)))" 200; done
    head -c 70000 /dev/zero | tr '\0' 'A'
    line "$(stamp $((t0 + 30)))" 500
    head -c 4096 /dev/zero
    line "$(stamp $((t0 + 31)))" 500
    for s in $(seq 32 60); do line "$(stamp $((t0 + s)))" 200; done
} >junk.log
"$RB" check -c silence.toml --replay junk.log --json >out.jsonl 2>err || true
python3 - "$(tail -1 err)" <<'PY' || fail "junk lines: $(tail -1 err)"
import json, sys
s = json.loads(sys.argv[1])
assert s["skipped"]["lines_rejected"] == 2, s
PY
pass "a line over 64 KiB and a NUL-prefixed line are rejected by the replay, as live"

# 4. A span of centuries is a located error, not an overflow.
rc=0
"$RB" check -c value.toml --replay a.csv --from 1678-01-01T00:00:00Z --to 2261-12-31T00:00:00Z \
    >out 2>err || rc=$?
[ $rc -eq 2 ] || fail "a 583-year span: exit $rc $(cat err)"
grep -q 'a.csv: the samples span 1678-01-01T00:00:00.000Z .. 2261-12-31T00:00:00.000Z, 61430400 evaluations' err ||
    fail "unexpected message: $(cat err)"
pass "a replay span over 292 years is refused with its numbers (exit 2)"

# 5. Live: the web server's clock 10 s ahead of the monitor's (finding 11).
cat >skew.toml <<'TOML'
[target]
name = "t"
state_dir = "st-skew"
[source.web]
kind = "access_log"
path = "skew.log"
format = "combined_request_time"
interval = "1s"
max_lateness = "2s"
[[condition]]
name = "err"
signal = "web.error_rate"
window = "10s"
above = 0.3
min_requests = 10
[decision]
mode = "observe"
interval = "1s"
TOML
: >skew.log
"$RB" monitor -c skew.toml >skew.out 2>&1 &
mon=$!
stop_on_exit $mon
for _ in $(seq 1 40); do
    line "$(stamp $(($(date +%s) + 10)))" 500 >>skew.log
    sleep 0.1
done
sleep 2
kill $mon
wait $mon 2>/dev/null || true
grep -q 'escalate' skew.out || fail "a monitor 10 s behind the server escalated nothing: $(cat skew.out)"
grep -q 'unavailable: clock skew' skew.out || fail "no clock skew reason: $(cat skew.out)"
pass "a monitor whose clock is behind the web server's escalates: no_data, clock skew"

# 6. Live: rotation without create (finding 07): the server writes 500s to the renamed file,
# then reopens. Every line is read: the errors trigger, as in a replay of both files.
cat >rot.toml <<'TOML'
[target]
name = "t"
state_dir = "st-rot"
[source.web]
kind = "access_log"
path = "rot.log"
format = "combined_request_time"
interval = "1s"
max_lateness = "2s"
[[condition]]
name = "err"
signal = "web.error_rate"
window = "10s"
above = 0.3
min_requests = 10
[decision]
mode = "observe"
interval = "1s"
TOML
: >rot.log
"$RB" monitor -c rot.toml >rot.out 2>&1 &
mon=$!
stop_on_exit $mon
python3 - <<'PY'
import datetime, os, time
def fmt(ts, st):
    d = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return f'1.2.3.4 - - [{d.strftime("%d/%b/%Y:%H:%M:%S +0000")}] "GET / HTTP/1.1" {st} 10 "-" "x" 0.010\n'
out = open("rot.log", "a"); start = time.time(); rotated = reopened = False
while time.time() < start + 14:
    el = time.time() - start
    if el > 2 and not rotated:
        os.rename("rot.log", "rot.log.1"); rotated = True
    if el > 8 and not reopened:
        out.close(); out = open("rot.log", "a"); reopened = True
    out.write(fmt(time.time(), 500 if 2 < el < 8 else 200)); out.flush(); time.sleep(0.1)
PY
sleep 4
kill $mon
wait $mon 2>/dev/null || true
grep -q ' trigger ' rot.out || fail "the 500s written to the renamed file were lost: $(cat rot.out)"
if grep -q 'unavailable' rot.out; then fail "the renamed file was read, yet no_data: $(cat rot.out)"; fi
pass "rotation without create: the renamed file is read to its end — the outage triggers"
