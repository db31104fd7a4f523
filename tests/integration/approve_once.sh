#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One approval request starts at most one run, ever (docs/decision.md "Approving"; break-it 35):
# - two people approve one request, one at a terminal reading the plan, the other with --yes:
#   the one who confirms after the other's run is refused, the playbook ran once (35/20);
# - "n" at the prompt while someone else's run started and ended leaves the request pending,
#   and it can then be approved (35/19);
# - a second approval confirmed during the first one's run meets the lock (exit 4) and leaves the
#   request "approved" with that run, never "pending" again (35/11).
# A person at a terminal is `script` (util-linux) with its answer held back until the test says.
source "$(dirname "$0")/../support/itest.sh"
command -v script >/dev/null || { echo "script (util-linux) missing: skipped"; exit 125; }
cd "$WORK"
unset ROLLBACK_STATE_DIR

setup() { # DIR
    mkdir -p "$1"
    cat >"$1/pb.toml" <<TOML
[playbook]
name = "switch"
[[step]]
id = "switch"
action = "exec"
argv = ["sh", "-c", "echo ran >> $1/ran.txt; sleep \$(cat $1/pause 2>/dev/null || echo 0)"]
timeout = "60s"
TOML
    cat >"$1/rollback.toml" <<TOML
[target]
name = "shop"
[source.corrupt]
kind = "command"
argv = ["sh", "-c", "echo 9"]
[[condition]]
name = "corruption"
signal = "corrupt.value"
above = 5
severity = "critical"
[decision]
mode = "confirm"
playbook = "pb.toml"
cooldown = "1h"
TOML
    (cd "$1" && "$RB" monitor --once >/dev/null 2>&1) || true
    (cd "$1" && "$RB" approve --list --json) >"$1/list.json"
    grep -o '"decision_id":"[^"]*"' "$1/list.json" | head -1 | cut -d'"' -f4
}
ran() { wc -l <"$1/ran.txt" 2>/dev/null || echo 0; }
# at_terminal DIR ANSWER CMD...: CMD in a terminal (script), its answer typed once DIR/go exists.
at_terminal() {
    local dir=$1 answer=$2; shift 2
    (
        until [ -e "$dir/go" ]; do sleep 0.1; done
        echo "$answer"
    ) | script -qfec "$*" /dev/null >"$dir/terminal.out" 2>&1
}
wait_prompt() { # DIR
    for _ in $(seq 1 100); do
        grep -q "Run this plan?" "$1/terminal.out" 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$1/terminal.out" >&2
    fail "no prompt"
}

# 35/20
d=$WORK/twice
id=$(setup "$d")
[ -n "$id" ] || { cat "$d/list.json"; fail "no approval request"; }
cd "$d"
at_terminal "$d" y "$RB" approve "$id" &
person1=$!
wait_prompt "$d"
expect_rc 0 "$WORK/yes.out" -- "$RB" approve "$id" --yes
touch "$d/go"
rc=0
wait $person1 || rc=$?
[ "$(ran "$d")" = 1 ] || { cat "$d/terminal.out"; fail "the playbook ran $(ran "$d") times for one request"; }
[ "$rc" != 0 ] || { cat "$d/terminal.out"; fail "the second approval exited 0"; }
contains "$d/terminal.out" "answered meanwhile: approved by"
"$RB" approve --list >"$d/list.out"
yes_run=$(grep -o 'run id: [0-9A-Za-z-]*' "$WORK/yes.out" | cut -d' ' -f3)
contains "$d/list.out" "run $yes_run"
pass "of two approvals of one request one runs; the later is refused"

# 35/19
d=$WORK/no
id=$(setup "$d")
cd "$d"
at_terminal "$d" n "$RB" approve "$id" &
person=$!
wait_prompt "$d"
expect_rc 0 "$WORK/other.out" -- "$RB" run -p pb.toml --yes --reason "someone else"
touch "$d/go"
wait $person || true
contains "$d/terminal.out" "not confirmed"
"$RB" approve --list >"$d/list.out"
contains "$d/list.out" "pending"
lacks "$d/list.out" "approved"
expect_rc 0 "$WORK/approve19.out" -- "$RB" approve "$id" --yes
[ "$(ran "$d")" = 2 ] || fail "the approval after \"n\" did not run"
pass "\"n\" at the prompt leaves the request pending"

# 35/11: the loser reads the plan at a terminal, the winner's run starts meanwhile; the loser's
# "y" meets the lock (exit 4) and leaves the request as the winner marked it.
d=$WORK/loser
id=$(setup "$d")
cd "$d"
echo 3 >"$d/pause"
at_terminal "$d" y "$RB" approve "$id" &
loser=$!
wait_prompt "$d"
"$RB" approve "$id" --yes </dev/null >"$d/winner.out" 2>&1 &
winner=$!
stop_on_exit $winner
for _ in $(seq 1 100); do [ -s "$d/ran.txt" ] && break; sleep 0.1; done
[ -s "$d/ran.txt" ] || { cat "$d/winner.out"; fail "the winner's run did not start"; }
touch "$d/go"
rc=0
wait $loser || rc=$?
[ "$rc" = 4 ] || { cat "$d/terminal.out"; fail "the loser exited $rc, not 4"; }
running $winner || fail "the winner's run ended before the check"
"$RB" approve --list >"$d/list.out"
contains "$d/list.out" "approved"
lacks "$d/list.out" "pending"
wait $winner
[ "$(ran "$d")" = 1 ] || fail "the playbook ran $(ran "$d") times"
"$RB" approve --list >"$d/list2.out"
contains "$d/list2.out" "approved"
pass "a second approval meeting the first one's run leaves the request approved"
