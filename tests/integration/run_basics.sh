#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# validate / plan / run on real processes: dry runs change nothing, confirmation, timeouts that
# leave no process behind, retries, continue/abort, finally, SIGINT, selection, injection, secrets.
source "$(dirname "$0")/../support/itest.sh"

cp -r "$SRC/examples/hello" "$WORK/hello"
sed -i "s#hooks_dir = \"../../hooks\"#hooks_dir = \"$SRC/hooks\"#" "$WORK/hello/hello.toml"
PB=$WORK/hello/hello.toml
export HELLO_TOKEN="tok-$RANDOM-sekrit"

expect_rc 0 "$WORK/v.out" -- "$RB" validate "$PB"
contains "$WORK/v.out" "ok (7 steps, 1 finally)"
pass "validate"

# plan and --dry-run create nothing: no journal, no step effect
expect_rc 0 "$WORK/p.out" -- "$RB" plan -p "$PB"
contains "$WORK/p.out" "Runnable: yes"
contains "$WORK/p.out" "announce"
contains "$WORK/p.out" "token    = ***"
lacks "$WORK/p.out" "$HELLO_TOKEN"
expect_rc 0 "$WORK/d.out" -- "$RB" run --dry-run -p "$PB"
[ ! -e "$WORK/hello/maintenance.flag" ] && [ ! -e "$WORK/hello/current-release" ] || fail "dry run changed files"
[ ! -d "$WORK/hello/.rollback/runs" ] || fail "dry run wrote a journal"
pass "plan and --dry-run change nothing"

# no terminal, no --yes: refuse
expect_rc 2 "$WORK/r.out" -- "$RB" run -p "$PB"
contains "$WORK/r.out" "stdin is not a terminal"
[ ! -e "$WORK/hello/current-release" ] || fail "ran without confirmation"
pass "refuses without confirmation"

# the real run, piped: one line per event; the secret never shows
expect_rc 0 "$WORK/run.out" -- "$RB" run -p "$PB" --yes --reason "integration test"
contains "$WORK/run.out" "[announce] succeeded"
contains "$WORK/run.out" "[page-if-critical] skipped: when: severity == 'critical' is false"
lacks "$WORK/run.out" "$HELLO_TOKEN"
[ "$(cat "$WORK/hello/current-release")" = v1 ] || fail "revert did not run"
[ ! -e "$WORK/hello/maintenance.flag" ] || fail "finally did not run"
lacks "$WORK/hello/.rollback/rollback.log" "$HELLO_TOKEN"
for j in "$WORK"/hello/.rollback/runs/*.jsonl; do lacks "$j" "$HELLO_TOKEN"; contains "$j" "authenticated with ***"; done
expect_rc 0 "$WORK/runv.out" -- "$RB" run -p "$PB" --yes -v
contains "$WORK/runv.out" "authenticated with ***"
lacks "$WORK/runv.out" "$HELLO_TOKEN"
expect_rc 0 "$WORK/json.out" -- "$RB" run -p "$PB" --yes --json --severity critical
lacks "$WORK/json.out" "$HELLO_TOKEN"
contains "$WORK/json.out" '"type":"step_finished","step":"page-if-critical"'
contains "$WORK/json.out" '"type":"summary"'
pass "run, secrets masked in output, log, journal and --json"

# --- behaviours on small playbooks ------------------------------------------------------------
mkdir -p "$WORK/pb"
cat >"$WORK/pb/timeout.toml" <<'TOML'
[playbook]
name = "timeout"
# (Durations no other test uses: pgrep looks at the whole machine, and unit tests run beside
# this one start their own `sleep 1000` — seen failing this check under ctest -j2.)
[[step]]
id = "hang"
action = "exec"
argv = ["sh", "-c", "sleep 1000.0271 & sleep 1001.0271"]
timeout = "1s"
[[finally]]
id = "after"
action = "exec"
argv = ["touch", "finally-ran"]
TOML
start=$(date +%s)
expect_rc 1 "$WORK/t.out" -- "$RB" run -p "$WORK/pb/timeout.toml" --yes
contains "$WORK/t.out" "[hang] timed_out"
sleep 0.3
if pgrep -f "sleep 100[01][.]0271" >/dev/null; then pgrep -af "sleep 100[01][.]0271" >&2; fail "timed-out step left processes behind"; fi
[ -e "$WORK/pb/finally-ran" ] || fail "finally did not run after failure"
[ $(( $(date +%s) - start )) -lt 10 ] || fail "timeout took too long"
pass "timeout kills the whole group (grandchildren included); finally runs after failure"

cat >"$WORK/pb/retry.toml" <<'TOML'
[playbook]
name = "retry"
[[step]]
id = "flaky"
action = "exec"
argv = ["sh", "-c", "echo x >> attempts; [ $(wc -l < attempts) -ge 3 ]"]
retries = 2
retry_delay = "50ms"
[[step]]
id = "tolerated"
action = "exec"
argv = ["false"]
on_failure = "continue"
[[step]]
id = "after-tolerated"
action = "exec"
argv = ["touch", "continued"]
[[step]]
id = "fatal"
action = "exec"
argv = ["sh", "-c", "exit 7"]
[[step]]
id = "never"
action = "exec"
argv = ["touch", "never-ran"]
TOML
expect_rc 1 "$WORK/re.out" -- "$RB" run -p "$WORK/pb/retry.toml" --yes
[ "$(wc -l <"$WORK/pb/attempts")" -eq 3 ] || fail "flaky step should run exactly 3 times"
contains "$WORK/re.out" "[flaky] succeeded"
contains "$WORK/re.out" "[tolerated] failed"
[ -e "$WORK/pb/continued" ] || fail "on_failure=continue did not go on"
contains "$WORK/re.out" "[fatal] failed"
contains "$WORK/re.out" "exit 7"
[ ! -e "$WORK/pb/never-ran" ] || fail "abort did not stop the run"
contains "$WORK/re.out" "failed (exit 1)"
pass "retries with backoff; continue goes on; abort stops with exit 1"

# selection: --only / --skip / --from, unknown ids rejected
rm -f "$WORK/pb/attempts" "$WORK/pb/continued"
expect_rc 2 "$WORK/s.out" -- "$RB" run -p "$WORK/pb/retry.toml" --yes --only flakyy
contains "$WORK/s.out" 'no step "flakyy"'
contains "$WORK/s.out" 'did you mean "flaky"?'
expect_rc 0 "$WORK/s.out" -- "$RB" run -p "$WORK/pb/retry.toml" --yes --only after-tolerated
[ -e "$WORK/pb/continued" ] && [ ! -e "$WORK/pb/attempts" ] || fail "--only ran the wrong steps"
contains "$WORK/s.out" "[flaky] skipped: not in --only"
rm -f "$WORK/pb/continued"
expect_rc 0 "$WORK/s.out" -- "$RB" run -p "$WORK/pb/retry.toml" --yes --from after-tolerated --skip fatal,never
[ -e "$WORK/pb/continued" ] && [ ! -e "$WORK/pb/attempts" ] && [ ! -e "$WORK/pb/never-ran" ] || fail "--from/--skip"
pass "--only, --skip, --from select steps; unknown ids are an error"

# injection stays text
cat >"$WORK/pb/inject.toml" <<'TOML'
[playbook]
name = "inject"
[vars]
evil = "$(touch pwned); touch pwned2 `touch pwned3`"
[[step]]
id = "echo"
action = "exec"
argv = ["sh", "-c", "printf '%s' \"$1\" > got", "sh", "{{evil}}"]
TOML
expect_rc 0 "$WORK/i.out" -- "$RB" run -p "$WORK/pb/inject.toml" --yes
[ ! -e "$WORK/pb/pwned" ] && [ ! -e "$WORK/pb/pwned2" ] && [ ! -e "$WORK/pb/pwned3" ] || fail "injection executed"
[ "$(cat "$WORK/pb/got")" = '$(touch pwned); touch pwned2 `touch pwned3`' ] || fail "value was altered"
pass "variables are argv text, never shell"

# SIGINT: forwarded to the step's group, finally runs, exit 130
cat >"$WORK/pb/sigint.toml" <<'TOML'
[playbook]
name = "sigint"
[[step]]
id = "long"
action = "exec"
argv = ["sh", "-c", "sleep 1002.0271 & sleep 1003.0271"]
timeout = "60s"
[[step]]
id = "after"
action = "exec"
argv = ["touch", "after-ran"]
[[finally]]
id = "cleanup"
action = "exec"
argv = ["touch", "cleanup-ran"]
TOML
rm -f "$WORK/pb/cleanup-ran"
"$RB" run -p "$WORK/pb/sigint.toml" --yes </dev/null >"$WORK/int.out" 2>&1 &
pid=$!
for _ in $(seq 50); do pgrep -f "sleep 1003[.]0271" >/dev/null && break; sleep 0.1; done
kill -INT $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 130 ] || { cat "$WORK/int.out" >&2; fail "SIGINT should exit 130, got $rc"; }
[ -e "$WORK/pb/cleanup-ran" ] || fail "finally did not run after SIGINT"
[ ! -e "$WORK/pb/after-ran" ] || fail "steps after the interrupt ran"
sleep 0.3
! pgrep -f "sleep 100[23][.]0271" >/dev/null || fail "interrupted step left processes"
contains "$WORK/int.out" "interrupted by SIGINT"
pass "SIGINT: forwarded, finally runs, exit 130"

# every invalid TOML document: a located error and exit 2, never a crash
n=0
while IFS= read -r -d '' f; do
    rc=0
    "$RB" validate "$f" </dev/null >"$WORK/inv.out" 2>&1 || rc=$?
    [ $rc -eq 2 ] || { cat "$WORK/inv.out" >&2; fail "$f: expected exit 2, got $rc"; }
    grep -qE "^$(printf '%s' "$f" | sed 's/[][\.*^$]/\\&/g'):[0-9]+:[0-9]+: error: " "$WORK/inv.out" ||
        { cat "$WORK/inv.out" >&2; fail "$f: no located error"; }
    n=$((n + 1))
done < <(find "$SRC/tests/data/toml-invalid" -name '*.toml' -print0)
[ $n -gt 400 ] || fail "only $n invalid TOML files found"
pass "$n invalid TOML files: located error, exit 2"
