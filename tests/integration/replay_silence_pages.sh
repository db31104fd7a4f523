#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 10, break-it 25/03 and 25/02 (check --replay, the monitor's Evaluator; ~2 s):
#  - 25/03: an outage seen through a source that misses one read in three still satisfies `for`
#    at the default max_missed (1 over a polled source: missed ticks are counted in a row); the
#    "silent after breaching" page has a cooldown of its own, not used up by an earlier page
#    for missing data;
#  - 25/02: a breach then silence pages within max_lateness + window + source interval +
#    (max_missed + 1) x interval of the last line; a breaching window of fewer than 3 requests
#    then silence pages only within the run's tolerance (the documented limit).
source "$(dirname "$0")/../support/itest.sh"
command -v python3 > /dev/null || exit 125
cd "$WORK"

# A value series every 10 s from 00:00:00: `spec` is one letter per 10 s — o = 0.001 (healthy),
# b = 0.3 (breaching), _ = no row (a missed read).
series() {
    python3 - "$1" > "$2" <<'PY'
import sys
print("timestamp,value")
for i, ch in enumerate(sys.argv[1]):
    if ch != "_":
        print(f"2026-12-06T00:{i * 10 // 60:02d}:{i * 10 % 60:02d}Z,{0.3 if ch == 'b' else 0.001}")
PY
}
values_conf() { # extra condition keys...
    { printf '[target]\nname = "shop"\nstate_dir = "st"\n[source.errs]\nkind = "command"\n'
      printf 'argv = ["/bin/true"]\n[[condition]]\nname = "err"\nsignal = "errs.value"\n'
      printf 'window = "10s"\nabove = 0.05\n'
      printf '%s\n' "$@"
      printf '[decision]\nmode = "auto"\ninterval = "10s"\ncooldown = "1h"\n'; } > values.toml
}
actions() { python3 -c 'import sys, json
for l in sys.stdin:
    r = json.loads(l)
    if r["action"] != "none":
        print(r["time"][11:19], r["action"], r.get("reason", ""))'; }

# 25/03: one read in three missed during a 2-minute outage; for = 40s.
series oooooobb_bb_bb_bb_bb_bb_bb_oooooooooooooooooooooooooooooooooooo flaky.csv
values_conf 'for = "40s"'
$RB check -c values.toml --replay flaky.csv --json 2> /dev/null > flaky.json || true
actions < flaky.json > flaky.txt
grep -q "^00:01:40 trigger" flaky.txt || { cat flaky.txt >&2; fail "no trigger at 00:01:40 through a source missing one read in three"; }
[ "$(wc -l < flaky.txt)" = 1 ] || { cat flaky.txt >&2; fail "more than the one trigger"; }
pass "a source missing one read in three: for is satisfied at the default max_missed"
# The tolerance is of missed ticks in a row: two in a row reset the run (no trigger).
series oooooobb__bb__bb__bb__bb__bb__bb__oooooooooooooooooooooooooooooo twice.csv
$RB check -c values.toml --replay twice.csv --json 2> /dev/null > twice.json || true
actions < twice.json > twice.txt
lacks twice.txt trigger
pass "two missed reads in a row still reset the run"

# 25/03: a missing-data page (on_no_data = escalate, a gap at 00:00:20), then a breach that
# goes silent at 00:01:30: its silence page is not suppressed by the earlier page's cooldown.
series oo_ooobbb______oooooooooooooooooooooooooooooooooooooooo kinds.csv
values_conf 'for = "5m"' 'on_no_data = "escalate"'
$RB check -c values.toml --replay kinds.csv --json 2> /dev/null > kinds.json || true
actions < kinds.json > kinds.txt
grep -q "^00:00:20 escalate" kinds.txt || { cat kinds.txt >&2; fail "no missing-data page at 00:00:20"; }
grep -q "^00:01:40 escalate" kinds.txt || { cat kinds.txt >&2; fail "no silence page at 00:01:40"; }
[ "$(wc -l < kinds.txt)" = 2 ] || { cat kinds.txt >&2; fail "expected exactly the two pages"; }
grep -q "silent after breaching: 3 evaluations breached since 2026-12-06T00:01:00" kinds.json ||
    fail "the silence page does not name the run"
pass "a missing-data page does not use up the silence page of the cooldown"

# 25/02 B, the documented limit: a quiet site (2 lines a minute), its last two requests 500s,
# then nothing; interval 10s, window 1m, no min_requests, max_missed 0 (an access log's
# default): the run is reset at the first silent tick (2 x 60 < 3 x 60), before its silence is
# unlikely — no page (one 5xx then a quiet night is not silence); max_missed = 3 keeps the run
# until the silence is unlikely (2 x 90 >= 3 x 60): one page.
line() { echo "1.1.1.1 - - [06/Dec/2026:$1 +0000] \"GET / HTTP/1.1\" $2 1 \"-\" \"x\" 0.010"; }
: > quiet.log
for m in 00 01 02 03 04; do line "06:$m:00" 200 >> quiet.log; line "06:$m:30" 200 >> quiet.log; done
line 06:05:00 500 >> quiet.log
line 06:05:30 500 >> quiet.log
log_conf() { # source interval, decision interval, max_lateness, window, extra condition keys
    { printf '[target]\nname = "t"\nstate_dir = "st"\n[source.web]\nkind = "access_log"\n'
      printf 'path = "a.log"\nformat = "combined_request_time"\ninterval = "%s"\n' "$1"
      printf 'max_lateness = "%s"\n[[condition]]\nname = "c"\nsignal = "web.error_rate"\n' "$3"
      printf 'window = "%s"\nabove = 0.05\nfor = "15m"\n%s\n' "$4" "$5"
      printf '[decision]\nmode = "observe"\ninterval = "%s"\ncooldown = "1h"\n' "$2"; } > log.toml
}
log_conf 10s 10s 5s 1m ""
$RB check -c log.toml --replay quiet.log --json 2> /dev/null > quiet.json || true
actions < quiet.json > quiet.txt
[ ! -s quiet.txt ] || { cat quiet.txt >&2; fail "a breach of 2 requests then silence paged at max_missed 0"; }
log_conf 10s 10s 5s 1m "max_missed = 3"
$RB check -c log.toml --replay quiet.log --json 2> /dev/null > quiet3.json || true
actions < quiet3.json > quiet3.txt
grep -q "^06:07:20 escalate condition \"c\": no_traffic (silent after breaching: 2 evaluations" \
    quiet3.txt || { cat quiet3.txt >&2; fail "max_missed = 3: no page at 06:07:20"; }
pass "a breach of 2 requests then silence: no page at max_missed 0 (the documented limit), one with max_missed 3"

# 25/02 A: 10 req/s, 30 % 5xx from 06:05:00, last line 06:05:39.9; intervals 30s, max_lateness 5s,
# window 2m: the page within 5 + 120 + 30 + 30 = 185 s of the last line (06:08:44.9).
python3 - <<'PY'
import datetime as dt
t0 = dt.datetime(2026, 12, 6, 6, 0, tzinfo=dt.timezone.utc)
with open("a.log", "w") as f:
    for i in range(340 * 10):
        ts = t0 + dt.timedelta(seconds=i / 10)
        st = 500 if i >= 3000 and i % 10 < 3 else 200
        f.write(f'1.1.1.1 - - [{ts.strftime("%d/%b/%Y:%H:%M:%S +0000")}] "GET / HTTP/1.1" {st} 1 "-" "x" 0.010\n')
PY
log_conf 30s 30s 5s 2m "min_requests = 100"
$RB check -c log.toml --replay a.log --json 2> /dev/null > bound.json || true
actions < bound.json > bound.txt
grep -q "^06:08:30 escalate condition \"c\": no_traffic (silent after breaching" bound.txt ||
    { cat bound.txt >&2; fail "the silence page is not at 06:08:30"; }
pass "the silence page keeps the documented bound (06:08:30 <= 06:08:44.9)"
