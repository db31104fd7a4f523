#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 48/F3: a playbook two directories below its rollback.toml (`[decision] playbook =
# "ops/playbooks/pb.toml"`). A person's `run -p` from another directory finds that config (it
# names this very playbook) and takes the monitor's lock: a `trigger` and a `monitor --once` of
# the target exit 4 naming the person's run, and every command sees the run. A run holding the
# older layout's lock beside the playbook (`.rollback/` there) is the target's lock for the
# monitor, at its start and before each start of a run: exit 4 / no second run.
source "$(dirname "$0")/../support/itest.sh"
unset ROLLBACK_STATE_DIR
cd "$WORK"; W=$WORK
mkdir -p ops/playbooks elsewhere
echo 1 > val
cat > ops/playbooks/pb.toml <<TOML
[playbook]
name = "hold"
[[step]]
id = "hold"
action = "exec"
timeout = "60s"
argv = ["sh", "-c", "echo start >> $W/ran.txt; while [ ! -e $W/release ]; do sleep 0.05; done; echo end >> $W/ran.txt"]
TOML
cat > rollback.toml <<TOML
[target]
name = "deep"
[source.c]
kind = "command"
argv = ["cat", "$W/val"]
timeout = "1s"
[[condition]]
name = "c"
signal = "c.value"
above = 5
severity = "critical"
[decision]
mode = "auto"
playbook = "ops/playbooks/pb.toml"
interval = "1s"
TOML
wait_starts() { # N: until ran.txt has N "start" lines
    for _ in $(seq 1 200); do [ "$(cat ran.txt 2>/dev/null | grep -c start)" -ge "$1" ] && return 0; sleep 0.05; done
    fail "no step started"
}

# 1. The person's run from elsewhere/ takes the lock the config's commands take.
(cd elsewhere && exec "$RB" run -p ../ops/playbooks/pb.toml --yes --reason person) > person.out 2>&1 &
a=$!; stop_on_exit $a
wait_starts 1
expect_rc 4 trig.out -- "$RB" trigger -c rollback.toml --condition security --reason cve --yes
contains trig.out "another run holds the lock of $W/.rollback"
contains trig.out "reason: person"
echo 9 > val
expect_rc 4 mon.out -- "$RB" monitor -c rollback.toml --once
contains mon.out "another run holds the lock of $W/.rollback"
touch release; wait $a || fail "the person's run failed: $(cat person.out)"
[ "$(grep -c start ran.txt)" = 1 ] || fail "two runs started: $(cat ran.txt)"
contains person.out "note: configuration $W/rollback.toml (its [decision] playbook is $W/ops/playbooks/pb.toml)"
[ ! -e ops/playbooks/.rollback ] || fail "the person's run kept its state beside the playbook"
expect_rc 0 hist.out -- "$RB" history -c rollback.toml
contains hist.out "person"
(cd elsewhere && "$RB" status -p ../ops/playbooks/pb.toml) > st.out 2>&1 || true
contains st.out "state: $W/.rollback (state_dir of $W/rollback.toml (above the playbook, naming it"
pass "a person's run of a deep playbook takes the monitor's lock; the others exit 4 naming it"

# 2. The older layout's lock, held by a live run: the monitor treats it as the target's lock.
rm -f ran.txt release; echo 1 > val
rm -rf .rollback # the runs above are not the point here; a fresh state
"$RB" monitor -c rollback.toml > mon2.out 2>&1 & m=$!; stop_on_exit $m
for _ in $(seq 1 100); do grep -q "c" mon2.out 2>/dev/null && break; sleep 0.05; done
sleep 1.2 # the monitor is past its own start (and its start's check of the older layout)
"$RB" run -p ops/playbooks/pb.toml --yes --reason older --state-dir ops/playbooks/.rollback \
    > older.out 2>&1 & o=$!; stop_on_exit $o
wait_starts 1
echo 9 > val
for _ in $(seq 1 80); do grep -q "another run holds the lock of $W/ops/playbooks/.rollback" mon2.out && break; sleep 0.1; done
contains mon2.out "another run holds the lock of $W/ops/playbooks/.rollback (the older layout"
contains mon2.out "reason: older"
[ "$(grep -c start ran.txt)" = 1 ] || fail "the monitor started a second run: $(cat ran.txt)"
# A monitor started now (a systemd restart) exits 4 naming the holder, not 2.
expect_rc 4 once.out -- "$RB" monitor -c rollback.toml --once
contains once.out "another run holds the lock of $W/ops/playbooks/.rollback"
contains once.out "reason: older"
echo 1 > val
touch release; wait $o || fail "the older-layout run failed: $(cat older.out)"
kill -TERM $m; wait $m || true
pass "a live lock beside the playbook excludes the monitor's run at every start"
