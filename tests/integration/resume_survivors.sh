#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Survivors of an interrupted step (docs/actions.md, "Step processes"), with real processes:
#  1. a member of the step's process group that shed the attempt's proof (closed every inherited
#     descriptor, replaced its environment) is waited for before the step starts again;
#  2. one that outlives the wait is never signalled, and the step does not start beside it;
#  3. Ctrl-C during `resume --mark-done STEP`'s wait records nothing as done, exit 130;
#  4. Ctrl-C during `run --abandon-stale`'s wait abandons nothing, starts no run, exit 130.
source "$(dirname "$0")/../support/itest.sh"
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 125; }

runs_of() { ls "$1"/.rollback/runs/*.jsonl; }
journal_of() { runs_of "$1" | head -1; }
# with_sigint CMD...: CMD with SIGINT at its default action (a script's background job ignores
# it), as when a person presses Ctrl-C.
with_sigint() { exec python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' "$@"; }

# make_playbook DIR TIMEOUT SHED: step "work" runs worker.sh in the background of `sh -c`
# (the step's program, which dies with the engine), shed of the proof when SHED is 1; a finally
# step notes that it ran. worker.sh appends "<pid> begin|beat|end <ns>" to `effects`; it stops
# after `beats` beats of 0.1 s, or sooner once the file `release` exists.
make_playbook() {
    local d=$1 timeout=$2 shed=$3 start="sh ./worker.sh"
    mkdir -p "$d"
    cat >"$d/worker.sh" <<'SH'
#!/bin/sh
beats=$(cat beats)
echo "$$ begin $(date +%s%N)" >>effects
i=0
while [ $i -lt "$beats" ] && [ ! -f release ]; do
    sleep 0.1
    echo "$$ beat $(date +%s%N)" >>effects
    i=$((i + 1))
done
echo "$$ end $(date +%s%N)" >>effects
SH
    # Sheds the proof and stays in the group: every descriptor past stderr closed (the attempt's
    # mark), a new environment without the token.
    cat >"$d/shed.py" <<'PY'
import os
os.closerange(3, 1 << 16)
os.execve("/bin/sh", ["sh", "./worker.sh"], {"PATH": "/usr/bin:/bin"})
PY
    [ "$shed" = 1 ] && start="python3 ./shed.py"
    cat >"$d/pb.toml" <<TOML
[playbook]
name = "survivors"
[[step]]
id = "work"
action = "exec"
argv = ["sh", "-c", "$start & wait"]
idempotent = true
timeout = "$timeout"
[[finally]]
id = "note"
action = "exec"
argv = ["sh", "-c", "echo finally >>finally"]
TOML
}
# start_and_kill DIR: the run, killed with SIGKILL once the worker has begun; sets `worker`.
start_and_kill() {
    local d=$1 pid before
    (cd "$d" && exec "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1) &
    pid=$!
    for _ in $(seq 1 300); do [ -f "$d/effects" ] && [ "$(wc -l <"$d/effects")" -ge 2 ] && break; sleep 0.05; done
    [ "$(wc -l <"$d/effects")" -ge 2 ] || fail "the worker in $d never started"
    kill -9 $pid
    wait $pid 2>/dev/null || true
    worker=$(awk 'NR == 1 {print $1}' "$d/effects")
    before=$(wc -l <"$d/effects")
    sleep 0.4
    [ "$(wc -l <"$d/effects")" -gt "$before" ] || fail "the worker died with the engine: the scenario needs it alive"
    stop_on_exit "$worker"
}
# proof_shed PID: the process carries neither the attempt's token nor its mark.
proof_shed() {
    ! grep -qs ROLLBACK_STEP_ATTEMPT "/proc/$1/environ" || fail "worker $1 still carries the token"
    ! ls -l "/proc/$1/fd" 2>/dev/null | grep -q rollback-attempt || fail "worker $1 still holds the mark"
    [ "$(ps -o pgid= "$1" | tr -d ' ')" = "$(python3 - "$2" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "step_process":
        print(r["pgid"])
        break
PY
)" ] || fail "worker $1 is not in the step's recorded process group"
}
# wait_for_text FILE TEXT PID: until FILE holds TEXT (or PID ended).
wait_for_text() {
    for _ in $(seq 1 600); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        running "$3" || break
        sleep 0.1
    done
    cat "$1" >&2
    fail "$1 never said: $2"
}
# check_sequential DIR: two attempts; every line of the first precedes the first of the second.
check_sequential() {
    python3 - "$1/effects" <<'PY' || fail "attempts of step work overlapped: $(cat "$1/effects")"
import sys
lines = [l.split() for l in open(sys.argv[1])]
order = []
for pid, what, ns in lines:
    if pid not in order:
        order.append(pid)
assert len(order) == 2, order
first = [int(ns) for pid, _, ns in lines if pid == order[0]]
second = [int(ns) for pid, _, ns in lines if pid == order[1]]
assert max(first) < min(second), (max(first), min(second))
PY
}

# --- 1. a member of the group without the proof: waited for ------------------------------------
dir=$WORK/shed
make_playbook "$dir" 5m 1
echo 600 >"$dir/beats" # until released, at most 60 s
start_and_kill "$dir"
proof_shed "$worker" "$(journal_of "$dir")"
"$RB" resume --state-dir "$dir/.rollback" --yes </dev/null >"$dir/resume.out" 2>&1 &
resume=$!
wait_for_text "$dir/resume.out" "waiting up to 5m" $resume
sleep 1 # the engine waits: the step must not start meanwhile
[ "$(grep -c " begin " "$dir/effects")" -eq 1 ] || fail "the step started again beside the survivor: $(cat "$dir/effects")"
touch "$dir/release"
rc=0
wait $resume || rc=$?
[ $rc -eq 0 ] || { cat "$dir/resume.out" >&2; fail "resume exited $rc"; }
check_sequential "$dir"
contains "$dir/resume.out" "pid $worker (sh ./worker.sh) [no token or mark: not signalled]"
contains "$dir/resume.out" "ended by themselves"
grep -q '"type":"step_survivors".*"outcome":"exited".*"unproven":\[{"pid":'"$worker"',' "$(journal_of "$dir")" ||
    fail "no step_survivors record naming the survivor without the proof"
pass "a group member that shed the token and the mark is waited for before the step starts again"

# --- 2. ... and one that outlives the wait: not signalled, the step does not start -------------
dir=$WORK/shed-long
make_playbook "$dir" 2s 1
echo 600 >"$dir/beats"
start_and_kill "$dir"
proof_shed "$worker" "$(journal_of "$dir")"
rid=$(basename "$(journal_of "$dir")" .jsonl)
expect_rc 6 "$dir/resume.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
running "$worker" || fail "resume signalled the survivor without the proof"
[ "$(grep -c " begin " "$dir/effects")" -eq 1 ] || fail "the step started beside the survivor: $(cat "$dir/effects")"
contains "$dir/resume.out" "are still alive after waiting"
contains "$dir/resume.out" "they were not signalled: they carry neither the attempt's token nor its mark"
contains "$dir/resume.out" "ps -o pid,pgid,lstart,args -p "
contains "$dir/resume.out" "rollback resume $rid"
grep -q '"type":"step_survivors".*"outcome":"remain".*"remaining":\[{"pid":'"$worker"',' "$(journal_of "$dir")" ||
    fail "no step_survivors record (remain) naming the survivor"
# --mark-done does not go past them either: the step's work is still running.
expect_rc 6 "$dir/again.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes --mark-done work
lacks "$(journal_of "$dir")" '"type":"step_marked_done"'
touch "$dir/release"
for _ in $(seq 1 50); do running "$worker" || break; sleep 0.1; done
expect_rc 0 "$dir/last.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
check_sequential "$dir"
pass "a member without the proof that outlives the wait is not signalled; the step waits for a person"

# --- 3. Ctrl-C while resume --mark-done waits: nothing recorded as done, exit 130 --------------
dir=$WORK/mark-int
make_playbook "$dir" 5m 0
echo 300 >"$dir/beats" # 30 s at most, whatever an old engine does with the interrupt
start_and_kill "$dir"
with_sigint "$RB" resume --state-dir "$dir/.rollback" --yes --mark-done work </dev/null >"$dir/resume.out" 2>&1 &
resume=$!
wait_for_text "$dir/resume.out" "waiting up to 5m" $resume
kill -INT $resume
rc=0
wait $resume || rc=$?
[ $rc -eq 130 ] || { cat "$dir/resume.out" >&2; fail "resume --mark-done interrupted exited $rc (want 130)"; }
j=$(journal_of "$dir")
lacks "$j" '"type":"step_marked_done"'
grep -q '"type":"run_interrupted"' "$j" || fail "no run_interrupted record"
[ ! -e "$dir/finally" ] || fail "the finally step ran after an interrupt of the wait for survivors"
for _ in $(seq 1 50); do running "$worker" || break; sleep 0.1; done
! running "$worker" || fail "the interrupt did not end the survivor"
contains "$dir/resume.out" "interrupted: nothing else of the run is done"
expect_rc 0 "$dir/status.out" -- "$RB" status --state-dir "$dir/.rollback"
contains "$dir/status.out" "interrupted"
expect_rc 0 "$dir/again.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes --mark-done work
grep -q '"type":"step_marked_done","step":"work"' "$j" || fail "the next resume --mark-done did not mark it"
[ "$(cat "$dir/finally")" = finally ] || fail "the finally step did not run once at the end"
[ "$(grep -c " begin " "$dir/effects")" -eq 1 ] || fail "a step marked done ran again"
pass "Ctrl-C during resume --mark-done's wait: survivors ended, nothing marked done, exit 130, resumable"

# --- 4. Ctrl-C while run --abandon-stale waits: nothing abandoned, no run, exit 130 -------------
dir=$WORK/abandon-int
make_playbook "$dir" 5m 0
echo 300 >"$dir/beats" # 30 s at most, whatever an old engine does with the interrupt
start_and_kill "$dir"
dead=$(basename "$(journal_of "$dir")" .jsonl)
(cd "$dir" && with_sigint \
    "$RB" run -p pb.toml --yes --abandon-stale </dev/null >new.out 2>&1) &
new=$!
wait_for_text "$dir/new.out" "waiting up to 5m" $new
kill -INT $new
rc=0
wait $new || rc=$?
[ $rc -eq 130 ] || { cat "$dir/new.out" >&2; fail "run --abandon-stale interrupted exited $rc (want 130)"; }
contains "$dir/new.out" "it was not abandoned and no new run started"
lacks "$(journal_of "$dir")" "abandoned"
[ "$(runs_of "$dir" | wc -l)" -eq 1 ] || fail "a new run was started: $(runs_of "$dir")"
[ "$(grep -c " begin " "$dir/effects")" -eq 1 ] || fail "the step started again"
for _ in $(seq 1 50); do running "$worker" || break; sleep 0.1; done
! running "$worker" || fail "the interrupt did not end the survivor"
# The dead run is still the one a new run must deal with.
expect_rc 4 "$dir/plain.out" -- sh -c "cd '$dir' && exec '$RB' run -p pb.toml --yes"
contains "$dir/plain.out" "run $dead"
contains "$dir/plain.out" "died without finishing"
expect_rc 0 "$dir/resume.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
check_sequential "$dir"
pass "Ctrl-C during run --abandon-stale's wait: nothing abandoned, no run started, exit 130, resumable"
