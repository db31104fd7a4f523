#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 11: `rollback resume --mark-done STEP --force` of a verify check that never passed. The
# run then ends `succeeded` (exit 0: a person vouched for the service), but it is NOT verified,
# and everything that shows the run says so: resume's summary, status (text and --json), report
# (text, --json, --html), history, the journal (typed fields: step_marked_done "unverified",
# run_finished "not_verified") and the on-success hook's event. docs/actions.md "http",
# docs/journal.md. A run whose checks passed says none of it.
source "$(dirname "$0")/../support/itest.sh"

d=$WORK/forced
mkdir -p "$d/hooks"
cat >"$d/hooks/record" <<'SH'
#!/bin/sh
cat >> "$(dirname "$0")/../events.jsonl"
echo >> "$(dirname "$0")/../events.jsonl"
SH
chmod +x "$d/hooks/record"
cat >"$d/pb.toml" <<'TOML'
[playbook]
name = "forced"
[playbook.hooks]
on-success = ["record"]
[[step]]
id = "switch"
phase = "code"
action = "exec"
argv = ["sh", "-c", "echo switched >> out"]
[[step]]
id = "smoke"
phase = "verify"
action = "exec"
argv = ["sh", "-c", "test -f healthy"]
[[finally]]
id = "maint-off"
action = "exec"
argv = ["sh", "-c", "echo maint-off >> out"]
TOML
cp -r "$d" "$WORK/passed"

expect_rc 3 "$d/run.out" -- "$RB" run -p "$d/pb.toml" --yes
expect_rc 2 "$d/refused.out" -- "$RB" resume --state-dir "$d/.rollback" --yes --mark-done smoke --reason "checked by hand"
contains "$d/refused.out" "never passed"
expect_rc 0 "$d/resume.out" -- "$RB" resume --state-dir "$d/.rollback" --yes --mark-done smoke --force --reason "checked by hand"
contains "$d/resume.out" "succeeded, NOT verified (exit 0)"
contains "$d/resume.out" "not verified: smoke"

j=$(ls "$d"/.rollback/runs/*.jsonl | head -1)
run=$(basename "$j" .jsonl)
grep -q '"type":"step_marked_done","step":"smoke".*"unverified":true' "$j" ||
    fail "step_marked_done has no unverified: $(grep step_marked_done "$j")"
grep -q '"type":"run_finished","state":"succeeded".*"not_verified":\["smoke"\]' "$j" ||
    fail "run_finished has no not_verified: $(grep run_finished "$j")"

expect_rc 0 "$d/status.out" -- "$RB" status --state-dir "$d/.rollback"
contains "$d/status.out" "run $run: succeeded, NOT verified"
contains "$d/status.out" "not verified: smoke: marked done by "
contains "$d/status.out" "with --force (checked by hand); the check never passed"
expect_rc 0 "$d/status.json" -- "$RB" status --state-dir "$d/.rollback" --json
python3 - "$d/status.json" <<'PY' || fail "status --json: $(cat "$d/status.json")"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["state"] == "succeeded", o["state"]
nv = o["not_verified"]
assert [n["step"] for n in nv] == ["smoke"], nv
assert nv[0]["why"] == "checked by hand" and nv[0]["at"] and nv[0]["by"], nv
PY
expect_rc 0 "$d/report.out" -- "$RB" report "$run" --state-dir "$d/.rollback"
contains "$d/report.out" "succeeded, NOT verified"
contains "$d/report.out" "step smoke: marked done by"
contains "$d/report.out" "with --force: the check never passed, NOT verified"
contains "$d/report.out" "run finished: succeeded, NOT verified (smoke forced past)"
expect_rc 0 "$d/report.json" -- "$RB" report "$run" --state-dir "$d/.rollback" --json
python3 - "$d/report.json" <<'PY' || fail "report --json: $(head -c 3000 "$d/report.json")"
import json, sys
o = json.load(open(sys.argv[1]))
assert [n["step"] for n in o["run"]["not_verified"]] == ["smoke"], o["run"]["not_verified"]
fin = [r for r in o["timeline"] if r.get("type") == "run_finished"][-1]
assert fin["not_verified"] == ["smoke"], fin
PY
expect_rc 0 "$d/report.html" -- "$RB" report "$run" --state-dir "$d/.rollback" --html
contains "$d/report.html" "NOT verified</span>"
contains "$d/report.html" "<dt>not verified</dt><dd>smoke: marked done by"
expect_rc 0 "$d/history.out" -- "$RB" history --state-dir "$d/.rollback"
contains "$d/history.out" "[NOT verified: smoke (marked done by"
python3 - "$d/events.jsonl" <<'PY' || fail "on-success event: $(cat "$d/events.jsonl")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert [e["event"] for e in ev] == ["on-success"], ev
assert ev[0]["not_verified"] == ["smoke"], ev[0]
PY
pass "a verify check forced past ends the run succeeded, NOT verified, in every view"

# The same run whose check passes on the resume: verified, nothing of the above.
d=$WORK/passed
expect_rc 3 "$d/run.out" -- "$RB" run -p "$d/pb.toml" --yes
touch "$d/healthy"
expect_rc 0 "$d/resume.out" -- "$RB" resume --state-dir "$d/.rollback" --yes --retry smoke
expect_rc 0 "$d/status.out" -- "$RB" status --state-dir "$d/.rollback"
expect_rc 0 "$d/status.json" -- "$RB" status --state-dir "$d/.rollback" --json
for f in resume.out status.out; do
    lacks "$d/$f" "NOT verified"
    lacks "$d/$f" "not verified"
done
grep -q '"not_verified":\[\]' "$d/status.json" || fail "status --json: $(cat "$d/status.json")"
lacks "$(ls "$d"/.rollback/runs/*.jsonl | head -1)" "not_verified"
pass "a run whose check passed reads as verified"
