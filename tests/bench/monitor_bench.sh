#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `rollback monitor` at rest: resident memory and CPU with 10 sources at 1-second intervals —
# 4 http probes of a local service, 4 access logs growing by 20 lines/s each, 2 commands.
# Goal (issue 6): ≤ 15 MB resident, ≤ 1% of one core. The monitor's own CPU (utime + stime of
# its process) is measured; the probed service, the log writer and the commands' children are not
# the monitor's cost (children are listed apart, as `cutime + cstime`).
# Usage: ROLLBACK=path/to/rollback [SECONDS=60] tests/bench/monitor_bench.sh
set -euo pipefail
: "${ROLLBACK:?path of the rollback binary}"
seconds=${SECONDS_TO_RUN:-${SECONDS_RUN:-60}}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"

python3 "$src/tests/support/flaky_server.py" "$work/never" /dev/null > port.txt &
pids+=($!)
for _ in $(seq 1 50); do [ -s port.txt ] && break; sleep 0.1; done
port=$(head -1 port.txt)
echo 1 > value
# The log writer: 20 lines a second into each of 4 logs, timestamps of now.
python3 - "$work" > /dev/null 2>&1 <<'PY' &
import sys, time
work = sys.argv[1]
files = [open("%s/access%d.log" % (work, i), "a", buffering=1) for i in range(4)]
n = 0
while True:
    now = time.gmtime()
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", now)
    for f in files:
        f.write('10.0.0.%d - - [%s] "GET /cart/ HTTP/1.1" %d 512 "-" "bench" 0.0%02d\n'
                % (n % 250, stamp, 500 if n % 97 == 0 else 200, n % 90 + 10))
    n += 1
    time.sleep(0.05)
PY
pids+=($!)

{
  echo '[target]'; echo 'name = "bench"'
  for i in 0 1 2 3; do
    printf '[source.web%d]\nkind = "http"\nurl = "http://127.0.0.1:%s/health/"\ntimeout = "500ms"\n' "$i" "$port"
    printf '[source.log%d]\nkind = "access_log"\npath = "access%d.log"\n' "$i" "$i"
  done
  for i in 0 1; do printf '[source.cmd%d]\nkind = "command"\nargv = ["cat", "value"]\n' "$i"; done
  for i in 0 1 2 3; do
    printf '[[condition]]\nname = "web%d"\nsignal = "web%d.error_rate"\nwindow = "30s"\nabove = 0.5\nfor = "10s"\n' "$i" "$i"
    printf '[[condition]]\nname = "log%d"\nsignal = "log%d.latency_p95"\nwindow = "1m"\nabove = "2s"\nmin_requests = 10\n' "$i" "$i"
  done
  for i in 0 1; do printf '[[condition]]\nname = "cmd%d"\nsignal = "cmd%d.value"\nabove = 5\n' "$i" "$i"; done
  printf '[decision]\nmode = "observe"\ninterval = "1s"\n'
} > rollback.toml

"$ROLLBACK" monitor -c rollback.toml > monitor.out 2>&1 &
mon=$!
pids+=($mon)
sleep 5 # startup and the first reads are not "at rest"
read_cpu() { awk '{ print $14 + $15, $16 + $17 }' "/proc/$mon/stat"; }
hz=$(getconf CLK_TCK)
read -r cpu0 child0 < <(read_cpu)
t0=$(date +%s.%N)
max_rss=0
for _ in $(seq 1 "$seconds"); do
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$mon/status")
  [ "$rss" -gt "$max_rss" ] && max_rss=$rss
  sleep 1
done
read -r cpu1 child1 < <(read_cpu)
t1=$(date +%s.%N)
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$mon/status")
anon=$(awk '/^RssAnon/ { print $2 }' "/proc/$mon/status")
file=$(awk '/^RssFile/ { print $2 }' "/proc/$mon/status")
decisions=$(ls .rollback/decisions 2>/dev/null | wc -l)
kill -TERM "$mon"; wait "$mon" || true
awk -v c0="$cpu0" -v c1="$cpu1" -v k0="$child0" -v k1="$child1" -v hz="$hz" -v t0="$t0" -v t1="$t1" \
    -v rss="$max_rss" -v hwm="$hwm" -v n="$decisions" -v anon="$anon" -v file="$file" 'BEGIN {
  el = t1 - t0; cpu = (c1 - c0) / hz; kids = (k1 - k0) / hz;
  printf "monitor, 10 sources @ 1 s, %.0f s at rest: CPU %.2f s = %.2f%% of a core (goal <= 1%%)\n", el, cpu, 100 * cpu / el;
  printf "resident: max %.1f MB while running, peak (VmHWM) %.1f MB (goal <= 15 MB)\n", rss / 1024, hwm / 1024;
  printf "  of which: heap and stacks (RssAnon) %.1f MB; shared-library and binary pages (RssFile) %.1f MB\n", anon / 1024, file / 1024;
  printf "children (the command sources): %.2f s CPU; decision records written: %d\n", kids, n }'
grep -c "error" monitor.out > /dev/null && grep -m3 "error" monitor.out || true
