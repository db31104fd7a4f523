#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The live step list on an 80x24 terminal (tmux; brk28 03, 07): more steps than rows draw a
# window with summary lines, never the header again and again; a 78-character step id is cut,
# not every state; an approval gate's deadline and answer command are printed whole.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
command -v tmux >/dev/null || { echo "skip: tmux not installed"; exit 125; }
session=rbtest-live-$$
on_exit "tmux kill-session -t $session 2>/dev/null || true"
screen() { # SECONDS: runs ./cmd.sh in a fresh 80x24 tmux, captures scrollback and screen
    tmux kill-session -t $session 2>/dev/null || true
    tmux new-session -d -s $session -x 80 -y 24 "cd $WORK && env -u TMUX TERM=xterm sh ./cmd.sh; sleep 60"
    sleep "$1"
    tmux capture-pane -p -J -S -1000 -t $session > screen.txt
    tmux kill-session -t $session
}

{ echo '[playbook]'; echo 'name = "many"'
  for i in $(seq -w 1 30); do printf '[[step]]\nid = "step-%s"\naction = "exec"\nargv = ["sh", "-c", "sleep 0.2"]\n' "$i"; done; } > many.toml
echo "\"$RB\" run -p many.toml --yes --state-dir $WORK/s1" > cmd.sh
screen 12
[ "$(grep -c 'run .*: many$' screen.txt)" = 1 ] || { cat screen.txt; fail "the header was drawn more than once"; }
[ "$(grep -c '^  step-01 ' screen.txt)" = 1 ] || { cat screen.txt; fail "step-01 drawn more than once"; }
grep -q '^  step-30 .*succeeded' screen.txt || { cat screen.txt; fail "the last drawing does not list every step"; }
pass "30 steps on 24 rows: one header, one row per step"

long=approve-restore-$(printf 'x%.0s' $(seq 1 63))
cat > gate.toml <<TOML
[playbook]
name = "gate"
[[step]]
id = "$long"
action = "approve"
message = "restore?"
timeout = "4s"
on_timeout = "reject"
TOML
echo "\"$RB\" run -p gate.toml --yes --state-dir $WORK/s2" > cmd.sh
screen 2
grep -q 'running' screen.txt || { cat screen.txt; fail "the waiting step's state is not shown"; }
grep -q "rollback approve [^ ]* $long --state-dir $WORK/s2 \[--reject\]" screen.txt ||
    { cat screen.txt; fail "the approve command is not printed whole"; }
grep -q 'until 20[0-9-]*T[0-9:.]*Z' screen.txt || { cat screen.txt; fail "the deadline is not printed whole"; }
[ "$(grep -c 'run .*: gate$' screen.txt)" = 1 ] || { cat screen.txt; fail "the header was drawn more than once"; }
pass "a long id is cut, the state and the gate's answer command are not"
