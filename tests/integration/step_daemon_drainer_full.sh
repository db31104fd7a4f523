#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 45 F5 (issue 11, "Step processes"): the drainer keeps two descriptors per daemon a
# step left writing to its pipes. Under a small open-file limit whose hard limit it cannot raise
# (`ulimit -n 48`: soft and hard), the descriptors of later steps did not fit; they were dropped
# silently, and those daemons died of SIGPIPE on their next write once the engine had exited
# while the run said "left running". Now the drainer answers each hand-over, refuses what it
# cannot take, and the engine logs it and gives the pipes to a new drainer: every daemon is
# still writing after the run ended. docs/actions.md, "Step processes".
source "$(dirname "$0")/../support/itest.sh"

steps=30
mkdir -p "$WORK/hb"
{
    for i in $(seq 0 $((steps - 1))); do
        cat <<EOT
[[step]]
id = "d$i"
phase = "immediate"
action = "exec"
argv = ["sh", "-c", "(n=0; while [ ! -e $WORK/stop ] && [ \$n -lt 400 ]; do echo tick; date +%s.%N > $WORK/hb/$i; sleep 0.2; n=\$((n+1)); done) & echo started"]

EOT
    done
} >"$WORK/many.toml"
on_exit "touch $WORK/stop"

(ulimit -n 48 && exec "$RB" run -p "$WORK/many.toml" --yes --state-dir "$WORK/state") \
    >"$WORK/run.out" 2>&1 || { cat "$WORK/run.out" >&2; fail "the run failed"; }
contains "$WORK/run.out" "left running"
# The engine has exited; its drainers hold the pipes. A daemon without a reader dies at its next
# write (SIGPIPE), within 0.2 s; give every one a few writes.
sleep 2
now=$(date +%s.%N)
dead=""
for i in $(seq 0 $((steps - 1))); do
    age=$(awk -v now="$now" -v t="$(cat "$WORK/hb/$i")" 'BEGIN { print (now - t > 1.2) ? 1 : 0 }')
    [ "$age" = 1 ] && dead="$dead d$i"
done
[ -z "$dead" ] || fail "daemons whose output lost its reader died:$dead"
pass "all $steps daemons alive after the run under ulimit -n 48"
contains "$WORK/state/rollback.log" "the output drainer has no room for more descriptors"
pass "the full drainer is logged and another started"
