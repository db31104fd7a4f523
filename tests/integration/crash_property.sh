#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Property test of the crash matrix: seeded random playbooks (idempotent, probed and plain steps;
# some steps' programs do the work in a grandchild, some in one that left the group with setsid),
# kill -9 of the engine at random points of
# runs and of resumes, resume until done. From the effects log: no non-idempotent effect twice,
# nothing skipped, never two attempts of one step alive at once. CRASH_SEED=N repeats a run;
# CRASH_KILLS (default 40) bounds the kills.
source "$(dirname "$0")/../support/itest.sh"

command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 125; }
seed=${CRASH_SEED:-$(($(date +%s) % 100000))}
RANDOM=$seed
kill_budget=${CRASH_KILLS:-40}
kills=0
echo "crash property: seed $seed (repeat with CRASH_SEED=$seed)"

# One attempt of step ID: a begin line, three beats, the effect (a line in done_ID), an end line.
# Every line carries the attempt's pid and a time in ns, so overlapping attempts show.
write_effect_script() { # DIR
    cat >"$1/effect.sh" <<'SH'
#!/bin/sh
echo "$1 $$ begin $(date +%s%N)" >>effects
i=0
while [ $i -lt 3 ]; do sleep 0.04; echo "$1 $$ beat $(date +%s%N)" >>effects; i=$((i + 1)); done
echo "$1 $$" >>"done_$1"
echo "$1 $$ end $(date +%s%N)" >>effects
SH
}

# make_playbook DIR: 3-5 steps; kinds i (idempotent), p (probe), n (plain: a person decides);
# a third run the effect in a grandchild (`sh -c "sh effect.sh ID & wait"`), a third in a
# grandchild in a session of its own (`setsid sh effect.sh ID`: out of the step's group, found
# only by the attempt token in its environment).
make_playbook() {
    local d=$1 n=$((3 + RANDOM % 3)) k kind spawn
    mkdir -p "$d"
    write_effect_script "$d"
    : >"$d/kinds"
    {
        echo '[playbook]'
        echo 'name = "crash-property"'
        for k in $(seq 1 $n); do
            kind=$(echo i p n | cut -d' ' -f$((1 + RANDOM % 3)))
            spawn=$((RANDOM % 3))
            echo "s$k $kind" >>"$d/kinds"
            echo '[[step]]'
            echo "id = \"s$k\""
            echo 'action = "exec"'
            if [ $spawn -eq 1 ]; then
                echo "argv = [\"sh\", \"-c\", \"sh ./effect.sh s$k & wait\"]"
            elif [ $spawn -eq 2 ]; then
                echo "argv = [\"sh\", \"-c\", \"setsid sh ./effect.sh s$k & wait\"]"
            else
                echo "argv = [\"sh\", \"./effect.sh\", \"s$k\"]"
            fi
            case $kind in
            i) echo 'idempotent = true' ;;
            p) echo "probe = [\"test\", \"-s\", \"done_s$k\"]" ;;
            esac
        done
    } >"$d/pb.toml"
}

# run_maybe_killed DIR CMD...: runs CMD in DIR; while kills remain, three times in four kills it
# with SIGKILL at a random point of the work still to do: once the effects log has grown by a
# random number of lines (each attempt writes 5), plus 0-49 ms, so a kill lands before, inside
# and between steps whatever the machine's speed (a kill at a random wall-clock time missed most
# runs on a fast machine). Sets last_rc (137 = killed); only a kill that ended the process counts.
last_rc=0
effect_lines() { [ -f "$1/effects" ] && wc -l <"$1/effects" || echo 0; }
run_maybe_killed() {
    local d=$1 base left target ms
    shift
    base=$(effect_lines "$d")
    (cd "$d" && exec "$@" </dev/null >>"$d/out.log" 2>&1) &
    local pid=$!
    if [ $kills -lt $kill_budget ] && [ $((RANDOM % 4)) -ne 0 ]; then
        left=$((5 * $(wc -l <"$d/kinds") - base))
        [ $left -gt 0 ] || left=1
        target=$((base + RANDOM % (left + 1)))
        while kill -0 $pid 2>/dev/null && [ "$(effect_lines "$d")" -lt $target ]; do sleep 0.01; done
        ms=$((RANDOM % 50))
        sleep "$(printf '0.%03d' $ms)"
        kill -9 $pid 2>/dev/null || true
    fi
    last_rc=0
    { wait $pid; } 2>/dev/null || last_rc=$?
    [ $last_rc -ne 137 ] || kills=$((kills + 1))
}

# drive DIR: runs the playbook to success through kills: a new run while no plan is recorded,
# else resume; when resume stops at a plain step, answers as the person would: the effect
# happened iff done_ID exists (read after resume settled the step's survivors).
drive() {
    local d=$1 step answer=()
    for _ in $(seq 1 60); do
        if ! grep -qs '"type":"run_started"' "$d"/.rollback/runs/*.jsonl; then
            # killed before the plan was recorded: nothing may have run; start it again
            ls "$d"/done_* >/dev/null 2>&1 && fail "steps ran without a run_started record (seed $seed)"
            rm -rf "$d/.rollback"
            run_maybe_killed "$d" "$RB" run -p pb.toml --yes
        else
            run_maybe_killed "$d" "$RB" resume --state-dir .rollback --yes "${answer[@]}"
        fi
        answer=()
        case $last_rc in
        0) return 0 ;;
        137) ;;
        6)
            step=$(tail -50 "$d/out.log" | sed -n 's/.*step "\(s[0-9]*\)" was started but did not finish.*/\1/p' | tail -1)
            [ -n "$step" ] || { tail -20 "$d/out.log" >&2; fail "needs_attention without a step name (seed $seed)"; }
            if [ -s "$d/done_$step" ]; then
                answer=(--mark-done "$step" --reason checked)
            else
                answer=(--retry "$step" --reason checked)
            fi
            ;;
        2)
            # killed right after run_finished was durable
            tail -3 "$d/out.log" | grep -q "already succeeded" && return 0
            tail -30 "$d/out.log" >&2
            fail "exit 2 in $d (seed $seed)"
            ;;
        *) tail -30 "$d/out.log" >&2; fail "exit $last_rc in $d (seed $seed)" ;;
        esac
    done
    fail "run in $d did not finish after 60 tries (seed $seed)"
}

# Counts over every playbook: repeats, skips, overlaps (python reads kinds, done_* and effects).
check() { # DIR
    python3 - "$1" <<'PY'
import os, sys
d = sys.argv[1]
kinds = dict(l.split() for l in open(os.path.join(d, "kinds")))
repeats = skips = overlaps = 0
spans = {}
if os.path.exists(os.path.join(d, "effects")):
    for line in open(os.path.join(d, "effects")):
        step, pid, _, ns = line.split()
        lo, hi = spans.get((step, pid), (int(ns), int(ns)))
        spans[(step, pid)] = (min(lo, int(ns)), max(hi, int(ns)))
for step, kind in kinds.items():
    path = os.path.join(d, "done_" + step)
    n = sum(1 for _ in open(path)) if os.path.exists(path) else 0
    if n == 0:
        skips += 1
        print(f"skip: {step} ({kind}) never took effect", file=sys.stderr)
    if kind != "i" and n > 1:
        repeats += 1
        print(f"repeat: {step} ({kind}) took effect {n} times", file=sys.stderr)
    attempts = sorted(v for (s, _), v in spans.items() if s == step)
    for a, b in zip(attempts, attempts[1:]):
        if b[0] <= a[1]:
            overlaps += 1
            print(f"overlap: two attempts of {step} alive at once: {a} {b}", file=sys.stderr)
print(repeats, skips, overlaps)
PY
}

start=$(date +%s)
runs=0 repeats=0 skips=0 overlaps=0
while [ $kills -lt $kill_budget ] && [ $runs -lt 30 ] && [ $(($(date +%s) - start)) -lt 120 ]; do
    runs=$((runs + 1))
    dir=$WORK/p$runs
    make_playbook "$dir"
    drive "$dir"
    "$RB" status --state-dir "$dir/.rollback" </dev/null >"$dir/status.out" 2>&1 || true
    grep -q "^run .*: succeeded" "$dir/status.out" || { cat "$dir/status.out" >&2; fail "run $runs did not end succeeded (seed $seed)"; }
    read -r r s o < <(check "$dir")
    repeats=$((repeats + r)) skips=$((skips + s)) overlaps=$((overlaps + o))
done
took=$(($(date +%s) - start))
echo "crash property: seed $seed, $runs playbooks, $kills kill points, repeats $repeats, skips $skips, overlaps $overlaps (${took}s)"
[ $kills -ge 10 ] || fail "only $kills kills happened (want at least 10 for the property to mean something)"
[ $repeats -eq 0 ] && [ $skips -eq 0 ] && [ $overlaps -eq 0 ] ||
    fail "repeats $repeats, skips $skips, overlaps $overlaps (want 0, 0, 0; seed $seed)"
pass "crash property: $kills kill points over $runs playbooks: no repeats, no skips, no overlaps"
