#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Durable runs: the engine is SIGKILLed at every journal boundary (deterministically, with
# ROLLBACK_TEST_KILL_AT_RECORD) and at random moments (a real kill -9); `rollback resume` then
# finishes the run. From the counter files: no non-idempotent step's effect happened twice, no
# step was skipped, and needs_attention appears exactly where a non-idempotent step without a
# probe was in flight. Also: one run at a time (10 concurrent runs), stale lock, audit verify.
source "$(dirname "$0")/../support/itest.sh"

# kinds: i = idempotent, p = has a probe, n = neither (a person must decide)
kinds=(i p n i p n i p n i)
make_playbook() { # DIR
    local dir=$1
    mkdir -p "$dir"
    {
        echo '[playbook]'
        echo 'name = "crash-matrix"'
        for k in $(seq 1 10); do
            local id=s$k kind=${kinds[$((k - 1))]}
            echo "[[step]]"
            echo "id = \"$id\""
            echo 'action = "exec"'
            echo "argv = [\"sh\", \"-c\", \"echo x >> c_$id\"]"
            [ "$kind" = i ] && echo 'idempotent = true'
            [ "$kind" = p ] && echo "probe = [\"test\", \"-s\", \"c_$id\"]"
        done
        echo '[[finally]]'
        echo 'id = "fin"'
        echo 'action = "exec"'
        echo 'argv = ["sh", "-c", "echo x >> c_fin"]'
        echo 'probe = ["test", "-s", "c_fin"]'
    } >"$dir/pb.toml"
}

lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

# Finishes the run in DIR with resume, acting as the person when asked: the effect happened
# when the counter file has a line. Prints the steps that needed attention.
finish_run() { # DIR
    local dir=$1 attention="" rc out
    for _ in $(seq 1 12); do
        rc=0
        out=$("$RB" resume --state-dir "$dir/.rollback" --yes </dev/null 2>&1) || rc=$?
        case $rc in
        0) echo "$attention"; return 0 ;;
        6)
            local step
            step=$(printf '%s\n' "$out" | sed -n 's/.*step "\([a-z0-9]*\)" was started but did not finish.*/\1/p' | head -1)
            [ -n "$step" ] || { echo "$out" >&2; fail "needs_attention without a step name"; }
            attention="$attention $step"
            local choice=--retry
            [ "$(lines "$dir/c_$step")" -ge 1 ] && choice=--mark-done
            "$RB" resume --state-dir "$dir/.rollback" --yes $choice "$step" --reason "checked by hand" \
                </dev/null >"$dir/resume-$step.out" 2>&1 && { echo "$attention"; return 0; }
            ;;
        *) echo "$out" >&2; fail "resume exited $rc in $dir" ;;
        esac
    done
    fail "run in $dir did not finish after 12 resumes"
}

check_counts() { # DIR LABEL
    local dir=$1 label=$2
    for k in $(seq 1 10); do
        local n kind=${kinds[$((k - 1))]}
        n=$(lines "$dir/c_s$k")
        [ "$n" -ge 1 ] || fail "$label: step s$k was skipped"
        if [ "$kind" != i ] && [ "$n" -ne 1 ]; then fail "$label: non-idempotent s$k ran $n times"; fi
    done
    [ "$(lines "$dir/c_fin")" -eq 1 ] || fail "$label: finally ran $(lines "$dir/c_fin") times"
    "$RB" status --state-dir "$dir/.rollback" </dev/null >"$dir/status.out" 2>&1 || true
    grep -q "succeeded" "$dir/status.out" || { cat "$dir/status.out" >&2; fail "$label: run not succeeded"; }
    for j in "$dir"/.rollback/runs/*.jsonl; do
        "$RB" audit verify "$(basename "$j" .jsonl)" --state-dir "$dir/.rollback" </dev/null >/dev/null 2>&1 ||
            fail "$label: journal $j does not verify after resumes"
    done
}

# Records: seq 1 run_started; step k: started 4k-2, process group 4k-1, its program's exit 4k,
# finished 4k+1; finally 42, 43, 44, 45; run_finished 46. A kill after the exit record finds the
# step finished (its exit decided it): no attention there.
for n in ${CRASH_RECORDS:-$(seq 1 46)}; do
    dir=$WORK/kill-$n
    make_playbook "$dir"
    rc=0
    (cd "$dir" && ROLLBACK_TEST_KILL_AT_RECORD=$n exec "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1) 2>/dev/null || rc=$?
    [ $rc -eq 137 ] || { cat "$dir/run.out" >&2; fail "kill at record $n: expected SIGKILL (137), got $rc"; }
    if [ $n -eq 46 ]; then
        # killed after run_finished was durable: nothing left to do
        out=$("$RB" resume --state-dir "$dir/.rollback" --yes </dev/null 2>&1) && fail "resume of a finished run should refuse"
        echo "$out" | grep -q "already succeeded" || fail "resume of a finished run: $out"
        attention=""
    else
        attention=$(finish_run "$dir")
    fi
    expected=""
    if [ $n -ge 2 ] && [ $n -le 41 ] && { [ $((n % 4)) -eq 2 ] || [ $((n % 4)) -eq 3 ]; }; then
        k=$(((n + 2) / 4))
        [ "${kinds[$((k - 1))]}" = n ] && expected=" s$k"
    fi
    [ "$attention" = "$expected" ] || fail "kill at record $n: needs_attention for '$attention', expected '$expected'"
    check_counts "$dir" "kill at record $n"
done
pass "SIGKILL at each of 46 journal boundaries: resumed, no repeats, no skips, attention exactly where due"

# Real kill -9 at random moments.
for r in $(seq 1 ${CRASH_RANDOM:-8}); do
    dir=$WORK/random-$r
    make_playbook "$dir"
    (cd "$dir" && exec "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1) &
    pid=$!
    sleep "0.$((RANDOM % 5))$((RANDOM % 10))"
    kill -9 $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    if [ -d "$dir/.rollback/runs" ] && ls "$dir/.rollback/runs"/*.jsonl >/dev/null 2>&1; then
        if ! grep -q '"type":"run_started"' "$dir"/.rollback/runs/*.jsonl; then
            # died before recording its plan: no step may have run; a new run is allowed
            ls "$dir"/c_* >/dev/null 2>&1 && fail "random kill $r: steps ran without a run_started record"
            expect_rc 2 "$dir/res.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
            contains "$dir/res.out" "nothing to resume"
            (cd "$dir" && "$RB" run -p pb.toml --yes </dev/null >run2.out 2>&1) || fail "new run after an empty journal"
        elif ! grep -q '"type":"run_finished"' "$dir"/.rollback/runs/*.jsonl; then
            finish_run "$dir" >/dev/null
        fi
        check_counts "$dir" "random kill $r"
    fi
done
pass "real kill -9 at random moments: resumed to success with no repeats"

# One run at a time: 10 concurrent runs on one state directory.
dir=$WORK/concurrent
mkdir -p "$dir"
cat >"$dir/slow.toml" <<'TOML'
[playbook]
name = "slow"
[[step]]
id = "hold"
action = "exec"
argv = ["sleep", "2"]
TOML
pids=()
for i in $(seq 1 10); do
    (
        rc=0
        "$RB" run -p "$dir/slow.toml" --yes --reason "racer $i" </dev/null >"$dir/out.$i" 2>&1 || rc=$?
        echo $rc >"$dir/rc.$i"
    ) &
    pids+=($!)
done
wait "${pids[@]}"
ok=0 locked=0
for i in $(seq 1 10); do
    case $(cat "$dir/rc.$i") in
    0) ok=$((ok + 1)) ;;
    4) locked=$((locked + 1)); grep -q "another run holds the lock" "$dir/out.$i" || fail "exit 4 without the holder named" ;;
    *) cat "$dir/out.$i" >&2; fail "concurrent run $i exited $(cat "$dir/rc.$i")" ;;
    esac
done
[ $ok -eq 1 ] && [ $locked -eq 9 ] || fail "concurrent runs: $ok ran, $locked locked out (want 1 and 9)"
grep -h "another run holds the lock" "$dir"/out.* | head -1 | grep -qE "pid [0-9]+ on .*reason: racer" ||
    fail "the holder's pid, host and reason are not named"
pass "10 concurrent runs: exactly one ran, nine exited 4 naming the holder"

# Stale lock from a killed run: detected, a new run refuses and offers resume; resume works.
dir=$WORK/stale
make_playbook "$dir"
(cd "$dir" && ROLLBACK_TEST_KILL_AT_RECORD=8 "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1) || true
expect_rc 4 "$dir/again.out" -- "$RB" run -p "$dir/pb.toml" --yes
contains "$dir/again.out" "died without finishing"
contains "$dir/again.out" "rollback resume"
expect_rc 4 "$dir/again2.out" -- "$RB" run -p "$dir/pb.toml" --yes
contains "$dir/again2.out" "died without finishing"
finish_run "$dir" >/dev/null
check_counts "$dir" "stale lock"
expect_rc 0 "$dir/new.out" -- "$RB" run -p "$dir/pb.toml" --yes
pass "stale lock: detected twice, never broken silently; resume finished the run; new runs work after"

# Audit: an untouched journal verifies; a flipped byte, a deleted and a reordered record do not.
j=$(ls "$dir"/.rollback/runs/*.jsonl | head -1)
id=$(basename "$j" .jsonl)
expect_rc 0 "$WORK/a.out" -- "$RB" audit verify "$id" --state-dir "$dir/.rollback"
cp "$j" "$WORK/orig.jsonl"
sed -i '5s/"step":"s/"step":"S/' "$j"
expect_rc 1 "$WORK/a1.out" -- "$RB" audit verify "$id" --state-dir "$dir/.rollback"
cp "$WORK/orig.jsonl" "$j"; sed -i '6d' "$j"
expect_rc 1 "$WORK/a2.out" -- "$RB" audit verify "$id" --state-dir "$dir/.rollback"
cp "$WORK/orig.jsonl" "$j"; awk 'NR==7{l=$0; next} NR==8{print; print l; next} {print}' "$WORK/orig.jsonl" >"$j"
expect_rc 1 "$WORK/a3.out" -- "$RB" audit verify "$id" --state-dir "$dir/.rollback"
pass "audit verify: intact passes; flipped byte, deleted and reordered records fail"
