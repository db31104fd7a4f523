#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The monitor's idle cost against the number of runs kept in its state directory (issue 12: "its
# cost per tick must not grow with history"). One command source, 1 s ticks, SECONDS of running
# (default 30), with 0 and with N (default 10000) finished runs' journals in the state directory;
# prints the CPU time (user+sys) of each and their ratio. Not run by CTest.
#   ROLLBACK=build/rollback tests/bench/monitor_idle_bench.sh [N] [SECONDS]
set -euo pipefail
RB=${ROLLBACK:-$(cd "$(dirname "$0")/../.." && pwd)/build/rollback}
n=${1:-10000}
secs=${2:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

setup() { # DIR RUNS
    local d=$1 runs=$2
    mkdir -p "$d/.rollback/runs"
    echo 1 >"$d/value"
    cat >"$d/rollback.toml" <<'TOML'
[target]
name = "bench"
[source.v]
kind = "command"
argv = ["cat", "value"]
[[condition]]
name = "v"
signal = "v.value"
above = 5
[decision]
interval = "1s"
mode = "observe"
TOML
    python3 - "$d/.rollback/runs" "$runs" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    # valid run ids, days apart, empty journals: listing them is what the monitor would pay
    day, rest = divmod(i, 86400)
    open(os.path.join(d, "2020%02d%02dT%02d%02d%02dZ-%06x.jsonl" % (
        1 + (day // 28) % 12, 1 + day % 28, rest // 3600, rest // 60 % 60, rest % 60, i)), "w").close()
PY
}

cpu_of() { # DIR: CPU seconds of `rollback monitor` over $secs
    python3 - "$RB" "$1" "$secs" <<'PY'
import os, resource, signal, subprocess, sys, time
rb, d, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
p = subprocess.Popen([rb, "monitor", "-c", "rollback.toml"], cwd=d,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(secs)
p.send_signal(signal.SIGTERM)
p.wait()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{ru.ru_utime + ru.ru_stime:.3f}")
PY
}

setup "$work/none" 0
setup "$work/many" "$n"
a=$(cpu_of "$work/none")
b=$(cpu_of "$work/many")
echo "monitor, ${secs} s of 1 s ticks: CPU ${a} s with 0 runs kept, ${b} s with ${n} runs kept"
python3 -c "print(f'ratio {float(\"$b\") / max(float(\"$a\"), 1e-3):.2f} (goal: about 1)')"
