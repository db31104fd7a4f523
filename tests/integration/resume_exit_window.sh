#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The engine killed after a step's program exited but before its step_finished (the 30-400 ms in
# which the runner lists what the program left running and drains its output): the journal
# already holds the program's exit (step_process_exited), so resume treats the step as finished
# — by its exit status — and leaves what it deliberately left running alone: no wait for the
# step's timeout, no SIGTERM to the daemon, no second attempt, no question to a person
# (docs/actions.md "Step processes"). The kill is deterministic: ROLLBACK_TEST_KILL_AT_RECORD
# at the exit record (seq 4: run_started 1, step_started 2, step_process 3, exit 4).
source "$(dirname "$0")/../support/itest.sh"

journal_of() { ls "$1"/.rollback/runs/*.jsonl | head -1; }
last_type() { tail -1 "$(journal_of "$1")" | python3 -c 'import json, sys; print(json.loads(sys.stdin.read())["type"])'; }

# make_case DIR EXIT_CODE EXTRA_TOML: step "start-daemon" starts a daemon in its group and one
# in a session of its own (setsid), counts its runs, and exits EXIT_CODE; then step "later".
make_case() {
    local d=$1 code=$2 extra=$3
    mkdir -p "$d"
    echo "$code" >"$d/code"
    cat >"$d/pb.toml" <<TOML
[playbook]
name = "exit-window"
[[step]]
id = "start-daemon"
action = "exec"
argv = ["sh", "-c", "sleep 300 >/dev/null 2>&1 & echo \$! >>daemon.pids; setsid sleep 301 >/dev/null 2>&1 & echo \$! >>daemon.pids; echo x >>count; exit \$(cat code)"]
timeout = "8s"
$extra
[[step]]
id = "later"
action = "exec"
argv = ["sh", "-c", "echo y >>later"]
TOML
}
# kill_in_window DIR: runs the playbook, the engine SIGKILLs itself right after the exit record.
kill_in_window() {
    local d=$1 rc=0
    { (cd "$d" && ROLLBACK_TEST_KILL_AT_RECORD=4 exec "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1); } 2>/dev/null || rc=$?
    [ $rc -eq 137 ] || { cat "$d/run.out" >&2; fail "$d: the engine was not killed at the exit record (rc $rc)"; }
    [ "$(last_type "$d")" = step_process_exited ] || fail "$d: the journal does not end with the exit record"
    for p in $(cat "$d/daemon.pids"); do
        stop_on_exit "$p"
        running "$p" || fail "$d: daemon $p died with the engine"
    done
}
daemons_alive() { # DIR LABEL
    for p in $(cat "$1/daemon.pids"); do running "$p" || fail "$2: resume ended daemon $p the step left running"; done
}

# --- 1. idempotent, exit 0: finished, daemons left alone, no wait ------------------------------
dir=$WORK/idempotent
make_case "$dir" 0 'idempotent = true'
kill_in_window "$dir"
start=$(date +%s%N)
expect_rc 0 "$dir/resume.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
took_ms=$((($(date +%s%N) - start) / 1000000))
daemons_alive "$dir" "idempotent"
[ "$(wc -l <"$dir/count")" -eq 1 ] || fail "the finished step ran again: $(cat "$dir/count")"
[ -s "$dir/later" ] || fail "the next step did not run"
[ $took_ms -lt 6000 ] || fail "resume took ${took_ms} ms: it waited for the step's 8 s timeout"
contains "$dir/resume.out" "left alone"
contains "$dir/resume.out" "(its program ended before the engine stopped: recorded by this resume, not run again)"
lacks "$dir/resume.out" "survived the engine"
lacks "$dir/resume.out" "attempt 2"
j=$(journal_of "$dir")
python3 - "$j" $(cat "$dir/daemon.pids") <<'PY' || fail "the journal does not record the recovered finish: $(cat "$j")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
daemons = sorted(int(p) for p in sys.argv[2:])
fin = [r for r in recs if r["type"] == "step_finished" and r["step"] == "start-daemon"]
assert len(fin) == 1 and fin[0]["recovered"] and fin[0]["status"] == "succeeded", fin
assert fin[0]["attempt"] == 1 and fin[0]["exit_code"] == 0, fin
assert sorted(p["pid"] for p in fin[0]["left_running"]) == daemons, fin
surv = [r for r in recs if r["type"] == "step_survivors"]
assert [s["outcome"] for s in surv] == ["left_alone"], surv
assert sorted(p["pid"] for p in surv[0]["found"]) == daemons, surv
assert not any(r["type"] == "step_started" and r["step"] == "start-daemon" and r["attempt"] == 2 for r in recs)
PY
expect_rc 0 "$dir/audit.out" -- "$RB" audit verify "$(basename "$j" .jsonl)" --state-dir "$dir/.rollback"
expect_rc 0 "$dir/report.out" -- "$RB" report "$(basename "$j" .jsonl)" --state-dir "$dir/.rollback"
contains "$dir/report.out" "ended by itself (exited 0): the step succeeded"
contains "$dir/report.out" "(recorded by a resume: the program ended before the engine stopped)"
pass "kill -9 between a step's exit and its step_finished: resume finished it as succeeded in ${took_ms} ms, daemons untouched, not run again"

# --- 2. not idempotent, no probe, exit 0: no question to a person -------------------------------
dir=$WORK/plain
make_case "$dir" 0 ''
kill_in_window "$dir"
expect_rc 0 "$dir/resume.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
daemons_alive "$dir" "plain"
[ "$(wc -l <"$dir/count")" -eq 1 ] || fail "the finished step ran again"
lacks "$dir/resume.out" "needs"
pass "the same for a step that is neither idempotent nor probed: no needs_attention, it had finished"

# --- 3. exit 1, on_failure = continue: finished as failed, tolerated, not run again -------------
dir=$WORK/failed-continue
make_case "$dir" 1 'on_failure = "continue"'
kill_in_window "$dir"
expect_rc 0 "$dir/resume.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
daemons_alive "$dir" "failed-continue"
[ "$(wc -l <"$dir/count")" -eq 1 ] || fail "the failed step ran again"
[ -s "$dir/later" ] || fail "the next step did not run after a tolerated failure"
contains "$dir/resume.out" "[start-daemon] failed"
expect_rc 0 "$dir/status.out" -- "$RB" status --state-dir "$dir/.rollback"
contains "$dir/status.out" "exit 1"
pass "a step that exited 1 in the window is finished as failed (on_failure continue): tolerated, daemons untouched"

# --- 4. exit 1, on_failure = abort: the run had failed; resume says so and changes nothing ------
dir=$WORK/failed-abort
make_case "$dir" 1 ''
kill_in_window "$dir"
before=$(wc -l <"$(journal_of "$dir")")
expect_rc 2 "$dir/resume.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
contains "$dir/resume.out" "stopped because step \"start-daemon\" failed (exit 1)"
contains "$dir/resume.out" "--retry start-daemon"
[ "$(wc -l <"$(journal_of "$dir")")" -eq "$before" ] || fail "a refused resume wrote to the journal"
daemons_alive "$dir" "failed-abort"
[ "$(wc -l <"$dir/count")" -eq 1 ] || fail "the failed step ran again"
# A person asks for it again: the earlier attempt's daemons were left deliberately; not waited for.
echo 0 >"$dir/code"
expect_rc 0 "$dir/retry.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes --retry start-daemon --reason "fixed"
for p in $(cat "$dir/daemon.pids"); do stop_on_exit "$p"; done
[ "$(wc -l <"$dir/count")" -eq 2 ] || fail "--retry did not run the step again"
lacks "$dir/retry.out" "waiting up to"
pass "a step that exited 1 in the window (abort): resume refuses like after any failure, --retry runs it without waiting for its daemons"
