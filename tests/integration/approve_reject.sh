#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mode = "confirm": a person declines the monitor's approval request
# (`rollback approve DECISION_ID --reject --reason ...`): kept as rejected with who, when and why
# (approve --list, --list --json with the same answer fields as a gate's, explain); it can be
# answered only once; no run starts, and at its expiry the running monitor does not handle it as
# expired unanswered (no approval_expired, no escalation) — an unanswered request beside it is.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"

write() { # DIR: a monitor in confirm mode whose condition fires, requests valid 4 s
    mkdir -p "$1"
    cat >"$1/pb.toml" <<TOML
[playbook]
name = "tiny"
[[step]]
id = "mark"
action = "exec"
argv = ["sh", "-c", "echo ran >> $WORK/$1/runs.txt"]
TOML
    cat >"$1/rollback.toml" <<TOML
[target]
name = "shop"
[source.orders]
kind = "command"
argv = ["echo", "9"]
[[condition]]
name = "corruption"
signal = "orders.value"
above = 5
severity = "critical"
[decision]
mode = "confirm"
playbook = "pb.toml"
approval_timeout = "4s"
interval = "1s"
cooldown = "1h"
TOML
}
write declined
write unanswered
for d in declined unanswered; do
    (cd "$d" && exec "$RB" monitor -c rollback.toml >loop.out 2>&1) &
    stop_on_exit $!
done
request_of() { ls "$1/.rollback/approvals/" 2>/dev/null | head -n 1 | sed 's/\.json$//'; }
for _ in $(seq 1 100); do [ -n "$(request_of declined)" ] && [ -n "$(request_of unanswered)" ] && break; sleep 0.1; done
id=$(request_of declined)
[ -n "$id" ] || { cat declined/loop.out; fail "no approval request"; }
[ -n "$(request_of unanswered)" ] || { cat unanswered/loop.out; fail "no approval request (unanswered)"; }

cd declined
expect_rc 0 reject.out -- "$RB" approve "$id" --reject --reason "false alarm" -c rollback.toml
contains reject.out "rejected decision $id as $(id -un) (false alarm): no run starts for it"
expect_rc 0 list.out -- "$RB" approve --list -c rollback.toml
contains list.out "$id  rejected"
contains list.out "rejected by $(id -un) (false alarm)"
expect_rc 0 list.json -- "$RB" approve --list --json -c rollback.toml
contains list.json '"kind":"decision"'
contains list.json '"state":"rejected"'
contains list.json "\"answered_by\":\"$(id -un)\""
contains list.json '"answer_reason":"false alarm"'
grep -q '"answered_at":"20' list.json || fail "no answered_at in approve --list --json"
expect_rc 2 again.out -- "$RB" approve "$id" --reject -c rollback.toml
contains again.out "decision $id was answered already: rejected by $(id -un) at "
expect_rc 2 approve.out -- "$RB" approve "$id" --yes -c rollback.toml
contains approve.out "decision $id was rejected already by $(id -un) (false alarm)"
expect_rc 0 explain.out -- "$RB" explain "$id" -c rollback.toml
contains explain.out "approval request: rejected by $(id -un) (false alarm)"
pass "a monitor's request declined: kept with who, when and why; answered only once"
cd "$WORK"

# Both requests expire (4 s): the declined one is settled without escalation.
expired() { grep -c '"event":"approval_expired"' "$1/.rollback/monitor.jsonl" 2>/dev/null || true; }
for _ in $(seq 1 100); do [ "$(expired unanswered)" -ge 1 ] && break; sleep 0.1; done
[ "$(expired unanswered)" -ge 1 ] || { cat unanswered/loop.out; fail "the unanswered request did not expire"; }
sleep 1.5
[ "$(expired declined)" = 0 ] || { cat declined/loop.out; fail "the declined request was handled as expired unanswered"; }
grep -q '"event":"approval_rejected"' declined/.rollback/monitor.jsonl ||
    { cat declined/.rollback/monitor.jsonl; fail "no approval_rejected event"; }
[ ! -f declined/runs.txt ] || fail "a declined request started a run"
pass "at its expiry the declined request is not escalated (the unanswered one is)"
