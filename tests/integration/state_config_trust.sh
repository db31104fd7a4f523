#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 48/F9: a rollback.toml the search finds (not named with -c) chooses the run lock and
# the state, so it is used only when it is this user's or root's, writable by nobody else, and
# not in a world-writable directory (a sticky /tmp included). Otherwise exit 2 naming the file,
# its owner and the way out (-c FILE, --state-dir); nothing runs and nothing is written where
# the file pointed. Named with -c, the same file is used. (The other user: nobody, with setpriv,
# when this runs as root; those parts are skipped otherwise.)
source "$(dirname "$0")/../support/itest.sh"
unset ROLLBACK_STATE_DIR
cd "$WORK"; W=$WORK
cfg() { # STATE_DIR
    printf '[target]\nname="t"\nstate_dir="%s"\n[source.c]\nkind="command"\nargv=["echo","1"]\n[[condition]]\nname="c"\nsignal="c.value"\nabove=5\n' "$1"
}
mkdir -p shop/playbooks
printf '[playbook]\nname="p"\n[[step]]\nid="a"\naction="exec"\nargv=["sh","-c","echo ran >> %s/ran"]\n' "$W" \
    > shop/playbooks/pb.toml
cfg "$W/shop-state" > shop/rollback.toml

# Writable by the owner's private group (Debian's umask 002 for users): used.
chmod 664 shop/rollback.toml
if [ "$(id -u)" = 0 ] && [ -z "$(getent group root | cut -d: -f4)" ]; then
    chgrp root shop/rollback.toml
    expect_rc 0 upg.out -- "$RB" status -p shop/playbooks/pb.toml
    pass "a configuration writable by its owner's private group is used"
fi
# Writable by another group: refused; named with -c: used.
if [ "$(id -u)" = 0 ]; then # chgrp to a group not the owner's needs root
    chgrp nogroup shop/rollback.toml
    expect_rc 2 g.out -- "$RB" run -p shop/playbooks/pb.toml --yes
    contains g.out "$W/shop/rollback.toml: not used as the configuration: it is writable by its group"
    contains g.out "hint: to use it deliberately pass -c $W/shop/rollback.toml; or name the state with --state-dir DIR"
    [ ! -e ran ] || fail "the run started with an untrusted configuration"
    expect_rc 2 g2.out -- "$RB" status -p shop/playbooks/pb.toml
    expect_rc 0 g3.out -- "$RB" run -p shop/playbooks/pb.toml --yes -c shop/rollback.toml
    [ -d shop-state/runs ] || fail "-c FILE was not used"
    chmod 644 shop/rollback.toml
    expect_rc 0 ok.out -- "$RB" run -p shop/playbooks/pb.toml --yes
    pass "a configuration writable by others is refused by the search, used with -c"
fi

# A world-writable (sticky) directory: a rollback.toml there is never read, whoever owns it.
mkdir pub && chmod 1777 pub && mkdir -m 700 pub/victim
printf '[playbook]\nname="h"\n[[step]]\nid="a"\naction="exec"\nargv=["true"]\n' > pub/victim/x.toml
cfg "$W/pub/atk/st" > pub/rollback.toml
expect_rc 2 w.out -- "$RB" run -p pub/victim/x.toml --yes
contains w.out "$W/pub/rollback.toml: not used as the configuration: it is in $W/pub, a directory every user can write to"
(cd pub && "$RB" history) > w2.out 2>&1 && fail "./rollback.toml in a world-writable directory was read"
contains w2.out "a directory every user can write to"
[ ! -e pub/atk ] || fail "the state went where the planted file said"
rm pub/rollback.toml
pass "a configuration in a world-writable directory is never read by the search"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
    as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    chmod 711 "$W" # the other user reaches pub/, as it would reach /tmp
    # Another user plants a rollback.toml one directory above a private playbook (in the
    # sticky directory): refused, its state never created.
    as_nobody sh -c "mkdir -m 777 $W/pub/atk2; printf '[target]\nname=\"pwn\"\nstate_dir=\"$W/pub/atk2/st\"\n[source.c]\nkind=\"command\"\nargv=[\"true\"]\n[[condition]]\nname=\"c\"\nsignal=\"c.value\"\nabove=5\n' > $W/pub/rollback.toml"
    expect_rc 2 n.out -- "$RB" run -p pub/victim/x.toml --yes
    contains n.out "$W/pub/rollback.toml: not used as the configuration"
    [ ! -e pub/atk2/st ] || fail "root's run kept its state where another user said"
    # Owned by another user, in a directory only root writes: refused naming the owner.
    chown 65534 shop/rollback.toml
    expect_rc 2 o.out -- "$RB" run -p shop/playbooks/pb.toml --yes
    contains o.out "it belongs to nobody (uid 65534), not to you (root (uid 0)) or root"
    expect_rc 0 o2.out -- "$RB" history -c shop/rollback.toml
    chown 0 shop/rollback.toml
    pass "another user's rollback.toml is refused by the search, named with its owner"
else
    echo "skipped: the other-user cases need root, setpriv and the user nobody"
fi
