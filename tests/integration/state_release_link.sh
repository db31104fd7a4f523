#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 48/F8: a rollback.toml kept in a release (reached through `current`) with a relative
# or default state_dir has its state inside the release: a rollback that switches `current`
# moves the state and its lock, and a second starter would run beside the first. Refused (exit
# 2, nothing switched) by validate -c, run, trigger and monitor when a release_switch step of the
# playbook manages the directory the state is in; warned of when the config was reached through
# a directory link and the state is relative; an absolute state_dir outside the releases works.
source "$(dirname "$0")/../support/itest.sh"
unset ROLLBACK_STATE_DIR
cd "$WORK"; W=$WORK
write_release() { # VERSION STATE_DIR_LINE
    mkdir -p deploy/releases/$1/playbooks
    echo "$1" > deploy/releases/$1/REVISION
    cat > deploy/releases/$1/playbooks/pb.toml <<TOML
[playbook]
name = "code"
[[step]]
id = "switch"
phase = "code"
action = "release_switch"
deploy_root = "$W/deploy"
to = "previous"
TOML
    cat > deploy/releases/$1/rollback.toml <<TOML
[target]
name = "shop"
$2
[source.c]
kind = "command"
argv = ["echo", "9"]
timeout = "1s"
[[condition]]
name = "c"
signal = "c.value"
above = 5
severity = "critical"
[decision]
mode = "auto"
playbook = "playbooks/pb.toml"
interval = "1s"
TOML
}
for v in v1 v2; do write_release $v ""; done
touch -d '2 hours ago' deploy/releases/v1
ln -sfn releases/v2 deploy/current
C=deploy/current/rollback.toml
for cmd in "validate -c $C" "run -p deploy/current/playbooks/pb.toml --yes" \
           "trigger -c $C --condition security --reason cve --yes" "monitor -c $C --once"; do
    # shellcheck disable=SC2086
    expect_rc 2 out -- "$RB" $cmd
    contains out "pb.toml:3:1: step \"switch\" (release_switch) replaces the releases of deploy_root $W/deploy"
    contains out "the state directory $W/deploy/releases/v2/.rollback"
    contains out "hint: set an absolute state_dir outside the releases"
    [ "$(readlink deploy/current)" = releases/v2 ] || fail "$cmd switched the release"
done
[ ! -e deploy/releases/v2/.rollback/runs ] || fail "a run started in the release's state"
pass "a state inside the releases a step switches is refused by validate, run, trigger, monitor"

# An absolute state_dir outside the releases: one state whatever `current` points to.
for v in v1 v2; do write_release $v "state_dir = \"$W/state\""; done
expect_rc 0 run.out -- "$RB" run -p deploy/current/playbooks/pb.toml --yes --reason person
[ "$(readlink deploy/current)" = releases/v1 ] || fail "the run did not switch: $(cat run.out)"
expect_rc 0 hist.out -- "$RB" history -c $C
contains hist.out "person"
if grep -q "reached through a symbolic link" run.out; then fail "warned of an absolute state_dir"; fi
pass "an absolute state_dir outside the releases: the run switches, the state stays"

# No step switches it, but the config was reached through a link: a warning, not a refusal.
mkdir -p app/releases/a1/playbooks
printf '[playbook]\nname="p"\n[[step]]\nid="a"\naction="exec"\nargv=["true"]\n' \
    > app/releases/a1/playbooks/pb.toml
printf '[target]\nname="app"\n[source.c]\nkind="command"\nargv=["echo","1"]\n[[condition]]\nname="c"\nsignal="c.value"\nabove=5\n[decision]\nplaybook="playbooks/pb.toml"\n' \
    > app/releases/a1/rollback.toml
ln -sfn releases/a1 app/current
expect_rc 0 warn.out -- "$RB" run -p app/current/playbooks/pb.toml --yes
contains warn.out "warning: $W/app/releases/a1/rollback.toml was reached through a symbolic link"
contains warn.out "the state $W/app/releases/a1/.rollback is inside what the link points to now"
expect_rc 0 warn2.out -- "$RB" history -c app/current/rollback.toml
contains warn2.out "rollback.toml was reached through a symbolic link"
expect_rc 0 nowarn.out -- "$RB" history -c app/releases/a1/rollback.toml
if grep -q "symbolic link" nowarn.out; then fail "warned without a link"; fi
pass "a config reached through a directory link with a relative state is warned of"
