#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Access-log ingestion benchmark: a generated ~1 GB combined-with-request-time log, read (warm
# cache) by `wc -l` (memory-speed floor), a hand-written mawk per-minute 5xx script, goaccess, and
# `rollback check --replay` (parse + error rate + p95 latency per window, every 10 s of log time).
# Usage: ROLLBACK=path/to/rollback tests/bench/access_log_bench.sh [SIZE_MB] [WORKDIR]
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
# Wall and CPU (user+sys) seconds: on a shared, loaded machine CPU time is the fair comparison.
secs() { /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" > /dev/null 2>&1 || true; awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$work/time"; }
row() { # NAME "WALL CPU"
  set -- "$1" $2
  printf "%-42s %7s %9s %7s %9s\n" "$1" "$2" "$(awk -v mb="$mb" -v t="$2" 'BEGIN { printf "%.0f", mb / t }')" \
         "$3" "$(awk -v mb="$mb" -v t="$3" 'BEGIN { printf "%.0f", mb / (t > 0 ? t : 0.001) }')"
}
echo "file: $log, $mb MB, $(wc -l < "$log") lines; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
t_wc=$(secs wc -l "$log")
t_mawk=$(secs mawk '{ split($4, a, ":"); k = a[1] ":" a[2] ":" a[3]; n[k]++; if ($9 ~ /^5/) e[k]++ } END { for (k in n) print k, n[k], e[k] / n[k] }' "$log")
t_rb=$(secs "$ROLLBACK" check -c "$work/rollback.toml" --replay "$log")
"$ROLLBACK" check -c "$work/rollback.toml" --replay "$log" 2>&1 >/dev/null | tail -1
printf "%-42s %7s %9s %7s %9s\n" "tool" "wall s" "MB/s" "cpu s" "MB/s(cpu)"
row "wc -l (memory-speed floor)" "$t_wc"
row "mawk per-minute 5xx rate" "$t_mawk"
row "rollback check --replay (2 conditions)" "$t_rb"
# goaccess is ~100x slower: timed on the first GOACCESS_MB (default 20) MB only.
if command -v goaccess > /dev/null; then
  head -c $(( ${GOACCESS_MB:-20} * 1048576 )) "$log" > "$work/head.log"
  full_mb=$mb; mb=${GOACCESS_MB:-20}
  row "goaccess (COMBINED, JSON; first ${mb} MB)" "$(secs goaccess "$work/head.log" --log-format=COMBINED -o "$work/report.json")"
  mb=$full_mb
fi
