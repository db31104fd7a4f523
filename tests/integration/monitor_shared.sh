#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Several `rollback monitor`s sharing one state in PostgreSQL (real PostgreSQL 15, real
# processes; docs/config.md "Leadership"). Two monitors: a fault the test writes (a number a
# command source reads) drives both to trigger; the leader alone starts the one run, the follower
# records the decision as a follower; `rollback status` shows who leads. Three monitors: the
# leader is killed with SIGKILL at random points of the run, again and again (a new monitor takes
# each dead one's place): a survivor takes over within the documented bound and resumes the run
# by the rules of `rollback resume`; the run completes, no non-idempotent step's effect happens
# twice, none is skipped, the journal's lease generations never go back (one holder acting at a
# time). The failover times are written to $FAILOVER_OUT when set (docs/benchmarks.md).
# KILLS (default 30) bounds the kills, MONITOR_SHARED_BUDGET (default 240 s) the time spent killing
# (30 kills take ~3.5 min on 2 loaded cores; fewer than 10 within the budget fail the test).
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54343
source "$(dirname "$0")/../support/pg_shared.sh"

# config DIR SCHEMA PLAYBOOK FAULT: one monitor's rollback.toml (its own local state_dir, as on
# its own host), every monitor of a group naming the same shared state and playbook.
config() { monitor_config "$1" "$2" 3s "$4" "$3"; }

# playbook FILE N: N short steps in one chain; odd ones are not idempotent (a probe looks for
# their effect), even ones are. Each appends its name to $WORK/effects.$2 once it is done.
playbook() {
    local file=$1 n=$2 tag=$3 prev=""
    echo -e "[playbook]\nname = \"chain-$tag\"" >"$file"
    # The probes grep this file: it exists before the first step (a missing file is a probe
    # error, which rightly asks a person, when the leader dies in the first step).
    : >"$WORK/effects.$tag"
    for i in $(seq 1 "$n"); do
        i=$(printf %02d "$i")
        {
            echo "[[step]]"
            echo "id = \"s$i\""
            echo "phase = \"immediate\""
            echo "action = \"exec\""
            echo "argv = [\"sh\", \"-c\", \"sleep 0.${STEP_SLEEP:-3}; echo s$i >> $WORK/effects.$tag\"]"
            [ -n "$prev" ] && echo "needs = [\"$prev\"]"
            if [ $((10#$i % 2)) = 1 ]; then
                echo "idempotent = false"
                echo "probe = \"grep -qx s$i $WORK/effects.$tag\""
            else
                echo "idempotent = true"
            fi
        } >>"$file"
        prev="s$i"
    done
}

START_N=0
# start_monitor SLOT DIR: a monitor in DIR (its stdout, JSON decision records and news, in
# DIR/out.N: a slot is started again after each kill).
start_monitor() {
    START_N=$((START_N + 1))
    "$RB" monitor --json -c "$2/rollback.toml" </dev/null >"$2/out.$START_N" 2>&1 &
    PID_OF[$1]=$!
    stop_on_exit "${PID_OF[$1]}"
    echo "$2" >"$WORK/dir.${PID_OF[$1]}"
}
run_row() { q "SELECT generation || ' ' || (held AND expires_at > clock_timestamp()) || ' ' || coalesce(holder::json->>'pid', '0') FROM $1.lease WHERE name = 'run'" 2>/dev/null || echo "0 false 0"; }
run_of() { q "SELECT run_id FROM $1.journal WHERE seq = 0"; }

# --- two monitors: one leader acts, the follower records -------------------------------------
playbook "$WORK/pb2.toml" 3 two
echo 1 >"$WORK/fault2"
for m in a b; do config "$WORK/two/$m" two "$WORK/pb2.toml" "$WORK/fault2"; done
start_monitor a "$WORK/two/a"
start_monitor b "$WORK/two/b"
# One reading names the leader and checks it (a second reading could find the lease between two
# renewals of a loaded machine).
leader_is_a_monitor() { lp=$(leader_pid two); [ "$lp" = "${PID_OF[a]}" ] || [ "$lp" = "${PID_OF[b]}" ]; }
wait_for 20 leader_is_a_monitor || fail "no monitor leads (the lease names pid $lp)"
expect_rc 0 "$WORK/status2.out" -- "$RB" status -c "$WORK/two/a/rollback.toml"
contains "$WORK/status2.out" "leader: $(hostname) pid $lp (generation "
contains "$WORK/status2.out" "lease until "
expect_rc 0 "$WORK/status2j.out" -- "$RB" status --json -c "$WORK/two/b/rollback.toml"
contains "$WORK/status2j.out" "\"leader\":{\"host\":"
contains "$WORK/status2j.out" "\"pid\":$lp,"
pass "two monitors: one leads, rollback status shows it (host, pid, generation, lease expiry)"

echo 9 >"$WORK/fault2"
wait_for 30 run_done two || fail "the run did not finish"
[ "$(finished_state two)" = succeeded ] || fail "the run ended $(finished_state two)"
[ "$(q "SELECT count(*) FROM two.journal WHERE seq = 0")" = 1 ] || fail "more than one run started"
sleep 2.5 # both monitors go on deciding: the cooldown holds, nothing more starts
[ "$(q "SELECT count(*) FROM two.journal WHERE seq = 0")" = 1 ] || fail "a second run started"
for i in 01 02 03; do
    [ "$(grep -c "^s$i$" "$WORK/effects.two")" = 1 ] || fail "step s$i ran $(grep -c "^s$i$" "$WORK/effects.two") times"
done
cat "$WORK"/two/*/out.* >"$WORK/two.out"
[ "$(grep -c '"action":"trigger","mode":"auto","executed":true' "$WORK/two.out")" = 1 ] ||
    fail "not exactly one executed trigger among the monitors' records"
grep '"executed":true' "$WORK/two.out" | grep -q '"leadership":{"role":"leader"' ||
    fail "the executed trigger is not the leader's"
grep '"action":"trigger"' "$WORK/two.out" | grep '"executed":false' | grep -q '"role":"follower"' ||
    fail "the follower did not record its trigger as a follower's"
[ "$(q "SELECT count(*) FROM two.decisions")" -ge 2 ] || fail "the decisions of both monitors are not kept"
for m in a b; do kill -TERM "${PID_OF[$m]}"; done
for m in a b; do
    rc=0; wait "${PID_OF[$m]}" || rc=$?
    [ "$rc" = 0 ] || fail "monitor $m exited $rc on SIGTERM"
done
pass "two monitors, one fault: exactly one run, by the leader; the follower recorded and did not act"

# --- three monitors: the leader killed at random points of the run ----------------------------
STEPS=${STEPS:-99}
playbook "$WORK/pb3.toml" "$STEPS" three
echo 1 >"$WORK/fault3"
for m in a b c; do
    config "$WORK/three/$m" three "$WORK/pb3.toml" "$WORK/fault3"
    start_monitor $m "$WORK/three/$m"
done
wait_for 20 has_leader three || fail "no monitor leads (three)"
echo 9 >"$WORK/fault3"
KILLS=${KILLS:-30}
budget_end=$(($(now_ms) + ${MONITOR_SHARED_BUDGET:-240} * 1000))
kills=0
: >"$WORK/failover.ms"
leader_runs() {
    read -r gen live pid <<<"$(run_row three)"
    [ "$live" = true ] && [ "$pid" != 0 ] && [ "$pid" = "$(leader_pid three)" ]
}
while [ "$kills" -lt "$KILLS" ] && [ "$(now_ms)" -lt "$budget_end" ]; do
    wait_for 20 leader_runs || { run_done three && break; fail "the leader does not run the run"; }
    sleep "0.$((RANDOM % 9 + 1))"
    run_done three && break
    read -r gen live pid <<<"$(run_row three)"
    for m in a b c; do [ "${PID_OF[$m]}" = "$pid" ] && slot=$m; done
    [ "${PID_OF[$slot]}" = "$pid" ] || fail "the run's holder $pid is none of the monitors"
    kill -KILL "$pid"
    t0=$(now_ms)
    wait "$pid" 2>/dev/null || true
    kills=$((kills + 1))
    start_monitor "$slot" "$(cat "$WORK/dir.$pid")" # a new monitor takes the dead one's place
    taken() { read -r g l _ <<<"$(run_row three)"; [ "$g" -gt "$gen" ] && [ "$l" = true ]; }
    wait_for 15 taken || fail "kill $kills: nobody took the run over within 15 s"
    echo $(($(now_ms) - t0)) >>"$WORK/failover.ms"
done
wait_for 60 run_done three || fail "the run did not finish after $kills kills"
run=$(run_of three)
[ "$(finished_state three)" = succeeded ] || fail "the run ended $(finished_state three)"
[ "$(q "SELECT count(*) FROM three.journal WHERE seq = 0")" = 1 ] || fail "more than one run started"
for i in $(seq 1 "$STEPS"); do
    i=$(printf %02d "$i")
    n=$(grep -c "^s$i$" "$WORK/effects.three" || true)
    [ "$n" -ge 1 ] || fail "step s$i was skipped"
    if [ $((10#$i % 2)) = 1 ]; then
        [ "$n" = 1 ] || fail "non-idempotent step s$i ran $n times"
    fi
done
back=$(q "SELECT count(*) FROM (SELECT generation < lag(generation) OVER (ORDER BY seq) AS back FROM three.journal WHERE run_id = '$run') t WHERE back")
[ "$back" = 0 ] || fail "a record of an older lease generation follows a newer one"
gens=$(q "SELECT count(DISTINCT generation) FROM three.journal WHERE run_id = '$run'")
[ "$gens" -ge 2 ] && [ "$gens" -le $((kills + 1)) ] || fail "$gens generations for $kills kills"
expect_rc 0 "$WORK/audit3.out" -- "$RB" audit verify "$run" -c "$WORK/three/a/rollback.toml"
cat "$WORK"/three/*/out.* >"$WORK/three.out"
contains "$WORK/three.out" "was left unfinished: resuming it"
[ "$(grep -c '"executed":true' "$WORK/three.out")" = 1 ] || fail "more than one executed trigger"
sort -n "$WORK/failover.ms" >"$WORK/failover.sorted"
n=$(wc -l <"$WORK/failover.sorted")
median=$(sed -n "$(((n + 1) / 2))p" "$WORK/failover.sorted")
max=$(tail -1 "$WORK/failover.sorted")
echo "failover over $kills kills (lease 3s, interval 1s): median ${median} ms, max ${max} ms"
[ -z "${FAILOVER_OUT:-}" ] || cp "$WORK/failover.ms" "$FAILOVER_OUT"
[ "$max" -le 6000 ] || fail "a failover took $max ms, past the documented bound (lease + 2 intervals, + 1 s for a loaded machine)"
[ "$kills" -ge 10 ] || fail "only $kills kills fit in the budget"
for m in a b c; do kill -TERM "${PID_OF[$m]}" 2>/dev/null || true; done
for m in a b c; do wait "${PID_OF[$m]}" 2>/dev/null || true; done
pass "three monitors, the leader killed $kills times mid-run: the run completed once, no non-idempotent step twice, none skipped, generations never went back"
