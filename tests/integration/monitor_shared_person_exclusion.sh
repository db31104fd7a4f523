#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A decision excluded by a person's run stays excluded across a leader change (real PostgreSQL 15,
# two real monitors, lease 3 s; docs/decision.md "two runs never start", docs/config.md "A decided
# run that never started"). A person's `rollback run` holds the run lock when the incident fires:
# the leader's run meets the lock (exit 4) and keeps that in the shared policy memory
# (decided_run.blocked_by). The leader is then killed (-9) or stopped (SIGTERM) during the person's
# run; the monitor that leads next does not start the decided run once the person's run ended:
# one run for the incident, every step once.
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54363
source "$(dirname "$0")/../support/pg_shared.sh"

# case SCHEMA SIGNAL
case_of() {
    local s=$1 sig=$2 old survivor m
    playbook "$s" 6
    two_monitors "$s"
    old=$(leader_slot "$s")
    for m in "$s.a" "$s.b"; do if [ "$m" != "$old" ]; then survivor=$m; fi; done
    monitor_config "$WORK/$s.p" "$s" 3s "$WORK/fault.$s" "$WORK/pb.$s.toml"
    "$RB" run "$WORK/pb.$s.toml" --yes -c "$WORK/$s.p/rollback.toml" </dev/null >"$WORK/$s.person" 2>&1 &
    local person=$!
    stop_on_exit $person
    wait_for 10 started "$s" slow || { cat "$WORK/$s.person"; fail "the person's run did not start"; }
    echo 9 >"$WORK/fault.$s"
    wait_for 10 grep -q "no run: another run holds the lock" "$WORK/$old/out" ||
        { cat "$WORK/$old/out"; fail "the leader's run did not meet the person's lock"; }
    sleep 0.5
    kill "-$sig" "${PID_OF[$old]}"
    wait "$person" || { cat "$WORK/$s.person"; fail "the person's run failed"; }
    wait_for 10 has_leader "$s" || fail "nobody leads after the leader's $sig"
    sleep 6 # the new leader's ticks after the person's run ended
    [ "$(q "SELECT count(*) FROM $s.journal WHERE seq = 0")" = 1 ] ||
        { cat "$WORK/$survivor/out"; fail "$sig: a second run started"; }
    [ "$(effects "$s")" = "fin:1 one:1 slow:1 two:1 " ] || fail "$sig: effects: $(effects "$s")"
    contains "$WORK/$survivor/out" "was excluded by run"
    [ "$(q "SELECT doc::json->'decided_run'->>'blocked_by' FROM $s.documents WHERE name = 'monitor-policy'")" = \
        "$(q "SELECT run_id FROM $s.journal WHERE seq = 0")" ] || fail "blocked_by does not name the person's run"
    pass "a decision excluded by a person's run stays excluded after the leader got $sig"
}
case_of pk KILL
case_of pt TERM
