#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One state per target whatever the entry point, with a state shared in PostgreSQL (real
# PostgreSQL 15, the real binary; docs/config.md "The state directory" and "Shared state in
# PostgreSQL"; break-it 35):
# - $ROLLBACK_STATE_DIR (set by the packaged units) chooses only the local directory: the
#   configuration's [state] dsn still names the store (35/12); `status` says which store it
#   read (and --state-dir, typed for one command, a local state);
# - `rollback deployed` writes its marker where the monitor reads it (35/15);
# - `plan` and the plan shown before the run read the bad releases of the shared state (35/02);
# - `explain RUN_ID` finds a run of the shared state, also with -p (35/04, 35/17);
# - the printed `report`/`resume` commands carry `-c FILE` and work from another directory
#   (35/14);
# - `check` and `explain --now` keep their decision records in the shared state (a14).
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54371
source "$(dirname "$0")/../support/pg_shared.sh"

site=$WORK/site
mkdir -p "$site/playbooks" "$site/app/releases"/{v1,v2,v3} "$WORK/elsewhere"
for v in v1 v2 v3; do
    echo $v >"$site/app/releases/$v/VERSION"
    touch -d "2026-12-0${v#v} 10:00" "$site/app/releases/$v"
done
ln -sfn releases/v2 "$site/app/current"
cat >"$site/rollback.toml" <<TOML
[target]
name = "shop"
[state]
dsn = "$DSN"
schema = "entry"
lease = "3s"
[source.c]
kind = "command"
argv = ["sh", "-c", "echo 1"]
[[condition]]
name = "c"
signal = "c.value"
above = 5
[decision]
mode = "auto"
playbook = "playbooks/switch.toml"
TOML
cat >"$site/playbooks/switch.toml" <<TOML
[playbook]
name = "code"
[[step]]
id = "switch"
action = "release_switch"
deploy_root = "$site/app"
to = "previous"
TOML
cat >"$site/playbooks/fails.toml" <<TOML
[playbook]
name = "fails"
[[step]]
id = "boom"
action = "exec"
argv = ["sh", "-c", "echo boom >> $WORK/effects; exit 3"]
TOML
cd "$site"

# 35/12: the environment's directory keeps the local files; the run is in the shared state.
expect_rc 0 "$WORK/run1.out" -- env ROLLBACK_STATE_DIR="$WORK/local" \
    "$RB" run -c "$site/rollback.toml" -p playbooks/switch.toml --yes --reason first
id1=$(q "SELECT run_id FROM entry.journal WHERE seq = 0")
[ -n "$id1" ] || { cat "$WORK/run1.out"; fail "the run with ROLLBACK_STATE_DIR is not in the shared state"; }
! ls "$WORK"/local/runs/*.jsonl >/dev/null 2>&1 || fail "a journal was written to ROLLBACK_STATE_DIR"
expect_rc 0 "$WORK/status1.out" -- env ROLLBACK_STATE_DIR="$WORK/local" "$RB" status
contains "$WORK/status1.out" "run $id1"
contains "$WORK/status1.out" "state: the shared state"
contains "$WORK/status1.out" "(schema entry)"
expect_rc 0 "$WORK/status2.out" -- "$RB" status --state-dir "$WORK/local2"
contains "$WORK/status2.out" "no runs in $WORK/local2 (--state-dir)"
pass "ROLLBACK_STATE_DIR keeps the configuration's shared state; status names the store"

# 35/02: v2 is bad in the shared state; after a deploy of v3 the plan names v1, as the run does.
contains "$WORK/status1.out" "bad release: v2"
ln -sfn releases/v3 "$site/app/current"
expect_rc 0 "$WORK/plan.out" -- "$RB" plan -p playbooks/switch.toml
contains "$WORK/plan.out" "v1"
lacks "$WORK/plan.out" "target release v2"
expect_rc 0 "$WORK/run2.out" -- "$RB" run -p playbooks/switch.toml --yes --reason second
lacks "$WORK/run2.out" "target release v2"
contains "$WORK/run2.out" "v3 -> v1"
[ "$(readlink "$site/app/current")" = releases/v1 ] || fail "current is $(readlink "$site/app/current")"
pass "plan and the plan before the run read the shared bad releases"

# 35/15: the deploy marker goes to the shared state, where the monitor reads it.
expect_rc 0 "$WORK/deployed.out" -- "$RB" deployed --release v8
lacks "$WORK/deployed.out" "$site/.rollback"
sleep 1.5
expect_rc 0 "$WORK/mon.out" -- "$RB" monitor --once --json
contains "$WORK/mon.out" '"release":"v8"'
pass "deployed writes the marker the monitor reads"

# 35/04, 35/14, 35/17: a failed run from another directory; its printed commands work there.
cd "$WORK/elsewhere"
expect_rc 1 "$WORK/run3.out" -- "$RB" run -p "$site/playbooks/fails.toml" --yes --reason third
contains "$WORK/run3.out" "rollback resume"
contains "$WORK/run3.out" " -c $site/rollback.toml"
id3=$(grep -o 'rollback report [0-9A-Za-z-]*' "$WORK/run3.out" | head -1 | cut -d' ' -f3)
[ -n "$id3" ] || fail "no report command printed"
report_cmd=$(grep -o "rollback report $id3.*" "$WORK/run3.out" | head -1)
expect_rc 0 "$WORK/report3.out" -- "$RB" ${report_cmd#rollback }
contains "$WORK/report3.out" "run $id3"
expect_rc 0 "$WORK/explain3.out" -- "$RB" explain "$id3" -p "$site/playbooks/fails.toml"
contains "$WORK/explain3.out" "Run $id3 names no decision record"
cd "$site"
expect_rc 0 "$WORK/explain1.out" -- "$RB" explain "$id1"
contains "$WORK/explain1.out" "Run $id1 names no decision record"
pass "explain finds runs of the shared state (also with -p); printed commands name the config"

# 35/04: a trigger's run and its decision record, both in the shared state, explained.
expect_rc 1 "$WORK/trigger.out" -- "$RB" trigger -p playbooks/fails.toml --condition c --reason CVE --yes
id4=$(grep -o 'run id: [0-9A-Za-z-]*' "$WORK/trigger.out" | cut -d' ' -f3)
[ -n "$id4" ] || fail "trigger printed no run id"
expect_rc 0 "$WORK/explain4.out" -- "$RB" explain "$id4"
contains "$WORK/explain4.out" "Run $id4 was caused by decision"
contains "$WORK/explain4.out" "CVE"
pass "explain RUN_ID of a trigger's run on the shared state"

# a14: `check` and `explain --now` keep their records where the rule puts the state.
expect_rc 0 "$WORK/check.out" -- env ROLLBACK_STATE_DIR="$WORK/local" "$RB" check
cid=$(sed -n 's|^decision record: .*decisions/\([0-9A-Za-z.-]*Z-[0-9a-f]*\).*|\1|p' "$WORK/check.out")
[ -n "$cid" ] || { cat "$WORK/check.out"; fail "check printed no decision record"; }
[ "$(q "SELECT count(*) FROM entry.decisions WHERE id = '$cid'")" = 1 ] ||
    { cat "$WORK/check.out"; fail "check kept its decision record outside the shared state"; }
! ls "$WORK"/local/decisions/*.json "$site"/.rollback/decisions/*.json >/dev/null 2>&1 ||
    fail "check wrote a decision record to a local directory"
before=$(q "SELECT count(*) FROM entry.decisions")
sleep 1.1 # another second: another record id
expect_rc 0 "$WORK/explain_now.out" -- "$RB" explain --now
[ "$(q "SELECT count(*) FROM entry.decisions")" -gt "$before" ] ||
    { cat "$WORK/explain_now.out"; fail "explain --now kept no record in the shared state"; }
! ls "$site"/.rollback/decisions/*.json >/dev/null 2>&1 ||
    fail "explain --now wrote a decision record to the local directory"
pass "check and explain --now keep their decision records in the shared state"
