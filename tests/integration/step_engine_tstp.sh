#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 11: Ctrl-Z (SIGTSTP) of the engine while a step runs stops the step's programs too (they
# lead a process group of their own, which the terminal's SIGTSTP does not reach), SIGCONT
# continues both, and the time they were held does not count against the step's timeout: the
# step ends as it would have without the stop. docs/actions.md "Signals". Before: the engine
# stopped and the program went on (and, once continued, the engine found the deadline passed).
source "$(dirname "$0")/../support/itest.sh"

d=$WORK/tstp
mkdir -p "$d"
# About 1 s of running time in 10 ticks; a timeout of 6 s leaves room for a loaded machine.
cat >"$d/pb.toml" <<'TOML'
[playbook]
name = "tstp"
[[step]]
id = "long"
action = "exec"
argv = ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do echo tick >> ticks; sleep 0.1; done; echo done >> out"]
timeout = "6s"
TOML
# A process group of its own under this shell (job control), as a shell gives a job: a group
# whose members' parent is outside it in the same session is not orphaned, so the kernel does
# not drop the SIGTSTP.
set -m
(cd "$d" && exec "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1) &
pid=$!
set +m
stop_on_exit "$pid"
# First at exit (a failure while it is stopped): continued, the engine continues the step's group
# and then ends it on the SIGTERM of stop_on_exit.
_cleanups=("kill -CONT $pid 2>/dev/null" "${_cleanups[@]}")
j=
for _ in $(seq 1 250); do
    j=$(ls "$d"/.rollback/runs/*.jsonl 2>/dev/null | head -1) || true
    if [ -n "$j" ] && grep -q '"type":"step_process"' "$j"; then break; fi
    sleep 0.02
done
pgid=$(grep -o '"type":"step_process".*' "$j" | grep -o '"pgid":[0-9]*' | head -1 | cut -d: -f2)
[ -n "$pgid" ] || fail "no step_process record: $(cat "$j")"
for _ in $(seq 1 250); do # the program runs (not only its group's leader, waiting to start)
    [ -s "$d/ticks" ] && break
    sleep 0.02
done
kill -TSTP "$pid"
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo gone; }
for _ in $(seq 1 250); do
    [ "$(state "$pid")" = T ] && break
    sleep 0.02
done
if [ "$(state "$pid")" != T ]; then
    kill -CONT "$pid" 2>/dev/null || true
    echo "skipped: the engine did not stop on SIGTSTP (its process group is orphaned here: the kernel drops the signal)"
    exit 125
fi
# Every process of the step's group: stopped (its members found by their group id).
members() {
    for s in /proc/[0-9]*/stat; do
        { read -r line <"$s"; } 2>/dev/null || continue
        rest=${line##*) }
        set -- $rest
        [ "$3" = "$pgid" ] && echo "${s//[^0-9]/} $1"
    done
    return 0
}
sleep 0.2 # the handler stops the group before the engine itself
members >"$d/members1"
if [ ! -s "$d/members1" ] && [ -e "$d/out" ]; then
    kill -CONT "$pid"
    echo "skipped: the program ended before the engine was stopped (machine too loaded)"
    exit 125
fi
[ -s "$d/members1" ] || fail "the step's group $pgid has no process (did the step end?): $(cat "$j")"
if grep -v ' T$' "$d/members1" >"$d/running"; then
    fail "Ctrl-Z stopped the engine but not the step's programs (pid state): $(cat "$d/running")"
fi
ticks1=$(wc -l <"$d/ticks")
sleep 7 # past the step's 6 s timeout, and past the program's own 1 s
ticks2=$(wc -l <"$d/ticks")
[ "$ticks1" = "$ticks2" ] || fail "the step's program ran while the engine was stopped ($ticks1 -> $ticks2 ticks)"
[ ! -e "$d/out" ] || fail "the step's program finished while the engine was stopped"
! grep -q '"type":"step_finished"' "$j" || fail "a step finished while the engine was stopped: $(cat "$j")"
kill -CONT "$pid"
rc=0
{ wait "$pid"; } 2>/dev/null || rc=$?
[ "$rc" = 0 ] || fail "exit $rc after SIGCONT (the held time counted against the timeout?): $(cat "$d/run.out")"
grep -q '"type":"step_finished".*"status":"succeeded"' "$j" || fail "the step did not succeed: $(cat "$j")"
lacks "$j" '"timed_out"'
[ "$(cat "$d/out")" = done ] || fail "the program did not finish"
[ "$(wc -l <"$d/ticks")" = 10 ] || fail "ticks: $(wc -l <"$d/ticks")"
pass "Ctrl-Z stops the step's programs with the engine, SIGCONT continues both, the stop is not counted in the timeout"
