#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# With the shared state, every command the engine prints for a person carries what finds the
# same state (real PostgreSQL 15, the real binary; docs/config.md "The state directory"; break-it
# 43/F2): an approval gate's answer command — on the terminal, in the journal, in the
# on-approval hook's event and in `status` — is `rollback approve RUN STEP -c FILE`, and run as
# printed from a directory with no rollback.toml (a paged person's home) it answers the gate.
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54394
source "$(dirname "$0")/../support/pg_shared.sh"

site=$WORK/site
mkdir -p "$site/hooks" "$WORK/elsewhere"
cat >"$site/hooks/record" <<SH
#!/bin/sh
cat >> "$WORK/events.jsonl"; echo >> "$WORK/events.jsonl"
SH
chmod +x "$site/hooks/record"
cat >"$site/rollback.toml" <<TOML
[target]
name = "shop"
state_dir = "$site/local"
[state]
dsn = "$DSN"
schema = "printed"
TOML
cat >"$site/pb.toml" <<TOML
[playbook]
name = "gate"
hooks_dir = "hooks"
[playbook.hooks]
on-approval = ["record"]
[[step]]
id = "before"
phase = "immediate"
action = "exec"
argv = ["true"]
[[step]]
id = "gate"
phase = "database"
action = "approve"
message = "restore the shop database?"
timeout = "5m"
[[step]]
id = "after"
phase = "database"
action = "exec"
argv = ["sh", "-c", "echo after >> $WORK/effects"]
TOML

cd "$site"
"$RB" run -p pb.toml -c rollback.toml --yes --reason gate </dev/null >"$WORK/run.out" 2>&1 &
pid=$!
stop_on_exit "$pid"
wait_for 20 grep -q "awaiting approval" "$WORK/run.out" || { cat "$WORK/run.out"; fail "the gate did not open"; }
run=$(q "SELECT run_id FROM printed.journal WHERE seq = 0")
cmd="rollback approve $run gate -c $site/rollback.toml"
contains "$WORK/run.out" "$cmd [--reject]"
contains "$WORK/events.jsonl" "\"approve\":\"$cmd\""
contains "$WORK/events.jsonl" "\"reject\":\"$cmd --reject\""
[ "$(q "SELECT count(*) FROM printed.journal WHERE line::json->>'type' = 'step_progress' AND line::json->>'approve' = '$cmd'")" = 1 ] ||
    fail "the journal's approval_requested does not carry: $cmd"
expect_rc 0 "$WORK/status.out" -- "$RB" status -c "$site/rollback.toml"
contains "$WORK/status.out" "answer: $cmd [--reject]"
pass "the gate's answer command names the shared state's configuration everywhere it is given"

# Run as printed, far from the site: it finds the run's state and answers the gate.
cd "$WORK/elsewhere"
expect_rc 0 "$WORK/answer.out" -- "$RB" ${cmd#rollback }
contains "$WORK/answer.out" "approved step gate of run $run"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/run.out"; fail "the run exited $rc after its gate was approved"; }
[ "$(cat "$WORK/effects")" = after ] || fail "the step after the gate did not run once"
contains "$WORK/run.out" "report:  rollback report $run -c $site/rollback.toml"
pass "the printed answer, run from a directory with no configuration, answered the gate"

# status's `next:` and state import's `compare with:` of the shared state (break-it 46 F3, F4):
# `-c FILE`, and pasted from / they find the same state.
cat >"$site/fail.toml" <<TOML
[playbook]
name = "failing"
[[step]]
id = "bad"
action = "exec"
argv = ["sh", "-c", "test -f $WORK/fixed"]
TOML
cd "$site"
expect_rc 1 "$WORK/fail.out" -- "$RB" run -p "$site/fail.toml" --yes
failed=$(q "SELECT run_id FROM printed.journal WHERE seq = 0 AND run_id <> '$run'")
cd /
expect_rc 0 "$WORK/status2.out" -- "$RB" status "$failed" -c "$site/rollback.toml"
contains "$WORK/status2.out" "next: fix the cause, then: rollback resume $failed -c $site/rollback.toml --retry bad"
touch "$WORK/fixed"
expect_rc 0 "$WORK/resume.out" -- "$RB" resume "$failed" -c "$site/rollback.toml" --retry bad --yes
"$RB" state export "$run" -c "$site/rollback.toml" -o "$WORK/exp.jsonl" 2>/dev/null
expect_rc 2 "$WORK/import.out" -- "$RB" state import "$WORK/exp.jsonl" -c "$site/rollback.toml"
contains "$WORK/import.out" "compare with: rollback state export $run -c $site/rollback.toml"
export_cmd=$(sed -n 's/.*compare with: rollback \(state export .*\)$/\1/p' "$WORK/import.out")
"$RB" $export_cmd -o "$WORK/again.jsonl" 2>/dev/null || fail "the printed export failed: $export_cmd"
cmp -s "$WORK/exp.jsonl" "$WORK/again.jsonl" || fail "the printed export is not the same run"
pass "status's next command and state import's export carry -c FILE and work from /"
cd /
