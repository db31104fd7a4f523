#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A monitor's run waiting at an approval gate loses its PostgreSQL session, or the gates table is
# locked past the lease (real PostgreSQL 15, two real monitors, lease 3 s; docs/config.md "The
# server going away", docs/actions.md "approve"): the gate wait reconnects as an append does, the
# run goes on when a person approves, and no second run starts (the non-idempotent step `one`
# once). `rollback approve` of a run that no longer waits (its process died) says so: exit 6.
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54364
source "$(dirname "$0")/../support/pg_shared.sh"

# gate_playbook SCHEMA: one, an approve gate, two; finally fin.
gate_playbook() {
    local e="$WORK/effects.$1"
    : >"$e"
    cat >"$WORK/pb.$1.toml" <<TOML
[playbook]
name = "gate-$1"
[[step]]
id = "one"
phase = "immediate"
action = "exec"
argv = ["sh", "-c", "echo one >> $e"]
[[step]]
id = "gate"
phase = "database"
action = "approve"
message = "go?"
timeout = "2m"
[[step]]
id = "two"
phase = "code"
action = "exec"
argv = ["sh", "-c", "echo two >> $e"]
[[finally]]
id = "fin"
action = "exec"
argv = ["sh", "-c", "echo fin >> $e"]
TOML
}

# case SCHEMA HOW: HOW (a shell command) disturbs the store while the run waits at the gate.
case_of() {
    local s=$1
    gate_playbook "$s"
    two_monitors "$s"
    monitor_config "$WORK/$s.p" "$s" 3s "$WORK/fault.$s" "$WORK/pb.$s.toml"
    echo 9 >"$WORK/fault.$s"
    wait_for 20 started "$s" gate || fail "$s: the gate never opened"
    sleep 0.5
    local run
    run=$(q "SELECT run_id FROM $s.journal WHERE seq = 0")
    eval "$2"
    sleep 2
    "$RB" approve "$run" gate -c "$WORK/$s.p/rollback.toml" </dev/null >"$WORK/$s.approve" 2>&1 ||
        { cat "$WORK/$s.approve"; fail "$s: approve of the waiting run failed"; }
    contains "$WORK/$s.approve" "the waiting run goes on"
    wait_for 30 run_done "$s" || { cat "$WORK"/"$s".?/out; fail "$s: the run did not finish"; }
    sleep 3
    [ "$(finished_state "$s")" = succeeded ] || fail "$s: the run ended $(finished_state "$s")"
    [ "$(q "SELECT count(*) FROM $s.journal WHERE seq = 0")" = 1 ] ||
        { cat "$WORK"/"$s".?/out; fail "$s: a second run started"; }
    [ "$(effects "$s")" = "fin:1 one:1 two:1 " ] || fail "$s: effects: $(effects "$s")"
}
# The session a run reads its gate with is idle between polls; every idle session of the store
# is ended (the leases' and the monitors' reconnect too).
case_of gt "q \"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'rb_scram' AND state = 'idle' AND query = 'ROLLBACK'\" >/dev/null"
pass "the gate wait's session terminated: the run goes on after the approval, one run"
case_of gl "\"\$BIN/psql\" -X -q -h \"\$PG_BASE\" -p \"\$PG_PORT\" -U rollback -d postgres -c 'BEGIN; LOCK TABLE gl.gates IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(5); COMMIT;' >/dev/null"
pass "the gates table locked past the lease: the run goes on after the approval, one run"

# A person's run waiting at its gate, killed: approve says it does not wait (exit 6), and keeps
# the answer for the resume.
gate_playbook pd
monitor_config "$WORK/pd.p" pd 3s "$WORK/fault.pd" "$WORK/pb.pd.toml"
echo 1 >"$WORK/fault.pd"
"$RB" run "$WORK/pb.pd.toml" --yes -c "$WORK/pd.p/rollback.toml" </dev/null >"$WORK/pd.person" 2>&1 &
person=$!
stop_on_exit $person
wait_for 20 started pd gate || { cat "$WORK/pd.person"; fail "the person's gate never opened"; }
kill -KILL $person
wait $person 2>/dev/null || true
run=$(q "SELECT run_id FROM pd.journal WHERE seq = 0")
sleep 4 # its lease (3 s) runs out
rc=0
"$RB" approve "$run" gate -c "$WORK/pd.p/rollback.toml" </dev/null >"$WORK/pd.approve" 2>&1 || rc=$?
[ "$rc" = 6 ] || { cat "$WORK/pd.approve"; fail "approve of a dead run's gate: exit $rc, not 6"; }
contains "$WORK/pd.approve" "is not running now"
pass "approve of a run that no longer waits at its gate says so (exit 6)"
