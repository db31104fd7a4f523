#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Whether the run lock's holder lives is decided by its pid and process start time (lock.json),
# never by the `lock` file alone (docs/architecture.md, step 3):
# - the `lock` file removed under a live run: the next starter exits 4 naming that run (not
#   "died"), `status` says running, `resume` refuses; the step runs once, the journal is intact;
# - a dead holder's lock.json whose pid now belongs to another process: that process is not
#   named as the holder by a starter that loses the race to the new holder.
source "$(dirname "$0")/../support/itest.sh"
unset ROLLBACK_STATE_DIR
cd "$WORK"
cat > pb.toml <<TOML
[playbook]
name = "hold"
[[step]]
id = "hold"
action = "exec"
idempotent = true
argv = ["sh", "-c", "echo start >> $WORK/effects; sleep 4; echo end >> $WORK/effects"]
TOML
"$RB" run -p pb.toml --yes --state-dir st > a.out 2>&1 & a=$!
stop_on_exit $a
for _ in $(seq 1 100); do grep -q start effects 2>/dev/null && break; sleep 0.05; done
[ -f st/lock.json ] || fail "the first run published no lock.json"
id=$(basename "$(ls st/runs/*.jsonl)" .jsonl)
rm st/lock # an operator's "rm stale lock"
expect_rc 4 second.out -- "$RB" run -p pb.toml --yes --state-dir st
contains second.out "another run holds the lock"
contains second.out "pid $a"
if grep -q "died" second.out; then cat second.out; fail "a live run was called dead"; fi
"$RB" status --state-dir st > status.out 2>&1 || true
contains status.out "running"
expect_rc 4 resume.out -- "$RB" resume "$id" --yes --state-dir st
contains resume.out "is still running"
wait $a || fail "the first run failed"
[ "$(cat effects)" = "$(printf 'start\nend')" ] || { cat effects; fail "the step ran more than once"; }
"$RB" audit verify "$id" --state-dir st > audit.out 2>&1 || { cat audit.out; fail "journal not intact"; }
pass "a removed lock file does not make a live run dead"

# A dead run's lock.json whose pid is now another (live) process's; two starters at once.
cat > short.toml <<'TOML'
[playbook]
name = "short"
[[step]]
id = "a"
action = "exec"
argv = ["sleep", "1"]
TOML
sleep 600 & other=$!
stop_on_exit $other
mkdir -p st2
for i in 1 2 3 4 5; do
  printf '{"run_id":"20261206T170000Z-dead01","pid":%d,"host":"%s","user":"root","started":"2026-12-06T17:00:00.000Z","reason":"old dead run"}\n' \
    "$other" "$(hostname)" > st2/lock.json
  "$RB" run -p short.toml --yes --state-dir st2 > A.$i 2>&1 & x=$!
  "$RB" run -p short.toml --yes --state-dir st2 > B.$i 2>&1 & y=$!
  rx=0; wait $x || rx=$?; ry=0; wait $y || ry=$?
  loser=$([ $rx = 4 ] && echo A.$i || echo B.$i)
  [ $rx = 4 ] || [ $ry = 4 ] || { cat A.$i B.$i; fail "no starter lost the race (round $i)"; }
  if grep -q "dead01\|pid $other " "$loser"; then cat "$loser"; fail "the dead run (pid $other) was named as the holder"; fi
done
pass "a reused pid is not taken for the holder"
