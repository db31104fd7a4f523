#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Approval gates inside a playbook (issue 13): `action = "approve"` pauses the run (journaled,
# on-approval hooks told, `status` names who is awaited), and it continues on `rollback approve
# RUN_ID STEP`, fails on `--reject`, or takes `on_timeout` when nobody answers. Only a listed
# approver may answer, once. A run killed (-9) while paused resumes into the same gate (same
# expiry) and goes on with an answer given meanwhile.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
source "$SRC/tests/support/monitor_server.sh"
recording_hook record

write_playbook() { # timeout on_timeout approvers
    cat > pb.toml <<TOML
[playbook]
name = "gate"
hooks_dir = "hooks"
[playbook.hooks]
on-approval = ["record"]
[[step]]
id = "before"
phase = "immediate"
action = "exec"
argv = ["sh", "-c", "echo before >> effects"]
[[step]]
id = "gate"
phase = "database"
action = "approve"
message = "restore the shop database?"
approvers = $3
timeout = "$1"
on_timeout = "$2"
[[step]]
id = "after"
phase = "database"
action = "exec"
argv = ["sh", "-c", "echo after >> effects"]
TOML
}
run_id() { basename "$(ls -t .rollback/runs/*.jsonl | head -1)" .jsonl; }
wait_for_gate() { # run in the background, wait until the gate is open
    for _ in $(seq 200); do
        [ -n "$(ls .rollback/runs/*/gates/gate.request.json 2>/dev/null)" ] && return 0
        sleep 0.05
    done
    fail "the gate did not open"
}
me=$(id -un)

# --- approve: the run waits, status shows who, approve lets it go on ----------------------------
write_playbook 1m reject "[\"$me\", \"someone-else\"]"
expect_rc 0 validate.out -- "$RB" validate pb.toml
USER=$me "$RB" run -p pb.toml --yes > run1.out 2>&1 &
pid=$!
wait_for_gate
id=$(run_id)
expect_rc 0 status.out -- "$RB" status -p pb.toml
contains status.out "awaiting approval at step gate by $me or someone-else until"
contains status.out "restore the shop database?"
# The answer names the state, so it works from any directory (brk28 11).
contains status.out "answer: rollback approve $id gate --state-dir $PWD/.rollback [--reject]"
expect_rc 0 status.json -- "$RB" status -p pb.toml --json
python3 -c 'import json,sys; o=json.load(open("status.json")); a=o["awaiting_approval"]; assert len(a)==1 and a[0]["step"]=="gate" and a[0]["on_timeout"]=="reject", a' ||
    fail "status --json: $(cat status.json)"
[ "$(cat effects)" = before ] || fail "the step after the gate ran before an answer"
expect_rc 0 list.out -- "$RB" approve --list -p pb.toml
contains list.out "$id gate  pending"
contains list.out "rollback approve $id gate --state-dir $PWD/.rollback [--reject]"
expect_rc 0 list.json -- "$RB" approve --list -p pb.toml --json
python3 -c 'import json; r=[json.loads(l) for l in open("list.json")]; assert len(r)==1 and r[0]["kind"]=="gate" and r[0]["state"]=="pending", r' ||
    fail "approve --list --json: $(cat list.json)"
contains events.jsonl '"event":"on-approval"'
contains events.jsonl "\"approve\":\"rollback approve $id gate --state-dir $PWD/.rollback\""
# Not an approver: refused, nothing written.
expect_rc 2 intruder.out -- env USER=mallory SUDO_USER= "$RB" approve -p pb.toml "$id" gate
contains intruder.out "mallory is not among the approvers of step gate"
[ ! -e ".rollback/runs/$id/gates/gate.answer.json" ] || fail "a refused answer was written"
# Unknown run: said so, not "no gate".
expect_rc 2 nowhere.out -- env USER="$me" SUDO_USER= "$RB" approve --state-dir "$PWD/.rollback" 20260101T000000Z-abcdef gate
contains nowhere.out "no run 20260101T000000Z-abcdef in $PWD/.rollback"
# The command as the hooks were given it, from another directory.
mkdir -p elsewhere
answer=$(python3 -c 'import json,sys
for l in open("events.jsonl"):
    l=l.strip()
    if l and "on-approval" in l: print(json.loads(l)["approve"]); break')
(cd elsewhere && env USER="$me" SUDO_USER= "$RB" ${answer#rollback } --reason "backup checked") > approve.out 2>&1 ||
    fail "the hooks' approve command failed from another directory: $(cat approve.out)"
contains approve.out "approved step gate of run $id as $me"
wait $pid || fail "the approved run failed: $(cat run1.out)"
[ "$(tr '\n' ' ' < effects)" = "before after " ] || fail "effects: $(cat effects)"
grep -q '"type":"step_progress".*"stage":"approval_requested"' ".rollback/runs/$id.jsonl" ||
    fail "the request is not journaled"
grep -q '"type":"step_finished".*"step":"gate".*approved by' ".rollback/runs/$id.jsonl" ||
    fail "the answer is not in the step's result"
expect_rc 2 again.out -- env USER="$me" "$RB" approve -p pb.toml "$id" gate
contains again.out "answered already: approved by $me"
pass "approve: the run waits, status names the approvers, one approver's answer lets it go on"

# --- reject: the step fails, the run stops before the next step -----------------------------------
rm -rf .rollback effects events.jsonl
write_playbook 1m approve "[]"
"$RB" run -p pb.toml --yes > run2.out 2>&1 &
pid=$!
wait_for_gate
id=$(run_id)
expect_rc 0 reject.out -- "$RB" approve -p pb.toml "$id" gate --reject --reason "not now"
set +e; wait $pid; rc=$?; set -e
[ "$rc" -eq 1 ] || fail "a rejected gate: run exited $rc, expected 1: $(cat run2.out)"
[ "$(cat effects)" = before ] || fail "the step after a rejected gate ran"
grep -q '"step":"gate".*rejected by .*not now' ".rollback/runs/$id.jsonl" || fail "no rejection in the journal"
pass "reject: the gate's step fails and the run stops"
# resume --retry of the gate asks again (the rejection is kept aside, not read again).
"$RB" resume -p pb.toml "$id" --retry gate --yes > retry.out 2>&1 &
pid=$!
for _ in $(seq 200); do
    [ -e ".rollback/runs/$id/gates/gate.request.1.json" ] &&
        [ -e ".rollback/runs/$id/gates/gate.request.json" ] && break
    sleep 0.05
done
[ -e ".rollback/runs/$id/gates/gate.request.1.json" ] || fail "the first request was not kept aside"
[ -e ".rollback/runs/$id/gates/gate.request.json" ] || fail "the retried gate did not open: $(cat retry.out)"
expect_rc 0 approve7.out -- "$RB" approve -p pb.toml "$id" gate
wait $pid || fail "the retried gate did not go on: $(cat retry.out)"
[ "$(tr '\n' ' ' < effects)" = "before after " ] || fail "effects after the retried gate: $(cat effects)"
pass "resume --retry GATE asks again"

# --- timeout: on_timeout decides ---------------------------------------------------------------------
rm -rf .rollback effects
write_playbook 1s approve "[]"
expect_rc 0 run3.out -- "$RB" run -p pb.toml --yes
[ "$(tr '\n' ' ' < effects)" = "before after " ] || fail "on_timeout = approve did not go on"
grep -q 'no answer by .*approved by default' ".rollback/runs/$(run_id).jsonl" || fail "no default recorded"
rm -rf .rollback effects
write_playbook 1s reject "[]"
expect_rc 1 run4.out -- "$RB" run -p pb.toml --yes
[ "$(cat effects)" = before ] || fail "on_timeout = reject went on"
id=$(run_id)
expect_rc 2 late.out -- "$RB" approve -p pb.toml "$id" gate
contains late.out "expired at"
pass "nobody answers: on_timeout approves or rejects, a late answer is refused"

# --- kill -9 while paused: resume opens the same gate, an answer given meanwhile lets it go on -----
rm -rf .rollback effects
write_playbook 1m reject "[]"
"$RB" run -p pb.toml --yes > run5.out 2>&1 &
pid=$!
wait_for_gate
id=$(run_id)
expires=$(python3 -c 'import json; print(json.load(open(".rollback/runs/'"$id"'/gates/gate.request.json"))["expires_at"])')
kill -9 $pid; wait $pid 2>/dev/null || true
# The answer is kept for the resume, but nothing waits now: said, exit 6.
expect_rc 6 approve5.out -- "$RB" approve -p pb.toml "$id" gate
contains approve5.out "is not running now"
expect_rc 0 resume.out -- "$RB" resume -p pb.toml "$id" --yes
[ "$(tr '\n' ' ' < effects)" = "before after " ] || fail "resume after an answer: $(cat effects)"
[ "$(python3 -c 'import json; print(json.load(open(".rollback/runs/'"$id"'/gates/gate.request.json"))["expires_at"])')" = "$expires" ] ||
    fail "the resumed gate has a new expiry"
pass "kill -9 while paused: resume keeps the gate and goes on with the answer given meanwhile"

# --- hostile input: a secret in the message, retries, an unbounded timeout, a forged name -------
rm -rf .rollback effects
cat > pb2.toml <<'TOML'
[playbook]
name = "gate2"
[vars]
tok = { env = "GATE_TOKEN", secret = true }
[[step]]
id = "gate"
phase = "database"
action = "approve"
message = "token {{tok}} ok?"
timeout = "1m"
TOML
GATE_TOKEN=ZZsecretValue99 "$RB" run -p pb2.toml --yes > run6.out 2>&1 &
pid=$!
wait_for_gate
id=$(run_id)
expect_rc 0 status6.out -- "$RB" status -p pb2.toml
lacks status6.out ZZsecretValue99
lacks ".rollback/runs/$id/gates/gate.request.json" ZZsecretValue99
expect_rc 2 forged.out -- env SUDO_USER= USER=$'eve\n18:00:00Z [gate] approved by alice' "$RB" approve -p pb2.toml "$id" gate
contains forged.out "control character"
expect_rc 0 reject6.out -- "$RB" approve -p pb2.toml "$id" gate --reject
wait $pid || true
sed -i 's/timeout = "1m"/timeout = "100000d"/' pb2.toml
expect_rc 2 long.out -- "$RB" validate pb2.toml
contains long.out "invalid duration"
sed -i 's/timeout = "100000d"/timeout = "1m"\nretries = 2/' pb2.toml
expect_rc 2 retries.out -- env GATE_TOKEN=x "$RB" validate pb2.toml
contains retries.out "an approval gate is not retried"
pass "a secret in the message is masked, a forged name refused, no unbounded timeout, no retries"
