#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bytes that are not UTF-8 in what a run journals (break-it 26/15): a step printing a Latin-1
# "é", a --reason typed in a Latin-1 terminal. The journal stays readable (status, report, explain,
# resume, audit verify all work), a killed run with such output still blocks a new run (exit 4),
# and a dead run whose journal cannot be read blocks a new run too, even with --abandon-stale.
source "$(dirname "$0")/../support/itest.sh"

cd "$WORK"
cat >pb.toml <<'TOML'
[[step]]
id = "legacy"
action = "exec"
argv = ["printf", "r\\351sum\\351 \\233 of release v41\\n"]
[[step]]
id = "migrate"
action = "exec"
idempotent = true
argv = ["sh", "-c", "echo start >> log; sleep 3; echo end >> log"]
needs = ["legacy"]
TOML

# --- 1. a run killed during the step after the Latin-1 output --------------------------------
"$RB" run -p pb.toml --yes --state-dir st >run1.out 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 100); do grep -qs start log && break; sleep 0.05; done
kill -9 $pid
wait $pid 2>/dev/null || true
rid=$(basename "$(ls st/runs/*.jsonl)" .jsonl)
python3 - "st/runs/$rid.jsonl" <<'PY' || fail "journal lines are not strict JSON"
import json, sys
for n, line in enumerate(open(sys.argv[1], "rb"), 1):
    json.loads(line.decode("utf-8"))  # raises on a byte that is not UTF-8
PY
grep -qF 'r\\xe9sum\\xe9 \\x9b of release v41' "st/runs/$rid.jsonl" || fail "output_tail lost the bytes"
expect_rc 0 audit.out -- "$RB" audit verify "$rid" --state-dir st
contains audit.out "intact"
expect_rc 0 status.out -- "$RB" status "$rid" --state-dir st
contains status.out "interrupted"
expect_rc 0 status.json -- "$RB" status "$rid" --state-dir st --json
expect_rc 0 report.out -- "$RB" report "$rid" --state-dir st
expect_rc 0 explain.out -- "$RB" explain "$rid" --state-dir st
expect_rc 4 run2.out -- "$RB" run -p pb.toml --yes --state-dir st
contains run2.out "died without finishing"
pass "a killed run with Latin-1 output reads and blocks a new run"

# --- 2. --reason with a Latin-1 byte ---------------------------------------------------------
sleep 3 # the killed attempt's sleep is over
expect_rc 0 reason.out -- "$RB" run -p pb.toml --yes --state-dir st2 --reason $'caf\xe9'
rid2=$(basename "$(ls st2/runs/*.jsonl)" .jsonl)
expect_rc 0 status2.out -- "$RB" status "$rid2" --state-dir st2
expect_rc 0 audit2.out -- "$RB" audit verify "$rid2" --state-dir st2
grep -qF 'caf\\xe9' "st2/runs/$rid2.jsonl" || fail "reason not journaled as caf\\xe9"
pass "--reason with a Latin-1 byte journals as caf\\xe9"

# --- 3. a dead run whose journal cannot be read blocks a new run ------------------------------
mkdir -p dead
cp pb.toml dead/
(cd dead && exec "$RB" run -p pb.toml --yes --state-dir st >run.out 2>&1 </dev/null) &
pid=$!
for _ in $(seq 1 100); do [ "$(grep -c start dead/log 2>/dev/null)" = 1 ] && break; sleep 0.05; done
kill -9 $pid
wait $pid 2>/dev/null || true
j=$(ls dead/st/runs/*.jsonl)
rid3=$(basename "$j" .jsonl)
sed -i '3s/^{/{garbage/' "$j" # a line no JSON reader parses
expect_rc 1 dead/audit.out -- "$RB" audit verify "$rid3" --state-dir dead/st
expect_rc 4 dead/run2.out -- "$RB" run -p dead/pb.toml --yes --state-dir dead/st
contains dead/run2.out "died and its journal cannot be read"
contains dead/run2.out "rollback audit verify $rid3"
expect_rc 4 dead/run3.out -- "$RB" run -p dead/pb.toml --yes --state-dir dead/st --abandon-stale
contains dead/run3.out "died and its journal cannot be read"
sleep 3
[ "$(grep -c start dead/log)" = 1 ] || fail "a second attempt started"
pass "a dead run with an unreadable journal blocks a new run (exit 4)"
