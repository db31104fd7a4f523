#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A full or read-only state directory for the commands that keep decision records, deploy
# markers and approvals (docs/config.md "The state directory"): `trigger`, `check`, `deployed`,
# `monitor --once`, `approve`, `explain --now` exit 7 with the hint, never 1 with a raw
# temp-file error; a long-running monitor says so and keeps ticking. Needs root (mount).
source "$(dirname "$0")/../support/itest.sh"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to mount a small tmpfs"; exit 125; }
unset ROLLBACK_STATE_DIR
cd "$WORK"; mkdir -p playbooks full ro
mounted=()
on_exit 'for m in "${mounted[@]}"; do umount "$m" 2>/dev/null || umount -l "$m"; done'
mount -t tmpfs -o size=200k tmpfs full 2>/dev/null || { echo "SKIP: cannot mount a tmpfs"; exit 125; }
mounted+=("$WORK/full")
cat > playbooks/pb.toml <<'TOML'
[playbook]
name = "p"
[[step]]
id = "a"
action = "exec"
argv = ["true"]
TOML
cat > rollback.toml <<'TOML'
[target]
name = "shop"
[source.c]
kind = "command"
argv = ["sh", "-c", "echo 9"]
[[condition]]
name = "c"
signal = "c.value"
above = 5
severity = "critical"
[decision]
mode = "confirm"
interval = "1s"
playbook = "playbooks/pb.toml"
TOML
"$RB" monitor --once --state-dir full/st > /dev/null 2>&1 || true # one approval request
"$RB" approve --list --json --state-dir full/st > list.json
did=$(grep -o '"decision_id":"[^"]*"' list.json | head -1 | cut -d'"' -f4)
[ -n "$did" ] || { cat list.json; fail "no approval request"; }
dd if=/dev/zero of=full/fill bs=4k > /dev/null 2>&1 || true # the disk is full
for c in "trigger --condition security --reason x --yes" "check" "deployed --release v9" \
         "monitor --once" "approve $did --yes" "explain --now"; do
  # shellcheck disable=SC2086
  expect_rc 7 out.txt -- "$RB" $c --state-dir full/st
  # A command that starts a run meets the full disk at the run lock, the others at their record.
  grep -qE "the state directory cannot be written|cannot write lock file $WORK/full/st/lock" out.txt ||
      { cat out.txt; fail "$c: no state-directory error"; }
  grep -qE "hint: nothing was (done|run); make $WORK/full/st( writable|/? writable)" out.txt ||
      { cat out.txt; fail "$c: no hint"; }
  if grep -q "\.tmp\." out.txt; then cat out.txt; fail "$c: a raw temp-file error"; fi
done
pass "a full disk: every command exits 7 with the hint"

rc=0; timeout 4 "$RB" monitor --state-dir full/st > mon.out 2>&1 || rc=$?
[ "$rc" = 124 ] || { cat mon.out; fail "the monitor on a full disk exited $rc instead of ticking on"; }
contains mon.out "acting on nothing it cannot record; retrying every tick"
[ "$(grep -c "acting on nothing" mon.out)" = 1 ] || { cat mon.out; fail "said more than once"; }
pass "a long-running monitor says so once and keeps ticking"

mount -t tmpfs -o ro tmpfs ro; mounted+=("$WORK/ro")
expect_rc 7 ro.txt -- "$RB" explain --now --state-dir ro
# explain --now checks the state directory before it evaluates (as `check` does).
grep -qE "the state directory cannot be written|cannot write to state directory $WORK/ro" ro.txt ||
    { cat ro.txt; fail "read-only: no state-directory error"; }
contains ro.txt "hint: nothing was done; make $WORK/ro writable"
if grep -q "internal error" ro.txt; then cat ro.txt; fail "read-only: an internal error"; fi
pass "read-only: explain --now exit 7"
