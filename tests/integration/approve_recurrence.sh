#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mode = "confirm": the monitor asks (approval request + the notify hook), a person approves, the
# playbook runs naming the decision; `explain RUN_ID` leads back to the numbers. Then a rollback
# done by hand is noticed by the running monitor, and the condition firing again is reported as
# a recurrence (notify), not rolled back again.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
export NOTIFY_FILE=$WORK/notified.jsonl

cat > pb.toml <<TOML
[playbook]
name = "tiny"
hooks_dir = "$SRC/hooks"
[[step]]
id = "mark"
action = "exec"
argv = ["sh", "-c", "echo ran >> $WORK/runs.txt"]
TOML
write_config() { # $1 = mode, $2 = approval_timeout, $3 = interval
    cat > rollback.toml <<TOML
[target]
name = "shop"
[source.orders]
kind = "command"
argv = ["sh", "-c", "cat $WORK/value"]
[[condition]]
name = "corruption"
signal = "orders.value"
above = 5
severity = "critical"
[decision]
mode = "$1"
playbook = "pb.toml"
hooks = ["notify"]
approval_timeout = "$2"
interval = "$3"
cooldown = "1h"
watch_after = "1h"
TOML
}
runs() { if [ -f runs.txt ]; then wc -l < runs.txt; else echo 0; fi; }

# --- confirm: a request, told to the hook; nothing runs -------------------------------------
write_config confirm 1h 1s
echo 9 > value
expect_rc 5 once.out -- "$RB" monitor -c rollback.toml --once
contains once.out "approval requested: rollback approve "
id=$(sed -n 's/^approval requested: rollback approve \([^ ]*\) .*/\1/p' once.out)
[ -n "$id" ] || fail "no decision id in the request"
[ -f ".rollback/approvals/$id.json" ] || fail "no approval request file"
[ -f ".rollback/decisions/$id.json" ] || fail "the request names no decision record"
[ "$(runs)" -eq 0 ] || fail "confirm mode ran the playbook"
contains notified.jsonl '"event":"decision"'
contains notified.jsonl '"status":"request_approval"'
contains notified.jsonl "\"approve\":\"rollback approve $id"
pass "confirm mode: request recorded and sent to the hook"

expect_rc 0 list.out -- "$RB" approve -c rollback.toml --list
contains list.out "$id  pending"
expect_rc 0 list.json -- "$RB" approve -c rollback.toml --list --json
python3 - "$id" list.json <<'PY' || fail "approve --list --json: $(cat list.json)"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) == 1 and rows[0]["decision_id"] == sys.argv[1], rows
assert rows[0]["state"] == "pending" and rows[0]["condition"], rows
PY
expect_rc 2 bad.out -- "$RB" approve -c rollback.toml 20991231T000000.000Z-deadbeef --yes
contains bad.out "no approval request"

# --- approve: the run names the decision and the approver ------------------------------------
expect_rc 0 approve.out -- "$RB" approve -c rollback.toml "$id" --yes --reason "checked orders"
[ "$(runs)" -eq 1 ] || fail "approve did not run the playbook"
run_id=$(basename "$(ls .rollback/runs/*.jsonl)" .jsonl)
started=$(grep -h '"type":"run_started"' ".rollback/runs/$run_id.jsonl")
echo "$started" | grep -q '"kind":"approved"' || fail "run_started is not an approval: $started"
echo "$started" | grep -q "\"decision_id\":\"$id\"" || fail "run_started lacks the decision"
echo "$started" | grep -q 'approved by' || fail "run_started reason lacks the approver"
contains ".rollback/approvals/$id.json" '"state":"approved"'
contains ".rollback/approvals/$id.json" "\"run_id\":\"$run_id\""
expect_rc 2 again.out -- "$RB" approve -c rollback.toml "$id" --yes
contains again.out "approved already"
[ "$(runs)" -eq 1 ] || fail "a second approval ran the playbook again"
pass "approve: one run, named after the decision"

# --- explain: from the run to the numbers, and from the decision to the run ------------------
expect_rc 0 explain_run.out -- "$RB" explain -c rollback.toml "$run_id"
contains explain_run.out "Run $run_id was caused by decision $id"
contains explain_run.out 'Condition "corruption"'
contains explain_run.out "Observed: 9"
contains explain_run.out "Action taken:"
contains explain_run.out "run $run_id (tiny, trigger approved, succeeded"
expect_rc 0 explain_dec.out -- "$RB" explain -c rollback.toml "$id"
contains explain_dec.out "run $run_id"
contains explain_dec.out "approval request: approved by"
pass "explain RUN_ID and DECISION_ID link run and decision"

# --- an expired request is refused (stale evidence) -----------------------------------------
# (a new incident: the first request's cooldown, kept across --once runs, is forgotten)
rm -rf .rollback/approvals .rollback/decisions .rollback/monitor-policy.json
write_config confirm 1s 1s
expect_rc 5 once2.out -- "$RB" monitor -c rollback.toml --once
id2=$(sed -n 's/^approval requested: rollback approve \([^ ]*\) .*/\1/p' once2.out)
sleep 1.3
expect_rc 2 expired.out -- "$RB" approve -c rollback.toml "$id2" --yes
contains expired.out "expired at"
[ "$(runs)" -eq 1 ] || fail "an expired approval ran the playbook"
pass "an expired request is refused"

# --- recurrence: a rollback by hand, noticed by the running monitor ---------------------------
rm -rf .rollback notified.jsonl runs.txt
write_config auto 1h 1s
echo 1 > value
"$RB" monitor -c rollback.toml > loop.out 2>&1 &
mon_pid=$!
stop_on_exit $mon_pid
sleep 1.5
expect_rc 0 trig.out -- "$RB" trigger -c rollback.toml --condition security --reason "CVE in v2" --yes
[ "$(runs)" -eq 1 ] || fail "trigger did not run"
for _ in $(seq 1 30); do grep -q '"event":"run_noticed"' .rollback/monitor.jsonl 2>/dev/null && break; sleep 0.2; done
contains .rollback/monitor.jsonl '"event":"run_noticed"'
echo 9 > value
for _ in $(seq 1 40); do grep -q 'recurrence' notified.jsonl 2>/dev/null && break; sleep 0.2; done
kill -TERM $mon_pid; wait $mon_pid || true
[ "$(runs)" -eq 1 ] || { cat loop.out; fail "the recurrence was rolled back again ($(runs) runs)"; }
grep -l '"action":"notify"' .rollback/decisions/*.json | xargs grep -l 'recurrence within watch_after' >/dev/null \
    || { cat loop.out; fail "no recurrence decision record"; }
contains notified.jsonl '"status":"notify"'
contains notified.jsonl 'recurrence'
# Every tick is on record, "no action" included, and links to the full record when one was written.
ticks=$(ls .rollback/decisions/ticks-*.jsonl)
contains "$ticks" '"kind":"tick"'
contains "$ticks" '"action":"none","executed":false,"record":""'
contains "$ticks" '"action":"notify"'
[ "$(wc -l < "$ticks")" -ge 3 ] || fail "fewer tick lines than ticks"
pass "a recurrence after a rollback is reported, not rolled back again"
