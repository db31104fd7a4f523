#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Access-log ingestion benchmark: a generated ~1 GB combined-with-request-time log, read (warm
# cache) by `wc -l` (memory-speed floor), a hand-written mawk per-minute 5xx script, goaccess, and
# `rollback check --replay` (parse + error rate + p95 latency per window, every 10 s of log time).
# Usage: ROLLBACK=path/to/rollback [REPS=3] [GOACCESS_MB=20] tests/bench/access_log_bench.sh [SIZE_MB] [WORKDIR]
# Each tool runs REPS times, interleaved with the others; the medians of wall and CPU time are shown.
set -euo pipefail
: "${ROLLBACK:?path of the rollback binary}"
size_mb=${1:-1024}
work=${2:-$(mktemp -d)}
mkdir -p "$work"
log="$work/access.log"
if [ ! -s "$log" ] || [ "$(( $(stat -c %s "$log") / 1048576 ))" -lt "$size_mb" ]; then
  echo "generating ${size_mb} MB log in $log ..."
  # ~20 requests/s of log time; 0.5% 5xx; latencies 1 ms .. 2 s.
  mawk -v target=$((size_mb * 1048576)) 'BEGIN {
    split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", mon, " ");
    srand(42); t = 0; bytes = 0; n = 0;
    split("/ /cart /checkout /api/orders /static/app.js /login /product/42", paths, " ");
    while (bytes < target) {
      s = int(t); sec = s % 60; min = int(s / 60) % 60; hour = int(s / 3600) % 24; day = 1 + int(s / 86400);
      r = rand(); status = r < 0.005 ? 500 : (r < 0.05 ? 304 : 200);
      line = sprintf("10.%d.%d.%d - - [%02d/Nov/2026:%02d:%02d:%02d +0000] \"GET %s HTTP/1.1\" %d %d \"https://shop.example/\" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\" %.3f",
                     n % 256, int(n / 256) % 256, int(n / 65536) % 256, day, hour, min, sec,
                     paths[1 + n % 7], status, 200 + int(rand() * 50000), 0.001 + rand() * rand() * 2);
      print line; bytes += length(line) + 1; n++; t += 0.05;
    } }' > "$log"
fi
bytes=$(stat -c %s "$log"); mb=$(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1048576 }')
cat > "$work/rollback.toml" <<'TOML'
[source.web]
kind = "access_log"
path = "access.log"
format = "combined_request_time"
interval = "10s"
[[condition]]
name = "error-rate"
signal = "web.error_rate"
window = "5m"
above = 0.05
min_requests = 200
for = "2m"
[[condition]]
name = "latency"
signal = "web.latency_p95"
window = "5m"
above = "1500ms"
consecutive = 3
[decision]
interval = "10s"
TOML
cat "$log" > /dev/null # warm the page cache for everyone
reps=${REPS:-3}
# Wall and CPU (user+sys) seconds of one run: on a shared, loaded machine CPU time is the fair
# comparison. A tool that fails makes the benchmark fail: a broken run is not a fast one.
secs() {
  local rc=0
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" > /dev/null 2> "$work/stderr" || rc=$?
  # rollback check exits 5 when it recommends a rollback: a result, not a failure.
  if [ "$rc" -ne 0 ] && ! { [ "$1" = "$ROLLBACK" ] && [ "$rc" -eq 5 ]; }; then
    cat "$work/stderr" >&2; echo "FAIL: exit $rc: $*" >&2; exit 1
  fi
  tail -1 "$work/time" | awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
row() { # NAME FILE_OF_"WALL CPU"_LINES MB
  local wall cpu
  wall=$(cut -d' ' -f1 "$2" | median); cpu=$(cut -d' ' -f2 "$2" | median)
  printf "%-44s %7s %9s %7s %9s\n" "$1" "$wall" "$(awk -v mb="$3" -v t="$wall" 'BEGIN { printf "%.0f", mb / t }')" \
         "$cpu" "$(awk -v mb="$3" -v t="$cpu" 'BEGIN { printf "%.0f", mb / (t > 0 ? t : 0.001) }')"
}
goaccess_mb=${GOACCESS_MB:-20}
if command -v goaccess > /dev/null; then
  # goaccess is ~50x slower: timed on the first GOACCESS_MB (default 20) MB only.
  head -c $((goaccess_mb * 1048576)) "$log" > "$work/head.log"
fi
echo "file: $log, $mb MB, $(wc -l < "$log") lines; $reps runs each, interleaved; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$work"/t_*
for _ in $(seq "$reps"); do
  secs wc -l "$log" >> "$work/t_wc"
  # shellcheck disable=SC2016 # an awk program
  secs mawk '{ split($4, a, ":"); k = a[1] ":" a[2] ":" a[3]; n[k]++; if ($9 ~ /^5/) e[k]++ } END { for (k in n) print k, n[k], e[k] / n[k] }' "$log" >> "$work/t_mawk"
  secs "$ROLLBACK" check -c "$work/rollback.toml" --replay "$log" >> "$work/t_rb"
  if [ -f "$work/head.log" ]; then
    secs goaccess "$work/head.log" --log-format=COMBINED -o "$work/report.json" >> "$work/t_goaccess"
  fi
done
"$ROLLBACK" check -c "$work/rollback.toml" --replay "$log" 2>&1 >/dev/null | tail -1
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); medians of $reps runs:"
printf "%-44s %7s %9s %7s %9s\n" "tool" "wall s" "MB/s" "cpu s" "MB/s(cpu)"
row "wc -l (memory-speed floor)" "$work/t_wc" "$mb"
row "mawk per-minute 5xx rate" "$work/t_mawk" "$mb"
row "rollback check --replay (2 conditions)" "$work/t_rb" "$mb"
if [ -f "$work/t_goaccess" ]; then
  row "goaccess (COMBINED, JSON; first ${goaccess_mb} MB)" "$work/t_goaccess" "$goaccess_mb"
fi
