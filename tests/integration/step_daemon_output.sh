#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 37/08, "the exit window before the drainer: a daemon dies of SIGPIPE" (issue 11). A
# daemon a step deliberately leaves running, whose stdout and stderr are still the step's pipes,
# writes every 100 ms — after its step ended and after the engine is gone. The engine's plumbing
# must never be what kills it: it is alive and still writing 2 s later when the engine
#   1. finished the run and exited,
#   2. was killed (SIGKILL) right after it journaled the program's exit, before it drained and
#      handed the pipes on (the exit window),
#   3. was killed (kill -9) while the step's program still ran (the daemon is then a survivor
#      that a resume finds and waits for: docs/actions.md).
# docs/actions.md, "Normal exit: what the program left running stays running".
source "$(dirname "$0")/../support/itest.sh"

# The daemon's loop: a line on stdout, one on stderr, one in `ticks`, every 100 ms; its pid in
# daemon.pid. No nohup, no redirection: its output is the step's.
make_case() { # DIR PROGRAM_AFTER_THE_DAEMON
    mkdir -p "$1"
    cat >"$1/pb.toml" <<TOML
[playbook]
name = "daemon-output"
[[step]]
id = "start-daemon"
action = "exec"
argv = ["sh", "-c", "sh -c 'echo \$\$ >daemon.pid; while :; do echo tick; echo tock >&2; echo t >>ticks; sleep 0.1; done' & $2"]
TOML
}
# writes_on DIR LABEL: the daemon is alive and wrote at least 10 more ticks over 2 s; then ended.
writes_on() {
    local d=$1 pid before after
    for _ in $(seq 1 100); do [ -s "$d/daemon.pid" ] && break; sleep 0.05; done
    pid=$(cat "$d/daemon.pid")
    stop_on_exit "$pid"
    before=$(wc -l <"$d/ticks")
    sleep 2
    running "$pid" || fail "$2: the daemon (pid $pid) died: its output pipe was closed under it (SIGPIPE)"
    after=$(wc -l <"$d/ticks")
    [ "$after" -ge $((before + 10)) ] || fail "$2: the daemon wrote $((after - before)) ticks in 2 s"
    # The daemon and what else is left of the step's group (case 3: its `sleep 60`).
    kill -- -"$(ps -o pgid= -p "$pid" | tr -d ' ')" 2>/dev/null || kill "$pid"
}
# --- 1. the run ends normally; the engine exits ------------------------------------------------
dir=$WORK/normal
make_case "$dir" "sleep 0.3; echo started"
expect_rc 0 "$dir/run.out" -- sh -c "cd '$dir' && exec '$RB' run -p pb.toml --yes"
writes_on "$dir" "after the engine exited"
pass "a daemon writing to its step's output every 100 ms lives on after the engine exited"

# --- 2. the engine killed in the exit window (right after the exit record: seq 4 = run_started,
# step_started, step_process, step_process_exited) ------------------------------------------------
dir=$WORK/window
make_case "$dir" "sleep 0.3; echo started"
rc=0
{ (cd "$dir" && ROLLBACK_TEST_KILL_AT_RECORD=4 exec "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1); } 2>/dev/null || rc=$?
[ "$rc" = 137 ] || { cat "$dir/run.out" >&2; fail "the engine was not killed at the exit record (rc $rc)"; }
tail -1 "$dir"/.rollback/runs/*.jsonl | grep -q '"type":"step_process_exited"' ||
    fail "the journal does not end with the exit record"
writes_on "$dir" "the engine killed in the exit window"
pass "a daemon writing to its step's output lives on when the engine is killed before its drain"

# --- 3. the engine killed while the step's program runs -----------------------------------------
dir=$WORK/midstep
make_case "$dir" "sleep 60"
(cd "$dir" && exec "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1) &
engine=$!
stop_on_exit "$engine"
for _ in $(seq 1 200); do [ -s "$dir/ticks" ] && break; sleep 0.05; done
[ -s "$dir/ticks" ] || fail "the daemon never started"
stop_on_exit "$(cat "$dir/daemon.pid")"
kill -9 "$engine"
rc=0
{ wait "$engine"; } 2>/dev/null || rc=$?
[ "$rc" = 137 ] || fail "the engine was not killed (rc $rc)"
writes_on "$dir" "the engine killed mid-step"
pass "a daemon writing to its step's output lives on when the engine is killed while the step runs"
