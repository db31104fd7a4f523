#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Replay evaluation speed: `rollback check --replay` over a generated timestamp,value CSV (NAB
# form, one row per 5 minutes, so one sample per evaluation) with the NAB latency rule (1
# condition, m_of_n) and with 3 conditions on the same source. Reports the evaluation loop's own
# wall and CPU time (printed by the replay: reading the file is not in it) as condition
# evaluations (samples × conditions) per second, and the whole command's wall and CPU time.
# Usage: ROLLBACK=path/to/rollback [REPS=5] tests/bench/replay_bench.sh [ROWS] [WORKDIR]
set -euo pipefail
: "${ROLLBACK:?path of the rollback binary}"
rows=${1:-2000000}
work=${2:-$(mktemp -d)}
reps=${REPS:-5}
mkdir -p "$work"
csv="$work/series_$rows.csv"
if [ ! -s "$csv" ]; then
  echo "generating $rows rows in $csv ..."
  # 40..50 ms with 0.2 % spikes of +20 ms; dates by civil-from-days (mawk has no strftime).
  mawk -v rows="$rows" 'function civil(z,   era, doe, yoe, doy, mp, d, m, y) {
      z += 719468; era = int(z / 146097); doe = z - era * 146097
      yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
      y = yoe + era * 400; doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
      mp = int((5 * doy + 2) / 153); d = doy - int((153 * mp + 2) / 5) + 1
      m = mp < 10 ? mp + 3 : mp - 9
      return sprintf("%04d-%02d-%02d", y + (m <= 2), m, d) }
    BEGIN { srand(7); print "timestamp,value"; t = 946684800
      for (i = 0; i < rows; i++) {
        v = 40 + rand() * 10; if (rand() < 0.002) v += 20
        s = t % 86400
        printf "%s %02d:%02d:%02d,%.3f\n", civil(int(t / 86400)), int(s / 3600), int(s / 60) % 60, s % 60, v
        t += 300 } }' > "$csv"
fi
cat > "$work/one.toml" <<'TOML'
[target]
name = "ec2"
[source.latency]
kind = "command"
argv = ["true"]
[[condition]]
name = "latency-high"
signal = "latency.value"
window = "10m"
above = 53.0
m_of_n = [2, 4]
on_no_data = "escalate"
[decision]
interval = "5m"
cooldown = "6h"
TOML
{
  cat "$work/one.toml"
  cat <<'TOML'
[[condition]]
name = "latency-sustained"
signal = "latency.value"
window = "30m"
above = 52.0
for = "20m"
max_missed = 1
[[condition]]
name = "latency-low"
signal = "latency.value"
window = "5m"
below = 1.0
consecutive = 3
TOML
} > "$work/three.toml"
cat "$csv" > /dev/null
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "file: $csv, $rows rows; $reps runs each; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for conf in one three; do
  rm -f "$work/t_$conf"
done
for _ in $(seq "$reps"); do
  for conf in one three; do
    rc=0
    /usr/bin/time -f "%e %U %S" -o "$work/time" "$ROLLBACK" check -c "$work/$conf.toml" --replay "$csv" \
      > /dev/null 2> "$work/stderr" || rc=$?
    # Exit 5: the rule recommends a rollback (the spikes); anything else is a failure.
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then cat "$work/stderr" >&2; echo "FAIL: exit $rc" >&2; exit 1; fi
    # "replayed N samples of source "latency" in T evaluations of C conditions (S s, U s CPU): ..."
    line=$(grep '^replayed ' "$work/stderr")
    evals=$(sed -E 's/.* in ([0-9]+) evaluations of ([0-9]+) conditions \(([0-9.]+) s, ([0-9.]+) s CPU\).*/\1 \2 \3 \4/' <<< "$line")
    echo "$evals $(tail -1 "$work/time")" >> "$work/t_$conf"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); medians of $reps runs:"
printf "%-10s %11s | %-28s | %-28s | %-16s\n" "" "" "evaluation loop, wall" "evaluation loop, CPU" "whole command"
printf "%-10s %11s | %8s %19s | %8s %19s | %7s %8s\n" "conditions" "evaluations" "s" "M cond-evals/s" "s" "M cond-evals/s" "wall s" "cpu s"
for conf in one three; do
  f="$work/t_$conf"
  n=$(awk 'NR == 1 { print $1 }' "$f"); c=$(awk 'NR == 1 { print $2 }' "$f")
  loop=$(awk '{ print $3 }' "$f" | median)
  loop_cpu=$(awk '{ print $4 }' "$f" | median)
  wall=$(awk '{ print $5 }' "$f" | median)
  cpu=$(awk '{ print $6 + $7 }' "$f" | median)
  rate() { awk -v n="$n" -v c="$c" -v t="$1" 'BEGIN { printf "%.2f", n * c / (t > 0 ? t : 0.001) / 1e6 }'; }
  printf "%-10s %11s | %8s %19s | %8s %19s | %7s %8s\n" "$c" "$n" "$loop" "$(rate "$loop")" \
    "$loop_cpu" "$(rate "$loop_cpu")" "$wall" "$cpu"
done
