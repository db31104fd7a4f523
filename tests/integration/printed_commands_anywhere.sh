#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The commands `status`, `report` and `state import` print for a person carry what finds the same
# state (docs/config.md "The state directory"; break-it 46 F3, F4): pasted as printed from `/`,
# a directory with no rollback.toml and no .rollback/, they act on the same state — found by a
# configuration (`-c FILE`, printed as its `--state-dir DIR`) and by `--state-dir DIR`. (The
# shared state's `-c FILE`: tests/integration/state_pg_printed_commands.sh.)
source "$(dirname "$0")/../support/itest.sh"

site=$WORK/site
mkdir -p "$site"
cat >"$site/rollback.toml" <<TOML
[target]
name = "shop"
state_dir = "$site/local"
TOML
cat >"$site/pb.toml" <<TOML
[playbook]
name = "failing"
[[step]]
id = "bad"
action = "exec"
argv = ["sh", "-c", "echo ran >> $WORK/attempts; test -f $WORK/fixed"]
TOML
cd "$site"
expect_rc 1 "$WORK/run.out" -- "$RB" run -p pb.toml --yes
run_id=$("$RB" history --json | head -1 | python3 -c 'import json,sys;print(json.load(sys.stdin)["run_id"])')
cfg=$(cd "$site" && pwd)/rollback.toml
args="--state-dir $(cd "$site" && pwd)/local" # state::state_args of a configuration's state_dir

# `next:` of status and of report: the printed resume, pasted from /.
"$RB" status >"$WORK/status.out"
"$RB" report "$run_id" >"$WORK/report.out"
for f in status report; do
    contains "$WORK/$f.out" "next: fix the cause, then: rollback resume $run_id $args --retry bad"
done
next=$(sed -n 's/^  next: fix the cause, then: \(rollback resume [^ ]* --state-dir [^ ]* --retry bad\) .*/\1/p' "$WORK/status.out")
[ -n "$next" ] || fail "no resume command in: $(cat "$WORK/status.out")"
touch "$WORK/fixed"
cd /
expect_rc 0 "$WORK/resume.out" -- "$RB" ${next#rollback } --yes
[ "$(wc -l <"$WORK/attempts")" = 2 ] || fail "step bad ran $(wc -l <"$WORK/attempts") times, not twice"
contains "$WORK/resume.out" "succeeded"
pass "status and report print a resume that, pasted from /, resumes the same run"

# `state import` of a run already there: the printed export, pasted from /.
"$RB" state export "$run_id" -c "$cfg" -o "$WORK/exp.jsonl" 2>/dev/null
expect_rc 2 "$WORK/import.out" -- "$RB" state import "$WORK/exp.jsonl" -c "$cfg"
contains "$WORK/import.out" "compare with: rollback state export $run_id $args"
export_cmd=$(sed -n 's/.*compare with: rollback \(state export .*\)$/\1/p' "$WORK/import.out")
"$RB" $export_cmd -o "$WORK/again.jsonl" 2>/dev/null || fail "the printed export failed: $export_cmd"
cmp -s "$WORK/exp.jsonl" "$WORK/again.jsonl" || fail "the printed export is not the same run"

mkdir "$WORK/imp"
"$RB" state import "$WORK/exp.jsonl" --state-dir "$WORK/imp" >/dev/null
expect_rc 2 "$WORK/import2.out" -- "$RB" state import "$WORK/exp.jsonl" --state-dir "$WORK/imp"
contains "$WORK/import2.out" "compare with: rollback state export $run_id --state-dir $WORK/imp"
export_cmd=$(sed -n 's/.*compare with: rollback \(state export .*\)$/\1/p' "$WORK/import2.out")
"$RB" $export_cmd -o "$WORK/third.jsonl" 2>/dev/null || fail "the printed export failed: $export_cmd"
cmp -s "$WORK/exp.jsonl" "$WORK/third.jsonl" || fail "the printed export is not the same run"
pass "state import's printed export, pasted from /, reads the same store (-c and --state-dir)"
