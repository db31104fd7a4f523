#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it round 30, what a resume does after a crash (docs/playbook.md "Outcomes" and
# "Variables of a resumed run", docs/actions.md http and approve):
#  18  a failed run killed during its [[finally]] step: a bare resume runs the finally step (not
#      the failed step), the run ends failed (exit 1), and status's "next" says so;
#  06  resume goes on with the run's variables (--var, environment), refuses one that differs
#      from an explicit source now (exit 2) unless --allow-changed-vars;
#  13  an http GET check interrupted by a crash is re-run by resume without a person, and
#      --mark-done of a verify check that never passed is refused without --force;
#  10  a corrupt approval answer file does not stop the run: it keeps waiting, ends with its
#      finally step and run_finished; status and approve --list keep working.
source "$(dirname "$0")/../support/itest.sh"

journal_of() { ls "$1"/.rollback/runs/*.jsonl | head -1; }
# wait_for DIR TEXT: until the run's journal holds TEXT (at most 10 s).
wait_for() {
    for _ in $(seq 1 200); do
        j=$(ls "$1"/.rollback/runs/*.jsonl 2>/dev/null | head -1) || true
        if [ -n "$j" ] && grep -qF -- "$2" "$j"; then return 0; fi
        sleep 0.05
    done
    fail "$1: the journal never held $2"
}
# start DIR ARGS...: rollback run in DIR in the background; sets pid.
start() {
    local d=$1
    shift
    (cd "$d" && exec "$RB" run -p pb.toml --yes "$@" </dev/null >run.out 2>&1) &
    pid=$!
    stop_on_exit "$pid"
}
kill9() { kill -9 "$1"; { wait "$1"; } 2>/dev/null || true; }

# --- 18: finally interrupted in a failed run
d=$WORK/finally
mkdir -p "$d"
cat >"$d/pb.toml" <<'TOML'
[playbook]
name = "finally-after-failure"
[[step]]
id = "bad"
action = "exec"
argv = ["sh", "-c", "echo bad >> out; exit 1"]
[[step]]
id = "after"
action = "exec"
argv = ["sh", "-c", "echo after >> out"]
[[finally]]
id = "maint-off"
action = "exec"
argv = ["sh", "-c", "sleep 1; echo maint-off >> out"]
idempotent = true
TOML
start "$d"
wait_for "$d" '"type":"step_started","step":"maint-off"'
kill9 "$pid"
expect_rc 0 "$d/status1.out" -- "$RB" status --state-dir "$d/.rollback"
contains "$d/status1.out" "(runs the finally steps that did not finish; step bad failed: it runs again only with --retry bad or when it has retries left)"
expect_rc 1 "$d/resume.out" -- "$RB" resume --state-dir "$d/.rollback" --yes
[ "$(tr '\n' ' ' <"$d/out")" = "bad maint-off " ] || fail "18: out = $(cat "$d/out"); $(cat "$d/resume.out")"
contains "$d/resume.out" "failed (exit 1)"
expect_rc 0 "$d/status2.out" -- "$RB" status --state-dir "$d/.rollback"
contains "$d/status2.out" "next: fix the cause, then: rollback resume"
contains "$d/status2.out" "--retry bad"
expect_rc 2 "$d/resume2.out" -- "$RB" resume --state-dir "$d/.rollback" --yes
contains "$d/resume2.out" 'stopped because step "bad" failed'
pass "18: a failed run's interrupted finally step is finished by resume; the failed step is not run"

# --- 06: the run's variables
vars_case() { # DIR
    mkdir -p "$1"
    cat >"$1/pb.toml" <<'TOML'
[playbook]
name = "vars"
[vars]
release = { env = "TARGET_RELEASE", default = "v0" }
[[step]]
id = "code"
action = "exec"
argv = ["sh", "-c", 'echo "code $R" >> out.txt']
env = { R = "{{release}}" }
[[step]]
id = "pause"
action = "exec"
argv = ["sh", "-c", "sleep 5"]
idempotent = true
[[step]]
id = "config"
action = "exec"
argv = ["sh", "-c", 'echo "config $R" >> out.txt']
env = { R = "{{release}}" }
TOML
}
d=$WORK/vars-flag
vars_case "$d"
start "$d" --var release=v1
wait_for "$d" '"type":"step_started","step":"pause"'
kill9 "$pid"
grep -q '"vars":\[{"name":"release","origin":"--var","value":"v1"}\]' "$(journal_of "$d")" ||
    fail "06: run_started does not record the variable: $(head -c 2000 "$(journal_of "$d")")"
(unset TARGET_RELEASE; expect_rc 0 "$d/resume.out" -- "$RB" resume --state-dir "$d/.rollback" --yes)
[ "$(tr '\n' ' ' <"$d/out.txt")" = "code v1 config v1 " ] || fail "06: $(cat "$d/out.txt"); $(cat "$d/resume.out")"
contains "$d/resume.out" "variable release = \"v1\" (the run's, from --var"

d=$WORK/vars-env
vars_case "$d"
(cd "$d" && TARGET_RELEASE=v1 exec "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1) &
pid=$!
stop_on_exit "$pid"
wait_for "$d" '"type":"step_started","step":"pause"'
kill9 "$pid"
echo 'TARGET_RELEASE=v2' >"$d/.env"
expect_rc 2 "$d/refused.out" -- "$RB" resume --state-dir "$d/.rollback" --yes
contains "$d/refused.out" '"release": "v1" at the run (env TARGET_RELEASE), "v2" now (.env TARGET_RELEASE)'
contains "$d/refused.out" "--allow-changed-vars"
[ "$(cat "$d/out.txt")" = "code v1" ] || fail "06: a refused resume ran something: $(cat "$d/out.txt")"
expect_rc 2 "$d/refused2.out" -- env TARGET_RELEASE=v3 "$RB" resume --state-dir "$d/.rollback" --yes --var release=v4
contains "$d/refused2.out" '"v4" now (--var)'
expect_rc 0 "$d/resume.out" -- "$RB" resume --state-dir "$d/.rollback" --yes --allow-changed-vars
[ "$(tr '\n' ' ' <"$d/out.txt")" = "code v1 config v2 " ] || fail "06: $(cat "$d/out.txt")"
contains "$d/resume.out" "variables CHANGED since the run"
grep -q '"type":"run_resumed".*"vars_changed":\["release"\]' "$(journal_of "$d")" ||
    fail "06: run_resumed does not name the changed variable"
pass "06: resume goes on with the run's variables; a different explicit value is refused unless allowed"

# --- 13: a read-only check interrupted by a crash
d=$WORK/check
mkdir -p "$d"
port=$(free_port)
cat >"$d/pb.toml" <<TOML
[playbook]
name = "check"
[[step]]
id = "health"
phase = "verify"
action = "http"
url = "http://127.0.0.1:$port/health"
attempts = 30
interval = "200ms"
TOML
start "$d"
wait_for "$d" '"type":"step_started","step":"health"'
sleep 0.5
kill9 "$pid"
expect_rc 2 "$d/mark.out" -- "$RB" resume --state-dir "$d/.rollback" --yes --mark-done health --reason "it happened"
contains "$d/mark.out" "never passed"
contains "$d/mark.out" "--force"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$d" >/dev/null 2>&1 &
srv=$!
stop_on_exit "$srv"
echo ok >"$d/health"
expect_rc 0 "$d/resume.out" -- "$RB" resume --state-dir "$d/.rollback" --yes
contains "$d/resume.out" "succeeded"
pass "13: an interrupted GET check is re-run by resume; --mark-done of an unpassed check is refused"

# --- 10: a corrupt approval answer file
d=$WORK/gate
mkdir -p "$d"
cat >"$d/pb.toml" <<'TOML'
[playbook]
name = "gate"
[[step]]
id = "gate"
action = "approve"
message = "ok?"
timeout = "3s"
[[finally]]
id = "f"
action = "exec"
argv = ["sh", "-c", "echo fin >> out"]
TOML
start "$d"
wait_for "$d" '"stage":"approval_requested"'
run=$(basename "$(journal_of "$d")" .jsonl)
echo '{"answer": ' >"$d/.rollback/runs/$run/gates/gate.answer.json"
sleep 0.5
expect_rc 0 "$d/status.out" -- "$RB" status --state-dir "$d/.rollback"
contains "$d/status.out" "malformed approval gate file: not valid JSON"
expect_rc 0 "$d/list.out" -- "$RB" approve --list --state-dir "$d/.rollback"
contains "$d/list.out" "unreadable"
rc=0
{ wait "$pid"; } 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "10: the run exited $rc; $(cat "$d/run.out")"
[ "$(cat "$d/out")" = "fin" ] || fail "10: the finally step did not run"
grep -q '"type":"run_finished"' "$(journal_of "$d")" || fail "10: no run_finished"
grep -q '"answer_unreadable"' "$(journal_of "$d")" || fail "10: the unreadable answer is not journaled"
lacks "$d/run.out" "boost"
lacks "$d/status.out" "boost"
pass "10: a corrupt answer file is no answer; the run ends with its finally step"
