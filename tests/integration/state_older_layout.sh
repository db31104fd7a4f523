#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A state directory of the older layout (`.rollback/` beside the playbook, what `run -p` used
# before the one rule) is never silently left behind (docs/config.md "The state directory"):
# with a rollback.toml above the playbook, `run` and `history` refuse (exit 2) naming it and how
# to move it, the unfinished run's step is not started again; after the move, history shows it.
source "$(dirname "$0")/../support/itest.sh"
unset ROLLBACK_STATE_DIR
cd "$WORK"; mkdir playbooks
cat > rollback.toml <<'TOML'
[target]
name = "shop"
[source.c]
kind = "command"
argv = ["sh", "-c", "echo 1"]
[[condition]]
name = "c"
signal = "c.value"
above = 5
[decision]
mode = "auto"
playbook = "playbooks/pb.toml"
TOML
cat > playbooks/pb.toml <<TOML
[playbook]
name = "restore"
[[step]]
id = "swap"
action = "exec"
argv = ["sh", "-c", "echo \$\$ > $WORK/step.pid; echo swap-start >> $WORK/effects; exec sleep 30"]
TOML
# The older layout, as the previous version wrote it (the same format), a run killed in its step.
"$RB" run -p playbooks/pb.toml --yes --state-dir playbooks/.rollback > old.out 2>&1 & p=$!
stop_on_exit $p
for _ in $(seq 1 100); do grep -q swap-start effects 2>/dev/null && break; sleep 0.05; done
kill -9 $p; wait $p 2>/dev/null || true
stop_on_exit "$(cat step.pid)" # the step the killed run left (the playbook's own process)
old=$(basename "$(ls playbooks/.rollback/runs/*.jsonl)" .jsonl)
expect_rc 2 new.out -- "$RB" run -p playbooks/pb.toml --yes
contains new.out "$WORK/playbooks/.rollback (the older layout"
contains new.out "mv $WORK/playbooks/.rollback/runs/*"
[ "$(grep -c swap-start effects)" = 1 ] || fail "the step was started again"
expect_rc 2 hist.out -- "$RB" history
contains hist.out "playbooks/.rollback"
expect_rc 2 status.out -- "$RB" status -c rollback.toml
pass "the older layout is refused, named, with how to move it"
# Explicitly chosen, it is used as it is.
"$RB" status --state-dir playbooks/.rollback > s.out 2>&1 || true
contains s.out "$old"
