#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `rollback monitor` started while the shared state's PostgreSQL does not answer (boot order, a
# server restarting; real PostgreSQL 15, real process; docs/config.md "The server going away"):
# the monitor does what it does when the store goes away later — acts on nothing, says so once,
# retries every tick — and leads once the server answers. A refused password stays fatal (exit 1).
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54349
source "$(dirname "$0")/../support/pg_shared.sh"

cat >"$WORK/pb.toml" <<'TOML'
[playbook]
name = "noop"
[[step]]
id = "one"
phase = "immediate"
action = "exec"
argv = ["true"]
TOML
echo 1 >"$WORK/fault"
monitor_config "$WORK/m" late 3s "$WORK/fault" "$WORK/pb.toml"

# The throwaway server runs without fsync and stops with -m immediate: the CHECKPOINT keeps the
# role's CREATE grant (pg_shared.sh) across the restart.
q "CHECKPOINT"
bash "$SRC/tests/support/pg_throwaway.sh" stop
"$RB" monitor -c "$WORK/m/rollback.toml" </dev/null >"$WORK/m/out" 2>&1 &
pid=$!
stop_on_exit "$pid"
sleep 3
running "$pid" || { cat "$WORK/m/out" >&2; fail "the monitor exited while the shared state did not answer"; }
contains "$WORK/m/out" "the shared state did not answer ("
contains "$WORK/m/out" "acting on nothing until it does; retrying every tick"
[ "$(grep -c "the shared state did not answer" "$WORK/m/out")" = 1 ] || fail "said more than once"
bash "$SRC/tests/support/pg_throwaway.sh" start
said_back() { grep -qF "the shared state answers again" "$WORK/m/out"; }
wait_for 20 said_back || { cat "$WORK/m/out" >&2; fail "the monitor did not say the shared state answers again"; }
leads() { [ "$(leader_pid late)" = "$pid" ]; }
wait_for 20 leads || { cat "$WORK/m/out" >&2; fail "the monitor does not lead after the server came up"; }
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "the monitor exited $rc on SIGTERM"
pass "a monitor started before its shared state answers waits for it, says so once, then leads"

# A refused password is the operator's to fix: exit 1 at once, as before.
sed -i "s|rb-scram-pw|wrong-pw|" "$WORK/m/rollback.toml"
expect_rc 1 "$WORK/bad.out" -- timeout 20 "$RB" monitor -c "$WORK/m/rollback.toml"
contains "$WORK/bad.out" "password authentication failed"
pass "a refused password stays fatal (exit 1)"
