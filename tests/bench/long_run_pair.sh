#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two rollback binaries, paired, on the long run of long_run_bench.sh (issue 12 point 8): for a
# run of N `wait` steps (default 20000) cut after its last step's record, each command — status,
# report, resume (a fresh copy of the cut run made before each, outside the measurement),
# validate and plan of the chain and fan-in playbooks — runs OLD then NEW, REPS times (default 9),
# and prints the median CPU time (user+sys of the whole process, ms) of each binary and the
# median of the NEW/OLD ratios of the pairs (pairing keeps a ratio meaningful while the machine's
# speed drifts). The load average is printed before and after. Not run by CTest.
#   REPS=9 tests/bench/long_run_pair.sh OLD_ROLLBACK NEW_ROLLBACK [N]
set -euo pipefail
old=$(realpath "$1")
new=$(realpath "$2")
n=${3:-20000}
reps=${REPS:-9}
base=/tmp
[ -d /dev/shm ] && base=/dev/shm
work=$(mktemp -d -p "$base")
trap 'rm -rf "$work"' EXIT

python3 - "$n" flat "$work/flat.toml" chain "$work/chain.toml" fanin "$work/fanin.toml" <<'PY'
import sys
n = int(sys.argv[1])
for shape, path in zip(sys.argv[2::2], sys.argv[3::2]):
    with open(path, "w") as f:
        f.write('[playbook]\nname = "long"\n')
        for i in range(1, n + 1):
            f.write(f'[[step]]\nid = "s{i}"\naction = "wait"\nduration = "0s"\n')
            if shape == "chain" and i > 1:
                f.write(f'needs = ["s{i - 1}"]\n')
        if shape == "fanin":
            f.write('[[step]]\nid = "join"\naction = "wait"\nduration = "0s"\nneeds = [' +
                    ", ".join(f'"s{i}"' for i in range(1, n + 1)) + ']\n')
PY
# The run killed right after its last step's record (the new binary writes it; both read it).
(cd "$work" && ROLLBACK_TEST_KILL_AT_RECORD=$((2 * n + 1)) "$new" run -p flat.toml --yes \
    --state-dir "$work/cut" </dev/null >/dev/null 2>&1) 2>/dev/null || true
id=$(basename "$(ls "$work/cut/runs/"*.jsonl)" .jsonl)
cp -r "$work/cut" "$work/st"

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$old" "$new" "$reps" "$work" "$id" <<'PY'
import os, resource, shutil, statistics, subprocess, sys
old, new, reps, work, run = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]

def cpu_ms(binary, args, fresh):
    if fresh:
        shutil.rmtree(f"{work}/rs", ignore_errors=True)
        shutil.copytree(f"{work}/cut", f"{work}/rs")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([binary] + args, check=True, cwd=work, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000

commands = [
    ("status", ["status", run, "--state-dir", f"{work}/st"], False),
    ("report", ["report", run, "--state-dir", f"{work}/st"], False),
    ("resume", ["resume", run, "--yes", "--state-dir", f"{work}/rs"], True),
    ("validate chain", ["validate", "chain.toml"], False),
    ("validate fan-in", ["validate", "fanin.toml"], False),
    ("plan chain", ["plan", "-p", "chain.toml", "--state-dir", f"{work}/st"], False),
    ("plan fan-in", ["plan", "-p", "fanin.toml", "--state-dir", f"{work}/st"], False),
]
print(f"{'command':<16} {'old ms':>8} {'new ms':>8} {'new/old':>8}   (medians of {reps} pairs)")
for name, args, fresh in commands:
    olds, news, ratios = [], [], []
    for _ in range(reps):
        o = cpu_ms(old, args, fresh)
        w = cpu_ms(new, args, fresh)
        olds.append(o)
        news.append(w)
        ratios.append(w / o)
    print(f"{name:<16} {statistics.median(olds):8.0f} {statistics.median(news):8.0f} "
          f"{statistics.median(ratios):8.2f}")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
