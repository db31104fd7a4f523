#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A trigger whose run the state store kept from starting is paged and retried (docs/decision.md
# "trigger and monitor"): the state directory refuses the run lock (its `lock` file is a
# directory: exit 7 for root too, where permissions would not stop it) when the condition fires;
# the [decision] hook gets one `escalate` event naming the decision and the error; once the
# store takes the lock again the run starts, once, while the condition still fires.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
mkdir -p hooks .rollback/lock
cat > pb.toml <<'TOML'
[playbook]
name = "pb"
[[step]]
id = "s1"
phase = "code"
action = "exec"
argv = ["sh", "-c", "echo run >> runs.txt"]
TOML
cat > hooks/page <<SH
#!/bin/sh
cat >> "$WORK/pages.jsonl"
echo >> "$WORK/pages.jsonl"
SH
chmod +x hooks/page
cat > rollback.toml <<'TOML'
[target]
name = "t"
[source.s]
kind = "command"
argv = ["cat", "value"]
[[condition]]
name = "v"
signal = "s.value"
above = 5.0
[decision]
mode = "auto"
playbook = "pb.toml"
interval = "1s"
cooldown = "1h"
hooks = ["page"]
TOML
runs() { [ -f runs.txt ] && wc -l < runs.txt || echo 0; }
echo 9 > value
"$RB" monitor -c rollback.toml > monitor.out 2>&1 &
mon_pid=$!
stop_on_exit "$mon_pid"

for _ in $(seq 100); do grep -q "state store failed" monitor.out 2>/dev/null && break; sleep 0.1; done
contains monitor.out "no run: the state store failed (cannot open lock file"
contains monitor.out "retrying at every tick while \"v\" fires (failed starts: 1)"
sleep 2.5 # more ticks: retried, still refused, paged once
[ "$(runs)" -eq 0 ] || fail "a run started while the store refused the lock"
contains monitor.out "(failed starts: 2)"
[ "$(grep -c '"status":"escalate"' pages.jsonl)" -eq 1 ] || fail "not paged exactly once: $(cat pages.jsonl)"
contains pages.jsonl "cannot open lock file"
first=$(grep -o '"decision_id":"[^"]*"' pages.jsonl | head -1 | cut -d'"' -f4)
[ -n "$first" ] || fail "the page names no decision: $(cat pages.jsonl)"
contains .rollback/monitor.jsonl "\"event\":\"escalated\",\"decision_id\":\"$first\""
pass "a run the store refused: said, paged once naming the decision and the error"

rmdir .rollback/lock # the store takes the lock again
for _ in $(seq 100); do [ "$(runs)" -ge 1 ] && break; sleep 0.1; done
[ "$(runs)" -eq 1 ] || fail "the retry did not start the run: $(cat monitor.out)"
sleep 3 # still firing, in cooldown: no second run
kill -TERM "$mon_pid"; wait "$mon_pid" 2>/dev/null || true
[ "$(runs)" -eq 1 ] || fail "$(runs) runs for one incident"
contains monitor.out "decision $first: its run started after"
contains .rollback/monitor.jsonl "\"event\":\"trigger_retried\",\"decision_id\":\"$first\""
pass "the store answers again: the run starts once, on the retry"
