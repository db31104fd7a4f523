#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The packaged layout: the state directory belongs to the service user (0750). `rollback approve`
# by another user (root through sudo) is refused before it writes anything (exit 2, naming the
# owner and the hint `sudo -u OWNER`), so no root-owned lock or runs/ keeps the service from ever
# running again; the owner's approval works and the owner can still run afterwards.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
need_other_owner
mkdir -p state && chown $owner:$owner state && chmod 0750 state
cat > pb.toml <<TOML
[playbook]
name = "revert"
[[step]]
id = "mark"
action = "exec"
argv = ["true"]
TOML
cat > rollback.toml <<TOML
[target]
name = "shop"
state_dir = "$WORK/state"
[[condition]]
name = "shop-errors"
kind = "alert"
match = { alertname = "HighErrorRate" }
[server]
listen = "127.0.0.1:9095"
[decision]
mode = "confirm"
playbook = "pb.toml"
TOML
chmod 0644 pb.toml rollback.toml
rc=0
"$RB" approve 0123456789abcdef -c rollback.toml --yes > out.txt 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat out.txt; fail "approve as root on the service's state: exit $rc, not 2"; }
contains out.txt "belongs to nobody"
contains out.txt "sudo -u nobody"
[ -z "$(ls -A state)" ] || { ls -la state; fail "the refused approval wrote into the state directory"; }
rc=0
"$RB" approve 20261205T170000Z-abcdef gate -c rollback.toml > out2.txt 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat out2.txt; fail "a gate's answer as root: exit $rc, not 2"; }
contains out2.txt "belongs to nobody"
pass "approve by another user than the state's owner: refused, nothing written"

rc=0
as_owner "$RB" approve 0123456789abcdef -c "$WORK/rollback.toml" --yes > out3.txt 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat out3.txt; fail "approve as the owner: exit $rc"; }
contains out3.txt "no approval request"
as_owner "$RB" run -p "$WORK/pb.toml" --state-dir "$WORK/state" --yes > out4.txt 2>&1 ||
    { cat out4.txt; fail "the owner cannot run"; }
pass "the owner's approve gets past the check; the owner still runs"
