#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Reading a long run and ordering a long playbook (issue 12 point 8): for each size N (default
# 5000 10000 20000) it runs a playbook of N `wait` steps of 0s (state directory on tmpfs when
# /dev/shm exists), then times `rollback status`, `rollback report RUN_ID` and `rollback resume
# RUN_ID --yes` of a copy of the run killed just before its run_finished record; and `rollback
# validate` / `rollback plan` of a playbook of N steps where each step needs the one before
# (a chain: the worst shape for an ordering that rescans) and of one where a last step needs all
# N (a fan-in: the worst shape for a needs list searched linearly). Prints the median CPU time
# (user+sys) of REPS runs (default 5) of each command, in ms. Not run by CTest.
#   ROLLBACK=build/rollback REPS=5 tests/bench/long_run_bench.sh [N...]
set -euo pipefail
RB=$(realpath "${ROLLBACK:-$(dirname "$0")/../../build/rollback}") # absolute: the runs cd
reps=${REPS:-5}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(5000 10000 20000)
base=/tmp
[ -d /dev/shm ] && base=/dev/shm
work=$(mktemp -d -p "$base")
trap 'rm -rf "$work"' EXIT

gen() { # N SHAPE(flat|chain|fanin) FILE
    python3 - "$@" <<'PY'
import sys
n, shape, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
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
}

# CPU ms (user+sys, median of $reps) of `rollback ARGS...`; PREP (a shell command) runs before
# each repetition, outside the measurement. A command that fails fails the benchmark.
cpu_ms() { # PREP ARGS...
    python3 - "$RB" "$@" <<'PY'
import os, resource, statistics, subprocess, sys
rb, prep, args = sys.argv[1], sys.argv[2], sys.argv[3:]
reps = int(os.environ["REPS_N"])
times = []
for _ in range(reps):
    subprocess.run(prep, shell=True, check=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([rb] + args, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    times.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
print(f"{statistics.median(times):.0f}")
PY
}
export REPS_N=$reps

printf '%-8s %10s %10s %10s %12s %10s %12s %10s\n' steps "status ms" "report ms" "resume ms" \
    "validate ms" "plan ms" "validate fan" "plan fan"
for n in "${sizes[@]}"; do
    d=$work/$n
    mkdir -p "$d"
    gen "$n" flat "$d/flat.toml"
    gen "$n" chain "$d/chain.toml"
    gen "$n" fanin "$d/fanin.toml"
    # Records: 1 run_started, then step_started + step_finished per step; the kill after the last
    # step_finished leaves a run that resume finishes without running a step.
    (cd "$d" && ROLLBACK_TEST_KILL_AT_RECORD=$((2 * n + 1)) "$RB" run -p flat.toml --yes \
        --state-dir "$d/cut" </dev/null >/dev/null 2>&1) 2>/dev/null || true
    id=$(basename "$(ls "$d/cut/runs/"*.jsonl)" .jsonl)
    cp -r "$d/cut" "$d/st"
    st=$(cpu_ms true status "$id" --state-dir "$d/st")
    rp=$(cpu_ms true report "$id" --state-dir "$d/st")
    rs=$(cpu_ms "rm -rf '$d/rs' && cp -r '$d/cut' '$d/rs'" resume "$id" --yes --state-dir "$d/rs")
    va=$(cpu_ms true validate "$d/chain.toml")
    pl=$(cpu_ms true plan -p "$d/chain.toml" --state-dir "$d/st")
    vf=$(cpu_ms true validate "$d/fanin.toml")
    pf=$(cpu_ms true plan -p "$d/fanin.toml" --state-dir "$d/st")
    printf '%-8s %10s %10s %10s %12s %10s %12s %10s\n' "$n" "$st" "$rp" "$rs" "$va" "$pl" "$vf" "$pf"
done
