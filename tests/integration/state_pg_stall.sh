#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A shared state whose connection stalls (real PostgreSQL 15 behind a proxy that stops
# forwarding without closing anything, tests/support/stall_proxy.py; docs/config.md "The server
# going away"; break-it 43/F3): every operation of the store is bounded. A person's run whose
# append meets the stall stops after the documented 30 s (exit 7), saying the shared state did not
# answer and what the person does (`rollback resume RUN -c FILE` once it answers: no monitor
# resumes a person's run); it continues once the link heals. `rollback status` through a stalled
# link ends (exit 1, "cannot connect") instead of hanging.
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54393
source "$(dirname "$0")/../support/pg_shared.sh"

port=$(free_port)
python3 "$SRC/tests/support/stall_proxy.py" "$port" "$PG_BASE/.s.PGSQL.$PG_PORT" >"$WORK/proxy.out" 2>&1 &
proxy=$!
stop_on_exit "$proxy"
wait_for 10 grep -q listening "$WORK/proxy.out" || fail "the proxy did not start"
stall() { kill -USR1 "$proxy"; }
heal() { kill -USR2 "$proxy"; }

e=$WORK/effects
cat >"$WORK/pb.toml" <<TOML
[playbook]
name = "stall"
[[step]]
id = "one"
phase = "immediate"
action = "exec"
argv = ["sh", "-c", "echo one >> $e"]
[[step]]
id = "slow"
phase = "database"
action = "exec"
argv = ["sh", "-c", "sleep 2; echo slow >> $e"]
probe = "grep -qx slow $e"
[[step]]
id = "two"
phase = "code"
action = "exec"
argv = ["sh", "-c", "echo two >> $e"]
TOML
cat >"$WORK/rollback.toml" <<TOML
[target]
name = "shop"
state_dir = "$WORK/local"
[state]
dsn = "postgresql://rb_scram:rb-scram-pw@127.0.0.1:$port/postgres"
schema = "stall"
lease = "15s"
TOML
expect_rc 0 "$WORK/init.out" -- "$RB" state init -c "$WORK/rollback.toml"

# --- a person's run: the append that meets the stall gives up after 30 s ---------------------
cd "$WORK"
timeout -k 5 120 "$RB" run -p "$WORK/pb.toml" -c "$WORK/rollback.toml" --yes --reason stalled </dev/null >run.out 2>&1 &
run_pid=$!
stop_on_exit "$run_pid"
wait_for 20 grep -q "\[slow\] started" run.out || fail "step slow did not start"
stall
t0=$(now_ms)
rc=0
wait "$run_pid" || rc=$?
took=$(($(now_ms) - t0))
heal
[ "$rc" != 124 ] && [ "$rc" != 137 ] || { cat run.out; fail "the stalled run hung (killed after 120 s)"; }
[ "$rc" = 7 ] || { cat run.out; fail "the stalled run exited $rc, not 7"; }
[ "$took" -ge 25000 ] && [ "$took" -le 50000 ] || { cat run.out; fail "the stalled run stopped after $took ms (30 s documented)"; }
contains run.out "the PostgreSQL server did not answer for 30 s"
contains run.out "the shared state"
run=$(q "SELECT run_id FROM stall.journal WHERE seq = 0")
contains run.out "rollback resume $run -c $WORK/rollback.toml"
lacks run.out "next leader"
lacks run.out "Free space"
pass "a stalled connection stops a person's run after 30 s (exit 7, ${took} ms), saying what to do"

# Healed: the person resumes it; the step in flight is settled by its probe, nothing runs twice.
expect_rc 0 resume.out -- "$RB" resume "$run" -c "$WORK/rollback.toml" --yes
[ "$(sort "$e" | uniq -c | awk '{printf "%s:%s ", $2, $1}')" = "one:1 slow:1 two:1 " ] ||
    fail "effects: $(sort "$e" | uniq -c | tr '\n' ' ')"
pass "the link healed: rollback resume finished the run, every step once"

# --- rollback status through a stalled link ends ---------------------------------------------
stall
t0=$(now_ms)
expect_rc 1 status.out -- timeout -k 5 60 "$RB" status -c "$WORK/rollback.toml"
took=$(($(now_ms) - t0))
heal
[ "$took" -le 20000 ] || fail "status took $took ms through a stalled link"
contains status.out "cannot connect to PostgreSQL"
pass "status through a stalled link ends (exit 1, ${took} ms)"
cd / # the cleanup runs psql as the server's user, who may not enter $WORK
