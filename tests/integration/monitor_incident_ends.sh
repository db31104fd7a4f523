#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What ends with an incident, with a real monitor (docs/decision.md "Decisions" and "trigger and
# monitor"):
#  - mode confirm: a request still pending when its incident resolves is withdrawn (state, when,
#    why); `approve` refuses it (exit 2, the evidence is stale) and runs nothing; --list and
#    explain show it. (A request whose incident is still open stays pending.)
#  - mode auto: after a rollback, the marker of the restored release keeps the recurrence watch
#    (a failure is a notify), a marker of a NEW release ends it: its failure is rolled back.
# Each part is bounded (~15 s).
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
# The monitor still running at exit is stopped; one already waited for is not signalled again
# (its pid may belong to another process by then).
mon=
on_exit '[ -z "$mon" ] || _stop_process "$mon"'

cat > pb.toml <<TOML
[playbook]
name = "tiny"
[[step]]
id = "mark"
action = "exec"
argv = ["sh", "-c", "echo ran >> $WORK/runs.txt"]
TOML
write_config() { # $1 = mode
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
resolve_after = "2s"
[decision]
mode = "$1"
playbook = "pb.toml"
approval_timeout = "1h"
interval = "1s"
cooldown = "1s"
watch_after = "1h"
TOML
}
runs() { if [ -f runs.txt ]; then wc -l < runs.txt; else echo 0; fi; }
# wait_for SECONDS FILE TEXT: until FILE contains TEXT (false when it does not in time)
wait_for() {
    local n=$(($1 * 5))
    for _ in $(seq 1 "$n"); do grep -qF -- "$3" "$2" 2>/dev/null && return 0; sleep 0.2; done
    return 1
}

# --- confirm: the request of an incident that resolved is withdrawn --------------------------
write_config confirm
echo 9 > value
"$RB" monitor -c rollback.toml > confirm.out 2>&1 &
mon=$!
wait_for 10 confirm.out "approval requested: rollback approve " || { cat confirm.out; fail "no request"; }
id=$(sed -n 's/^approval requested: rollback approve \([^ ]*\) .*/\1/p' confirm.out)
[ -n "$id" ] || fail "no decision id in the request"
sleep 2.2 # the incident is still open (breaching): the request stays
contains ".rollback/approvals/$id.json" '"state":"pending"'
echo 1 > value # healthy from here on: the incident resolves after resolve_after = 2s
wait_for 10 ".rollback/approvals/$id.json" '"state":"withdrawn"' \
    || { cat confirm.out; cat ".rollback/approvals/$id.json"; fail "the request was not withdrawn"; }
kill -TERM $mon; wait $mon || true; mon=
contains ".rollback/approvals/$id.json" '"withdrawn_reason":"the incident of condition \"corruption\" since '
contains ".rollback/approvals/$id.json" '"withdrawn_at":"20'
contains confirm.out "approval request $id withdrawn: the incident of condition \"corruption\""
contains .rollback/monitor.jsonl '"event":"approval_withdrawn"'
expect_rc 2 approve.out -- "$RB" approve -c rollback.toml "$id" --yes
contains approve.out "was withdrawn at"
contains approve.out "the evidence is stale"
contains approve.out "rollback trigger --condition corruption"
[ "$(runs)" -eq 0 ] || fail "a withdrawn request ran the playbook"
contains ".rollback/approvals/$id.json" '"state":"withdrawn"'
expect_rc 0 list.out -- "$RB" approve -c rollback.toml --list
contains list.out "$id  withdrawn"
contains list.out "withdrawn 20"
expect_rc 0 list.json -- "$RB" approve -c rollback.toml --list --json
contains list.json '"state":"withdrawn"'
expect_rc 0 explain.out -- "$RB" explain -c rollback.toml "$id"
contains explain.out "approval request: withdrawn at"
pass "confirm: a request whose incident resolved is withdrawn and refused"

# --- auto: a new release ends the recurrence watch ---------------------------------------------
rm -rf .rollback runs.txt
write_config auto
echo 1 > value
"$RB" deployed -c rollback.toml --release v1 > /dev/null
"$RB" monitor -c rollback.toml > auto.out 2>&1 &
mon=$!
sleep 1.2
"$RB" deployed -c rollback.toml --release v2 > /dev/null
sleep 1.2
echo 9 > value # v2 breaks: rolled back
for _ in $(seq 1 50); do [ "$(runs)" -ge 1 ] && break; sleep 0.2; done
[ "$(runs)" -eq 1 ] || { cat auto.out; fail "v2 was not rolled back"; }
echo 1 > value
"$RB" deployed -c rollback.toml --release v1 > /dev/null # the rollback's release, recorded after it
wait_for 10 .rollback/monitor.jsonl '"event":"run_finished"' || fail "the run did not finish"
sleep 3.5 # resolve_after = 2s of ok ticks: the incident ends
echo 9 > value # v1 fails too: a recurrence, reported
wait_for 10 auto.out "recurrence within watch_after" || { cat auto.out; fail "no recurrence notify"; }
[ "$(runs)" -eq 1 ] || { cat auto.out; fail "the recurrence under v1 was rolled back again"; }
echo 1 > value
sleep 3.5
"$RB" deployed -c rollback.toml --release v3 > /dev/null # a new release: the watch ends
sleep 1.5
echo 9 > value # v3 breaks: a new incident, rolled back
for _ in $(seq 1 50); do [ "$(runs)" -ge 2 ] && break; sleep 0.2; done
kill -TERM $mon; wait $mon || true; mon=
[ "$(runs)" -eq 2 ] || { cat auto.out; fail "the failure of the new release v3 was not rolled back"; }
python3 - <<'PY' || { cat auto.out; fail "the decisions are not: trigger (v2), notify (v1), trigger (v3)"; }
import json, glob
acts = []
for f in sorted(glob.glob(".rollback/decisions/2*.json")):
    r = json.load(open(f))
    if r["action"] != "none":
        acts.append((r["action"], r["release"]))
assert acts == [("trigger", "v2"), ("notify", "v1"), ("trigger", "v3")], acts
PY
pass "auto: the restored release's marker keeps the watch, a new release's marker ends it"
