#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 37/08 (issue 11, "Step processes"): a daemon a step deliberately leaves running, whose
# stdout and stderr are still the step's pipes (`sh -c 'server PORT & echo started'`, no
# redirection), must never be killed (SIGPIPE) or stalled (a full pipe) by the engine's plumbing
# once the engine stops reading: not after its step and its run ended, not when the engine is
# killed right after the program's exit record, not when it is killed mid-step. The daemon here
# serves HTTP (and logs each request to its stderr) and writes 4 KiB to its stdout every 100 ms
# for 3 s: 120 KiB, more than a pipe holds, so a reader that held the pipe without reading
# would stall it. SIGPIPE's default action is restored in it (Python ignores SIGPIPE; a C daemon
# does not). Also: the drainer that reads after the engine let go is in a session of its own,
# holds no descriptor of the engine's but the pipes, ends when the daemon does — and a dead
# engine's run is resumable (no "still running": the earlier fork of the engine held the lock).
# docs/actions.md, "Normal exit: what the program left running stays running".
source "$(dirname "$0")/../support/itest.sh"

command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 125; }
py=$(python3 -c 'import sys; print(sys.executable)')

cat >"$WORK/daemon.py" <<'PY'
import http.server, os, signal, sys, threading, time
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"alive\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, fmt, *args):  # to the inherited stderr: the step's pipe
        sys.stderr.write("served %s\n" % self.path)
        sys.stderr.flush()
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
with open("daemon.pid.tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename("daemon.pid.tmp", "daemon.pid")
def tick():
    line = b"t" * 4095 + b"\n"
    for _ in range(30):
        os.write(1, line)  # blocks while the pipe is full
        with open("ticks", "a") as f:
            f.write("%d\n" % time.monotonic_ns())
        time.sleep(0.1)
threading.Thread(target=tick, daemon=True).start()
server.serve_forever()
PY

# make_case DIR PORT MAIN: a playbook whose one step starts the daemon and then runs MAIN.
make_case() {
    mkdir -p "$1"
    cp "$WORK/daemon.py" "$1/"
    cat >"$1/pb.toml" <<TOML
[playbook]
name = "daemon-output"
[[step]]
id = "serve"
action = "exec"
argv = ["sh", "-c", "$py daemon.py $2 & $3"]
idempotent = true
timeout = "2s"
TOML
}
journal_of() { ls "$1"/.rollback/runs/*.jsonl | head -1; }
# left_pids DIR: the pids the step's last step_finished lists in left_running.
left_pids() {
    python3 - "$(journal_of "$1")" <<'PY'
import json, sys
pids = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "step_finished" and r.get("step") == "serve":
        pids = [p["pid"] for p in r.get("left_running", [])]
print(" ".join(map(str, pids)))
PY
}
answers() { python3 -c 'import sys, urllib.request; assert urllib.request.urlopen(sys.argv[1], timeout=2).read() == b"alive\n"' "$1" 2>/dev/null; }
daemon_of() { # DIR: waits for the daemon's pid file; prints the pid
    for _ in $(seq 1 200); do [ -s "$1/daemon.pid" ] && break; sleep 0.05; done
    [ -s "$1/daemon.pid" ] || fail "the daemon in $1 never started"
    cat "$1/daemon.pid"
}
# writes_through DIR PID LABEL: the daemon wrote its 30 ticks (none failed, none stalled) and is
# alive and answering afterwards.
writes_through() {
    local d=$1 pid=$2 n=0
    for _ in $(seq 1 100); do
        n=0
        [ -f "$d/ticks" ] && n=$(wc -l <"$d/ticks")
        [ "$n" -ge 30 ] && break
        running "$pid" || break
        sleep 0.1
    done
    running "$pid" || fail "$3: the daemon (pid $pid) died after $n of 30 writes (SIGPIPE: its output had no reader)"
    [ "$n" -ge 30 ] || fail "$3: the daemon wrote $n of 30 ticks in 10 s: its writes stall (a full pipe nobody reads)"
    answers "http://127.0.0.1:$port/" || fail "$3: the daemon does not answer"
    running "$pid" || fail "$3: the daemon died when it logged the request to its stderr"
}
# drainer_of PID: the drainer holding the daemon's stdout.
drainer_of() {
    local pipe p
    pipe=$(readlink "/proc/$1/fd/1")
    for p in $(pgrep -x rollback-drain || true); do
        ls -l "/proc/$p/fd" 2>/dev/null | grep -qF -- "-> $pipe" && { echo "$p"; return 0; }
    done
    return 1
}
# check_drainer PID LABEL: the engine is gone; its drainer is alone in its session, and holds
# /dev/null (fd 1 and 2) and the daemon's stdout and stderr — nothing else (its socket to the
# engine closed at the engine's end); it exits once the daemon, the last writer, ended.
check_drainer() {
    local pid=$1 d fds
    d=$(drainer_of "$pid") || fail "$2: no drainer holds the daemon's output"
    [ "$(ps -o sid= -p "$d" | tr -d ' ')" = "$d" ] || fail "$2: the drainer $d is not in a session of its own"
    for _ in $(seq 1 50); do [ -e "/proc/$d/fd/0" ] || break; sleep 0.1; done
    # (" (deleted)": /dev/null replaced since the drainer opened it, by whatever else runs here.)
    fds=$(cd "/proc/$d/fd" && for f in *; do readlink "$f" | sed 's/ (deleted)$//'; done | sort)
    [ "$fds" = "$(printf '%s\n' /dev/null /dev/null "$(readlink "/proc/$pid/fd/1")" "$(readlink "/proc/$pid/fd/2")" | sort)" ] ||
        fail "$2: the drainer $d holds: $fds"
    kill "$pid"
    for _ in $(seq 1 50); do running "$d" || break; sleep 0.1; done
    ! running "$d" || fail "$2: the drainer $d outlived the daemon (the last writer of its pipes)"
}

# --- 1. the step and the run end; the engine exits ----------------------------------------------
dir=$WORK/normal
port=$(free_port)
make_case "$dir" "$port" "echo started"
expect_rc 0 "$dir/run.out" -- sh -c "cd '$dir' && exec '$RB' run -p pb.toml --yes"
pid=$(daemon_of "$dir")
stop_on_exit "$pid"
[ "$(wc -l <"$dir/ticks")" -lt 30 ] || fail "the daemon finished writing before the run ended: the case proves nothing"
[ "$(left_pids "$dir")" = "$pid" ] || fail "left_running is not the daemon $pid: $(left_pids "$dir")"
contains "$dir/run.out" "left running: pid $pid ("
writes_through "$dir" "$pid" "after the run"
check_drainer "$pid" "after the run"
pass "a daemon writing to its step's output lives on and answers after its run ended; listed; its drainer ends with it"

# --- 2. the engine killed right after the program's exit record (seq 4: run_started,
# step_started, step_process, step_process_exited), before it drained and let go ---------------
dir=$WORK/window
port=$(free_port)
make_case "$dir" "$port" "echo started"
rc=0
{ (cd "$dir" && ROLLBACK_TEST_KILL_AT_RECORD=4 exec "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1); } 2>/dev/null || rc=$?
[ "$rc" = 137 ] || { cat "$dir/run.out" >&2; fail "the engine was not killed at the exit record (rc $rc)"; }
tail -1 "$(journal_of "$dir")" | grep -q '"type":"step_process_exited"' || fail "the journal does not end with the exit record"
pid=$(daemon_of "$dir")
stop_on_exit "$pid"
writes_through "$dir" "$pid" "the engine killed in the exit window"
expect_rc 0 "$dir/resume.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
lacks "$dir/resume.out" "is still running (pid"
[ "$(left_pids "$dir")" = "$pid" ] || fail "the recovered step_finished does not list the daemon $pid: $(left_pids "$dir")"
answers "http://127.0.0.1:$port/" || fail "the daemon does not answer after the resume"
check_drainer "$pid" "the engine killed in the exit window"
pass "the engine killed in the exit window: the daemon writes on and answers; resume finishes the run and lists it"

# --- 3. the engine killed (kill -9) while the step's program runs -------------------------------
dir=$WORK/midstep
port=$(free_port)
make_case "$dir" "$port" "while [ ! -e go ]; do sleep 0.05; done; echo started"
(cd "$dir" && exec "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1) &
engine=$!
stop_on_exit "$engine"
pid=$(daemon_of "$dir")
stop_on_exit "$pid"
kill -9 "$engine"
rc=0
{ wait "$engine"; } 2>/dev/null || rc=$?
[ "$rc" = 137 ] || fail "the engine was not killed (rc $rc)"
writes_through "$dir" "$pid" "the engine killed mid-step"
d=$(drainer_of "$pid") || fail "no drainer holds the output of the dead engine's daemon"
# The drainer holds nothing of the dead run: not its lock, not its journal.
! ls -l "/proc/$d/fd" | grep -q "$dir/.rollback" || fail "the drainer holds a file of the state directory"
# The dead run's survivor (the daemon) is waited for up to the step's 2 s timeout, then ended
# (SIGTERM); the second attempt starts a daemon of its own and exits.
touch "$dir/go"
rm -f "$dir/daemon.pid"
expect_rc 0 "$dir/resume.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
lacks "$dir/resume.out" "is still running (pid"
contains "$dir/resume.out" "processes of attempt 1 survived the engine"
for _ in $(seq 1 50); do running "$pid" || break; sleep 0.1; done
! running "$pid" || fail "the first attempt's daemon outlived the resume that ended it"
pid2=$(daemon_of "$dir")
stop_on_exit "$pid2"
[ "$(left_pids "$dir")" = "$pid2" ] || fail "left_running of the second attempt is not its daemon $pid2: $(left_pids "$dir")"
answers "http://127.0.0.1:$port/" || fail "the second attempt's daemon does not answer"
check_drainer "$pid2" "the second attempt"
pass "kill -9 mid-step: the daemon writes on and answers with the engine dead; resume is not refused, ends it, runs the step again"
