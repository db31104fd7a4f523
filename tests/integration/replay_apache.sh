#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Replay of a real access log (10,000 lines, combined format): every line parses, per-minute
# request and 5xx counts equal an independent awk count, and no trigger (the log's hourly gaps are
# gaps in the log — no traffic — not downtime).
set -euo pipefail
SRC=${ROLLBACK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
LOG="$SRC/tests/data/apache-logs/apache_logs"
[ -f "$LOG" ] || { echo "FAIL: $LOG missing (tests/data travels with the repository)"; exit 1; }
: "${ROLLBACK:?path of the rollback binary}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cat > "$work/rollback.toml" <<'TOML'
[target]
name = "apache-sample"
[source.web]
kind = "access_log"
path = "access.log"
format = "combined"
[[condition]]
name = "error-rate"
signal = "web.error_rate"
window = "5m"
above = 0.05
min_requests = 50
for = "2m"
max_missed = 1
on_no_traffic = "ignore"
[decision]
interval = "1m"
TOML

# rollback's per-minute samples (non-empty minutes): "YYYY-MM-DDTHH:MM count errors".
"$ROLLBACK" check -c "$work/rollback.toml" --replay "$LOG" --samples 2>"$work/stderr" \
  | awk -F, 'NR > 1 && $4 > 0 { print substr($1, 1, 16), $4, $5 }' > "$work/rollback.txt"
if grep -q "do not match" "$work/stderr"; then cat "$work/stderr"; echo "FAIL: lines rejected"; exit 1; fi

# The independent count: awk on the raw lines ([17/May/2015:10:05:03 +0000] → 2015-05-17T10:05).
awk 'BEGIN { split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", m, " "); for (i = 1; i <= 12; i++) mon[m[i]] = sprintf("%02d", i) }
     { t = substr($4, 2); split(t, p, /[\/:]/); key = p[3] "-" mon[p[2]] "-" p[1] "T" p[4] ":" p[5];
       n[key]++; if ($9 ~ /^5/) e[key]++ }
     END { for (k in n) print k, n[k], e[k] + 0 }' "$LOG" | sort > "$work/awk.txt"
sort "$work/rollback.txt" > "$work/rollback.sorted"
lines=$(wc -l < "$work/awk.txt")
total=$(awk '{ s += $2 } END { print s }' "$work/rollback.sorted")
errors=$(awk '{ s += $3 } END { print s }' "$work/rollback.sorted")
if ! diff -u "$work/awk.txt" "$work/rollback.sorted" > "$work/diff"; then
  head -20 "$work/diff"; echo "FAIL: per-minute counts differ from awk"; exit 1
fi
[ "$total" -eq 10000 ] || { echo "FAIL: $total requests counted, expected 10000"; exit 1; }
echo "per-minute counts agree with awk: $lines minutes, $total requests, $errors 5xx"

# The replay: no trigger (exit 0), and the quiet stretches are no_traffic, never firing.
set +e
"$ROLLBACK" check -c "$work/rollback.toml" --replay "$LOG" > "$work/replay.txt" 2>"$work/replay.err"
rc=$?
set -e
cat "$work/replay.err"
[ "$rc" -eq 0 ] || { echo "FAIL: exit $rc, expected 0 (no trigger)"; grep -v ' none ' "$work/replay.txt" | head; exit 1; }
grep -q "error-rate=no_traffic" "$work/replay.txt" || { echo "FAIL: the gaps were not reported as no_traffic"; exit 1; }
if grep -q "firing" "$work/replay.txt"; then echo "FAIL: a condition fired"; exit 1; fi
# JSON records of the replay are the versioned decision records.
"$ROLLBACK" check -c "$work/rollback.toml" --replay "$LOG" --json 2>/dev/null | head -1 | grep -q '^{"version":1,"kind":"decision"'
echo "ok: no trigger over $(wc -l < "$work/replay.txt") recorded decisions"

# A line with a broken date (the year 2115, the epoch) among the real ones: warned about and not
# counted; the replay is the same as without it. A CSV row dated 2115 is an error, located.
{ cat "$LOG"
  echo '10.0.0.1 - - [17/May/2115:10:05:03 +0000] "GET / HTTP/1.1" 500 1 "-" "t"'
  echo '10.0.0.1 - - [01/Jan/1970:00:00:00 +0000] "GET / HTTP/1.1" 500 1 "-" "t"'
} > "$work/broken.log"
set +e
"$ROLLBACK" check -c "$work/rollback.toml" --replay "$work/broken.log" > "$work/broken.txt" 2>"$work/broken.err"
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat "$work/broken.err"; echo "FAIL: broken dates: exit $rc"; exit 1; }
grep -q "2 lines dated before 2000 or in the future" "$work/broken.err" || { cat "$work/broken.err"; echo "FAIL: no warning"; exit 1; }
cmp -s "$work/broken.txt" "$work/replay.txt" || { echo "FAIL: broken dates changed the replay"; exit 1; }
# A century confirmed by the rows after it (rows spanning a jump, 10 minutes: a wild row or two
# alone are not counted, below) after a first run that is not isolated (more than 3 rows: an
# isolated first row would be refuted) is refused.
printf 'timestamp,value\n2014-03-07 03:41:00,1.5\n2014-03-07 03:46:00,1.5\n2014-03-07 03:51:00,1.5\n2014-03-07 03:56:00,1.5\n2115-03-07 03:46:00,2\n2115-03-07 03:51:00,2\n2115-03-07 03:56:00,2\n' > "$work/far.csv"
set +e
"$ROLLBACK" check -c "$work/rollback.toml" --replay "$work/far.csv" --source web > "$work/far.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || { cat "$work/far.out"; echo "FAIL: a CSV spanning a century: exit $rc, expected 2"; exit 1; }
grep -q "a line with a wrong date" "$work/far.out" || { cat "$work/far.out"; echo "FAIL: no hint"; exit 1; }
printf 'timestamp,value\n2014-03-07 03:41:00,1.5\n2115-03-07 03:46:00,2\n' > "$work/one-far.csv"
"$ROLLBACK" check -c "$work/rollback.toml" --replay "$work/one-far.csv" --source web > "$work/one-far.out" 2>&1 || true
printf 'timestamp,value\n2014-03-07 03:41:00,1.5\n2115-03-07 03:46:00,2\n2115-03-07 03:51:00,2\n2014-03-07 03:46:00,1\n' > "$work/two-far.csv"
"$ROLLBACK" check -c "$work/rollback.toml" --replay "$work/two-far.csv" --source web > "$work/two-far.out" 2>&1 || true
grep -q "two-far.csv:3: 2 rows dated far apart" "$work/two-far.out" || { cat "$work/two-far.out"; echo "FAIL: two consecutive wild rows confirmed each other"; exit 1; }
grep -q "one-far.csv:3: 1 row dated far apart from the rows around them and not confirmed by the rows after them" "$work/one-far.out" || { cat "$work/one-far.out"; echo "FAIL: the unconfirmed wild row is not reported"; exit 1; }
echo "ok: lines with broken dates are warned about, not counted; a century-long CSV is refused"

# One line with a wild date in the middle of the log (a year typo: 2016 for 2015, in range of
# this machine's clock) and one with a date that does not exist (31/Nov): neither moves the
# log's clock, so every later line is still counted and the decisions are the same.
half=$(( $(wc -l < "$LOG") / 2 ))
{ head -n "$half" "$LOG"
  echo '10.0.0.1 - - [18/May/2016:10:05:03 +0000] "GET / HTTP/1.1" 500 1 "-" "t"'
  echo '10.0.0.1 - - [31/Nov/2015:10:05:03 +0000] "GET / HTTP/1.1" 500 1 "-" "t"'
  tail -n +"$((half + 1))" "$LOG"
} > "$work/wild.log"
"$ROLLBACK" check -c "$work/rollback.toml" --replay "$work/wild.log" > "$work/wild.txt" 2>"$work/wild.err" || true
cmp -s "$work/wild.txt" "$work/replay.txt" || { diff "$work/replay.txt" "$work/wild.txt" | head; echo "FAIL: one wild line changed the replay"; exit 1; }
grep -q "1 lines dated before 2000 or in the future" "$work/wild.err" || { cat "$work/wild.err"; echo "FAIL: the wild line is not reported"; exit 1; }
grep -q "too late" "$work/wild.err" && ! grep -q "too late" "$work/replay.err" && { cat "$work/wild.err"; echo "FAIL: lines after the wild one were too late"; exit 1; }
echo "ok: one wild date and one impossible date change no decision (the first counted apart)"

# --interval is whole seconds, at least 1s (an access log is bucketed by it): anything else exit 2.
for bad in 0.5s 999ms 1500ms 2.5s; do
    set +e
    "$ROLLBACK" check -c "$work/rollback.toml" --replay "$LOG" --interval "$bad" > "$work/iv.out" 2>&1
    rc=$?
    set -e
    [ "$rc" -eq 2 ] || { cat "$work/iv.out"; echo "FAIL: --interval $bad: exit $rc, expected 2"; exit 1; }
    grep -q "whole number of seconds" "$work/iv.out" || { cat "$work/iv.out"; echo "FAIL: --interval $bad: no reason"; exit 1; }
done
echo "ok: --interval below 1s or not whole seconds is refused"
