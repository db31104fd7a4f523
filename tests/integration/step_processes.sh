#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Step processes as an operator expects them (docs/actions.md, "Step processes"): a daemon a step
# starts keeps running and is listed; after kill -9 of the engine, the grandchild of the
# interrupted step is waited for (or ended) before resume — or a new run — starts the step again.
source "$(dirname "$0")/../support/itest.sh"

command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 125; }
# The interpreter itself, not a wrapper on PATH (pyenv's shim is a bash script that forks helper
# processes while it looks the interpreter up: caught alive when the step ends, they would be
# listed as left running beside the server).
py=$(python3 -c 'import sys; print(sys.executable)')
journal_of() { ls "$1"/.rollback/runs/*.jsonl | head -1; }
# left_pids JOURNAL STEP: the pids the step's last step_finished lists in left_running.
left_pids() {
    python3 - "$1" "$2" <<'PY'
import json, sys
pids = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "step_finished" and r.get("step") == sys.argv[2]:
        pids = [p["pid"] for p in r.get("left_running", [])]
print(" ".join(map(str, pids)))
PY
}
answers() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null; }

# --- 1. exec: `nohup python3 -m http.server … &`, then an http check of that port -------------
port=$(free_port)
dir=$WORK/daemon
mkdir -p "$dir"
cat >"$dir/pb.toml" <<TOML
[playbook]
name = "daemon"
[[step]]
id = "start-server"
action = "exec"
argv = ["sh", "-c", "nohup $py -m http.server $port --bind 127.0.0.1 >/dev/null 2>&1 & echo started"]
[[step]]
id = "check"
phase = "verify"
action = "http"
url = "http://127.0.0.1:$port/"
attempts = 40
interval = "250ms"
TOML
rc=0
"$RB" run -p "$dir/pb.toml" --yes </dev/null >"$dir/run.out" 2>&1 || rc=$?
pids=$(left_pids "$(journal_of "$dir")" start-server)
for p in $pids; do stop_on_exit $p; done
[ $rc -eq 0 ] || { cat "$dir/run.out" >&2; fail "daemon run exited $rc (want 0: the server must survive its step)"; }
[ -n "$pids" ] || fail "the step's record lists nothing left running"
server=""
for p in $pids; do grep -q "http.server" "/proc/$p/cmdline" 2>/dev/null && server=$p; done
[ -n "$server" ] || fail "the server ($pids) is not running after the run"
contains "$dir/run.out" "[check] succeeded"
contains "$dir/run.out" "left running: pid $server ("
answers "http://127.0.0.1:$port/" || fail "the server does not answer after the run"
expect_rc 0 "$dir/status.out" -- "$RB" status --state-dir "$dir/.rollback"
contains "$dir/status.out" "left running: pid $server ("
contains "$dir/status.out" "-m http.server $port --bind 127.0.0.1)"
kill "$server"
for _ in $(seq 1 50); do running "$server" || break; sleep 0.1; done
! running "$server" || fail "the server did not stop on TERM"
pass "exec: a daemon started with nohup … & survives its step, the http check passes, status lists it"

# --- 2. service, manager = "command": a start script that forks the daemon ------------------
port=$(free_port)
dir=$WORK/service
mkdir -p "$dir"
cat >"$dir/start.sh" <<SH
#!/bin/sh
# like an old release's start script: fork the server, return at once
$py -m http.server $port --bind 127.0.0.1 >server.log 2>&1 &
echo \$! >server.pid
SH
chmod +x "$dir/start.sh"
cat >"$dir/pb.toml" <<TOML
[playbook]
name = "service"
[[step]]
id = "start-app"
action = "service"
manager = "command"
op = "start"
start = ["./start.sh"]
wait_healthy = { url = "http://127.0.0.1:$port/", timeout = "20s", interval = "250ms" }
TOML
rc=0
(cd "$dir" && "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1) || rc=$?
[ -f "$dir/server.pid" ] && stop_on_exit "$(cat "$dir/server.pid")"
[ $rc -eq 0 ] || { cat "$dir/run.out" >&2; fail "service start exited $rc"; }
server=$(cat "$dir/server.pid")
[ "$(left_pids "$(journal_of "$dir")" start-app)" = "$server" ] || fail "left_running is not the forked server $server"
answers "http://127.0.0.1:$port/" || fail "the forked server is not answering after the run"
kill "$server"
pass "service (command): a start script that forks the daemon: healthy, the daemon runs on, listed"

# --- 3. kill -9 of the engine mid-step: resume waits for the grandchild -------------------------
# worker.sh appends "<pid> <what> <ns>" lines: begin, a beat every 0.1 s, end. It stops after
# `beats` beats, or sooner once the file `release` exists: a scenario that needs the grandchild
# alive when the engine looks for it releases it only after the engine said it waits for it —
# however slow the engine starts (an ASan build takes a second or two per command).
make_worker_playbook() { # DIR TIMEOUT
    local d=$1
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
    cat >"$d/pb.toml" <<TOML
[playbook]
name = "grandchild"
[[step]]
id = "work"
action = "exec"
argv = ["sh", "-c", "sh ./worker.sh & wait"]
idempotent = true
timeout = "$2"
TOML
}
# Starts the run in DIR, kills the engine with SIGKILL once the worker has begun.
start_and_kill() { # DIR [RUN ARGS...]
    local d=$1
    shift
    (cd "$d" && exec "$RB" run -p pb.toml --yes "$@" </dev/null >run.out 2>&1) &
    local pid=$!
    for _ in $(seq 1 200); do [ -f "$d/effects" ] && [ "$(wc -l <"$d/effects")" -ge 2 ] && break; sleep 0.05; done
    [ "$(wc -l <"$d/effects")" -ge 2 ] || fail "the worker in $d never started"
    kill -9 $pid
    wait $pid 2>/dev/null || true
    local before
    before=$(wc -l <"$d/effects")
    sleep 0.4
    [ "$(wc -l <"$d/effects")" -gt "$before" ] || fail "the grandchild died with the engine: the scenario needs it alive"
}
# release_when_waited DIR OUT PID: once OUT says the engine (PID) waits for the survivors,
# lets the grandchild finish; then waits for the engine and returns its exit code.
release_when_waited() {
    local d=$1 out=$2 pid=$3 rc=0
    for _ in $(seq 1 600); do
        grep -q "waiting up to" "$out" 2>/dev/null && break
        running "$pid" || break
        sleep 0.1
    done
    touch "$d/release"
    wait "$pid" || rc=$?
    return $rc
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

dir=$WORK/wait
make_worker_playbook "$dir" 5m
echo 600 >"$dir/beats" # until released, at most 60 s
start_and_kill "$dir"
"$RB" resume --state-dir "$dir/.rollback" --yes </dev/null >"$dir/resume.out" 2>&1 &
rc=0
release_when_waited "$dir" "$dir/resume.out" $! || rc=$?
[ $rc -eq 0 ] || { cat "$dir/resume.out" >&2; fail "resume exited $rc"; }
check_sequential "$dir"
[ "$(grep -c " end " "$dir/effects")" -eq 2 ] || fail "the first attempt's worker should have finished by itself"
contains "$dir/resume.out" "processes of attempt 1 survived the engine"
contains "$dir/resume.out" "they ended by themselves"
grep -q '"type":"step_survivors".*"outcome":"exited"' "$(journal_of "$dir")" || fail "no step_survivors record"
expect_rc 0 "$dir/report.out" -- "$RB" report "$(basename "$(journal_of "$dir")" .jsonl)" --state-dir "$dir/.rollback"
contains "$dir/report.out" "step work: processes of attempt 1 survived the engine (pid "
pass "kill -9 mid-step: resume waited for the grandchild to finish before the second attempt"

dir=$WORK/term
make_worker_playbook "$dir" 2s
echo 300 >"$dir/beats" # 30 s: longer than the step's timeout
start_and_kill "$dir"
echo 3 >"$dir/beats"
start=$(date +%s%N)
expect_rc 0 "$dir/resume.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
took_ms=$((($(date +%s%N) - start) / 1000000))
check_sequential "$dir"
contains "$dir/resume.out" "ended them with SIGTERM"
[ $took_ms -ge 2000 ] && [ $took_ms -lt 15000 ] || fail "resume took ${took_ms} ms (want: the step's 2 s timeout of waiting, then TERM)"
pass "kill -9 mid-step: survivors past the step's timeout get SIGTERM before the second attempt (${took_ms} ms)"

dir=$WORK/abandon
make_worker_playbook "$dir" 5m
echo 600 >"$dir/beats" # until released, at most 60 s
start_and_kill "$dir"
expect_rc 4 "$dir/again.out" -- "$RB" run -p "$dir/pb.toml" --yes
contains "$dir/again.out" "died without finishing"
(cd "$dir" && exec "$RB" run -p pb.toml --yes --abandon-stale </dev/null >new.out 2>&1) &
rc=0
release_when_waited "$dir" "$dir/new.out" $! || rc=$?
[ $rc -eq 0 ] || { cat "$dir/new.out" >&2; fail "run --abandon-stale exited $rc"; }
check_sequential "$dir"
contains "$dir/new.out" "of the abandoned run"
dead=$(grep -l '"type":"step_survivors"' "$dir"/.rollback/runs/*.jsonl | wc -l)
[ "$dead" -eq 1 ] || fail "the abandoned run's journal should record its survivors"
# The dead run records that it was abandoned, and for which run (a typed record, not a note),
# in its hash chain; status and report show it.
dead_journal=$(grep -l '"type":"step_survivors"' "$dir"/.rollback/runs/*.jsonl)
dead_id=$(basename "$dead_journal" .jsonl)
new_id=$(grep -o 'run id: [0-9A-Za-z-]*' "$dir/new.out" | head -1 | cut -d' ' -f3)
[ -n "$new_id" ] || { cat "$dir/new.out" >&2; fail "no run id in the new run's output"; }
grep -q "\"type\":\"run_abandoned\",\"new_run\":\"$new_id\",\"by\":\"" "$dead_journal" ||
    fail "the abandoned run has no run_abandoned record naming $new_id"
! grep -q '"type":"note"' "$dead_journal" || fail "the abandoned run has a free-form note"
expect_rc 0 "$dir/verify.out" -- "$RB" audit verify "$dead_id" --state-dir "$dir/.rollback"
expect_rc 0 "$dir/dead_status.out" -- "$RB" status "$dead_id" --state-dir "$dir/.rollback"
contains "$dir/dead_status.out" "  abandoned for run $new_id, started with --abandon-stale by "
expect_rc 0 "$dir/dead_report.out" -- "$RB" report "$dead_id" --state-dir "$dir/.rollback"
contains "$dir/dead_report.out" "run abandoned for run $new_id, started with --abandon-stale"
pass "run --abandon-stale: the dead run's grandchild finished before the new run started the step"

# --- 4. a grandchild that left the group (setsid): found by the attempt token ------------------
# The step's program starts `setsid sh -c 'sleep 2; echo done ...'`: a new session, out of the
# step's group. kill -9 of the engine while it sleeps; resume must not start the step while it
# lives (before the token, the empty group let the second attempt start at once, beside it).
dir=$WORK/setsid
mkdir -p "$dir"
cat >"$dir/pb.toml" <<'TOML'
[playbook]
name = "setsid"
[[step]]
id = "work"
action = "exec"
argv = ["sh", "-c", "echo \"begin $(date +%s%N)\" >>effects; setsid sh -c 'sleep 2; echo \"done $(date +%s%N)\" >>effects' & wait"]
idempotent = true
timeout = "5m"
TOML
(cd "$dir" && exec "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1) &
pid=$!
for _ in $(seq 1 200); do grep -qs begin "$dir/effects" && break; sleep 0.05; done
grep -qs begin "$dir/effects" || fail "the setsid step never began"
sleep 0.3 # the setsid child is asleep
kill -9 $pid
wait $pid 2>/dev/null || true
grep -qs done "$dir/effects" && fail "the setsid child finished before the engine was killed: the scenario needs it alive"
expect_rc 0 "$dir/resume.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
python3 - "$dir/effects" <<'PY' || fail "attempts of step work overlapped: $(cat "$dir/effects")"
import sys
lines = [l.split() for l in open(sys.argv[1])]
assert [w for w, _ in lines] == ["begin", "done", "begin", "done"], lines
assert int(lines[1][1]) < int(lines[2][1]), lines
PY
contains "$dir/resume.out" "[left the group]"
contains "$dir/resume.out" "they ended by themselves"
grep -q '"type":"step_process".*"token":"[^"]*/work/1/[0-9a-f]\{16\}"' "$(journal_of "$dir")" || fail "step_process carries no attempt token"
grep -q '"type":"step_survivors".*"left_group":true.*"outcome":"exited"' "$(journal_of "$dir")" || fail "no step_survivors record naming the setsid child"
pass "kill -9 mid-step: resume waited for a setsid grandchild (found by its attempt token) before the second attempt"

# --- 5. a daemon that left the group on purpose, after a normal exit: left alone, listed ---------
dir=$WORK/setsid-daemon
mkdir -p "$dir"
cat >"$dir/pb.toml" <<'TOML'
[playbook]
name = "setsid-daemon"
[[step]]
id = "start"
action = "exec"
argv = ["sh", "-c", "setsid sleep 300 >/dev/null 2>&1 & echo $! >daemon.pid"]
TOML
expect_rc 0 "$dir/run.out" -- sh -c "cd '$dir' && exec '$RB' run -p pb.toml --yes </dev/null"
daemon=$(cat "$dir/daemon.pid")
stop_on_exit "$daemon"
running "$daemon" || fail "the setsid daemon did not survive its step's normal exit"
[ "$(left_pids "$(journal_of "$dir")" start)" = "$daemon" ] || fail "left_running is not the setsid daemon $daemon"
expect_rc 0 "$dir/status.out" -- "$RB" status --state-dir "$dir/.rollback"
contains "$dir/status.out" "left running: pid $daemon (sleep 300) [left the group]"
kill "$daemon"
pass "a daemon started with setsid survives its step's normal exit and is listed as having left the group"

# --- 6. a setsid daemon that rewrites its process title (perl $0, setproctitle) ------------------
# The rewrite overwrites /proc/<pid>/environ, and with it the attempt token: the inherited attempt
# mark (a descriptor) still names it — for resume, for a timeout, and in left_running.
if command -v perl >/dev/null; then
dir=$WORK/title
mkdir -p "$dir"
cat >"$dir/pb.toml" <<'TOML'
[playbook]
name = "title"
[[step]]
id = "work"
action = "exec"
idempotent = true
timeout = "20s"
argv = ["sh", "-c", "setsid perl -e 'open L,\">>log\"; L->autoflush(1); print L \"start $$\\n\"; $0 = \"worker \" . \"x\" x 3000; sleep 3; print L \"end $$\\n\"' & wait"]
TOML
(cd "$dir" && exec "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1) &
pid=$!
for _ in $(seq 1 200); do grep -qs start "$dir/log" && break; sleep 0.05; done
grep -qs start "$dir/log" || fail "the title step never began"
sleep 0.5 # the worker has rewritten its title
worker=$(awk '/start/ {print $2; exit}' "$dir/log")
grep -qs ROLLBACK_STEP_ATTEMPT "/proc/$worker/environ" && fail "the worker's environment still carries the token: the scenario needs it gone"
kill -9 $pid
wait $pid 2>/dev/null || true
expect_rc 0 "$dir/resume.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
python3 - "$dir/log" <<'PY' || fail "attempts of step work overlapped: $(cat "$dir/log")"
import sys
words = [l.split()[0] for l in open(sys.argv[1])]
assert words == ["start", "end", "start", "end"], words
PY
grep -q '"type":"step_survivors".*"left_group":true' "$(journal_of "$dir")" || fail "no step_survivors record naming the retitled worker"
pass "kill -9 mid-step: resume waited for a setsid worker that rewrote its title (found by its attempt mark)"

dir=$WORK/title-timeout
mkdir -p "$dir"
cat >"$dir/pb.toml" <<'TOML'
[playbook]
name = "title-timeout"
[[step]]
id = "w"
action = "exec"
timeout = "1s"
argv = ["sh", "-c", "setsid perl -e '$0 = \"worker \" . \"x\" x 3000; open P, \">worker.pid\"; print P $$; close P; sleep 4; open L, \">>alive\"; print L \"ran after the timeout\\n\"' & sleep 100"]
TOML
rc=0
(cd "$dir" && exec "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1) || rc=$?
[ $rc -eq 1 ] || { cat "$dir/run.out" >&2; fail "title-timeout run exited $rc (want 1)"; }
contains "$dir/run.out" "timed_out"
worker=$(cat "$dir/worker.pid")
# SIGTERM was sent before the run ended; on a loaded machine the worker may take a moment to die.
for _ in $(seq 1 30); do running "$worker" || break; sleep 0.1; done
running "$worker" && { kill -9 "$worker"; fail "the retitled worker outlived its step's timeout"; }
sleep 3.5
[ -e "$dir/alive" ] && fail "the retitled worker kept working after the timeout"
pass "a timeout ends a setsid worker that rewrote its title"

dir=$WORK/title-left
mkdir -p "$dir"
cat >"$dir/pb.toml" <<'TOML'
[playbook]
name = "title-left"
[[step]]
id = "start"
action = "exec"
argv = ["sh", "-c", "setsid perl -e '$0 = \"worker \" . \"x\" x 3000; open P, \">worker.pid.tmp\"; print P $$; close P; rename \"worker.pid.tmp\", \"worker.pid\"; sleep 300' >/dev/null 2>&1 & while [ ! -e worker.pid ]; do sleep 0.01; done"]
TOML
expect_rc 0 "$dir/run.out" -- sh -c "cd '$dir' && exec '$RB' run -p pb.toml --yes </dev/null"
worker=$(cat "$dir/worker.pid")
stop_on_exit "$worker"
running "$worker" || fail "the retitled daemon did not survive its step's normal exit"
[ "$(left_pids "$(journal_of "$dir")" start)" = "$worker" ] || fail "left_running is not the retitled daemon $worker: $(left_pids "$(journal_of "$dir")" start)"
kill "$worker"
pass "a setsid daemon that rewrote its title is listed in left_running"
fi

# --- 7. a daemon that keeps writing to the step's output after the step ended -------------------
# `nohup` redirects only a terminal: the daemon's stdout is the engine's pipe. After the drain
# window a drainer reads it, so the daemon's next write does not kill it (SIGPIPE).
dir=$WORK/ticker
mkdir -p "$dir"
cat >"$dir/pb.toml" <<'TOML'
[playbook]
name = "ticker"
[[step]]
id = "d"
action = "exec"
argv = ["sh", "-c", "nohup sh -c 'while :; do echo tick; echo tick >>ticks; sleep 0.2; done' & echo started"]
TOML
expect_rc 0 "$dir/run.out" -- sh -c "cd '$dir' && exec '$RB' run -p pb.toml --yes </dev/null"
pids=$(left_pids "$(journal_of "$dir")" d)
for p in $pids; do stop_on_exit $p; done
[ -n "$pids" ] || fail "the ticker is not listed as left running"
sleep 1.5
n=$(wc -l <"$dir/ticks")
[ "$n" -ge 6 ] || fail "the ticker died after $n writes: its output pipe was closed under it"
loop=""
for p in $pids; do grep -qs while "/proc/$p/cmdline" && loop=$p; done
[ -n "$loop" ] || fail "the ticker's loop ($pids) is gone 1.5 s after the run"
for p in $pids; do kill "$p" 2>/dev/null || true; done
pass "a daemon that writes to the step's output keeps running after the step (a drainer reads it)"
