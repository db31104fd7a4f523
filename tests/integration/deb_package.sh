#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian package: `cpack -G DEB` from this build tree builds it with its dependencies and
# conffiles declared; `dpkg -i` installs it (system user, state directory); the installed
# /usr/bin/rollback runs, `man -w 1 rollback` finds its page; `dpkg -r` removes every file it
# installed but the conffiles, `dpkg -P` those, the engine's state and the user, and keeps what is
# not the engine's state (backups, reconciliation exports) as root's, listed; a new install takes
# it back. The package is
# purged on every exit, failed or not. Root only: it installs into this machine.
source "$(dirname "$0")/../support/itest.sh"
[ "$(id -u)" -eq 0 ] || { echo "skip: installing a package needs root"; exit 125; }
for tool in dpkg dpkg-deb cpack man; do
    command -v "$tool" >/dev/null || { echo "skip: $tool not installed"; exit 125; }
done
build=$(dirname "$RB")
[ -f "$build/CPackConfig.cmake" ] || { echo "skip: $build is not a build tree"; exit 125; }
if dpkg-query -W -f='${Status}' rollback 2>/dev/null | grep -q 'install ok'; then
    echo "skip: a rollback package is installed already; this test does not touch it"; exit 125
fi
if [ -e /usr/bin/rollback ] || getent passwd rollback >/dev/null; then
    echo "skip: /usr/bin/rollback or a user rollback exists (not from this test)"; exit 125
fi
on_exit 'timeout 60 dpkg -P rollback >/dev/null 2>&1; rm -rf /var/lib/rollback
         [ ! -L /etc/rollback/rollback.toml ] || rm -rf /etc/rollback'

start=$SECONDS
timeout 180 cpack -G DEB --config "$build/CPackConfig.cmake" -B "$WORK/pkg" > "$WORK/cpack.log" 2>&1 ||
    { cat "$WORK/cpack.log" >&2; fail "cpack -G DEB"; }
deb=$(ls "$WORK"/pkg/rollback_*.deb)
dpkg-deb -f "$deb" Depends > "$WORK/depends"
for dep in adduser python3 libpq5 libspdlog libtomlplusplus libssl3 libre2 libc6; do
    contains "$WORK/depends" "$dep"
done
# Boost and libpqxx are a dependency when the binary loads them, and none when it was linked from
# their static archives (ROLLBACK_STATIC_ARCHIVES, docs/benchmarks.md): Depends follows NEEDED.
readelf -d "$build/rollback" > "$WORK/needed"
for pair in libboost_program_options:libboost-program-options libboost_json:libboost-json \
            libpqxx:libpqxx; do
    if grep -q "${pair%%:*}" "$WORK/needed"; then
        contains "$WORK/depends" "${pair#*:}"
    elif grep -q "${pair#*:}" "$WORK/depends"; then
        fail "Depends names ${pair#*:}, which the binary does not load: $(cat "$WORK/depends")"
    fi
done
mkdir "$WORK/control"
dpkg-deb -e "$deb" "$WORK/control"
contains "$WORK/control/conffiles" "/etc/rollback/rollback.toml"
contains "$WORK/control/conffiles" "/etc/default/rollback"
# A synopsis within Debian Policy's 80 characters, and a long description (break-it round 33, 09).
dpkg-deb -f "$deb" Description > "$WORK/description"
[ "$(head -1 "$WORK/description" | wc -c)" -le 80 ] || fail "synopsis over 80: $(head -1 "$WORK/description")"
[ "$(wc -l < "$WORK/description")" -ge 3 ] || fail "no long description: $(cat "$WORK/description")"
pass "built $(basename "$deb") in $((SECONDS - start)) s; Depends: $(cat "$WORK/depends")"

timeout 60 dpkg -i "$deb" > "$WORK/dpkg-i.log" 2>&1 || { cat "$WORK/dpkg-i.log" >&2; fail "dpkg -i"; }
version=$(dpkg-deb -f "$deb" Version)
/usr/bin/rollback --version > "$WORK/version"
contains "$WORK/version" "rollback $version"
/usr/bin/rollback help > "$WORK/help"
contains "$WORK/help" "rehearse -p PLAYBOOK"
man -w 1 rollback > "$WORK/man-w"
contains "$WORK/man-w" "/usr/share/man/man1/rollback.1"
[ -x /usr/share/rollback/hooks/notify ] || fail "hooks not executable"
[ -f /usr/share/bash-completion/completions/rollback ] || fail "no bash completion"
[ -f /usr/share/zsh/vendor-completions/_rollback ] || fail "no zsh completion"
[ -f /usr/lib/systemd/system/rollback-monitor.service ] ||
    fail "no rollback-monitor.service"
contains /usr/lib/systemd/system/rollback-monitor.service "ExecStart=/usr/bin/rollback monitor -c /etc/rollback/rollback.toml"
getent passwd rollback > /dev/null || fail "no system user rollback"
[ "$(stat -c '%U %a' /var/lib/rollback)" = "rollback 750" ] || fail "/var/lib/rollback: $(stat -c '%U %a' /var/lib/rollback)"
for f in /etc/rollback/rollback.toml /etc/default/rollback; do
    [ "$(stat -c '%U:%G %a' "$f")" = "root:rollback 640" ] || fail "$f: $(stat -c '%U:%G %a' "$f")"
done
# The installed playbooks find the installed hooks (../hooks), and validate.
/usr/bin/rollback validate /usr/share/rollback/playbooks/database-only.toml > "$WORK/validate" 2>&1 ||
    { cat "$WORK/validate" >&2; fail "the installed playbook does not validate"; }
# The first playbook finds the installed hooks, and the playbooks' smoke step is installed.
/usr/bin/rollback validate /usr/share/rollback/examples/hello/hello.toml > "$WORK/validate" 2>&1 ||
    { cat "$WORK/validate" >&2; fail "the installed hello.toml does not validate"; }
[ -x /usr/share/rollback/examples/ecommerce/smoke-order.sh ] || fail "smoke-order.sh not installed"
# The reference the shipped configuration points at, and the copyright file Debian requires.
for d in copyright README.md install.md config.md playbook.md actions.md metrics.md decision.md; do
    [ -s "/usr/share/doc/rollback/$d" ] || fail "/usr/share/doc/rollback/$d not installed"
done
contains /usr/share/doc/rollback/copyright "License: MIT"
pass "installed: --version, help, man -w 1 rollback, units, user, state directory, docs"

dpkg -L rollback > "$WORK/files"
dpkg-query -W -f='${Conffiles}\n' rollback | awk 'NF { print $1 }' > "$WORK/conffiles"
timeout 60 dpkg -r rollback > "$WORK/dpkg-r.log" 2>&1 || { cat "$WORK/dpkg-r.log" >&2; fail "dpkg -r"; }
left=0
while read -r f; do
    if grep -qxF "$f" "$WORK/conffiles"; then continue; fi
    # A directory holding a conffile stays with it until the purge (/etc/rollback).
    if [ -d "$f" ] && grep -q "^$f/" "$WORK/conffiles"; then continue; fi
    # Shared directories (/usr, /usr/share/man/man1, ...) stay; a file, or a directory of ours, goes.
    if [ -e "$f" ] && { [ ! -d "$f" ] || [[ $f == */rollback ]]; }; then
        echo "left after dpkg -r: $f" >&2; left=$((left + 1))
    fi
done < "$WORK/files"
[ "$left" -eq 0 ] || fail "$left paths left after dpkg -r"
[ ! -e /usr/bin/rollback ] || fail "/usr/bin/rollback left"
pass "dpkg -r: nothing of $(wc -l < "$WORK/files") paths left but the conffiles"

timeout 60 dpkg -P rollback > "$WORK/dpkg-P.log" 2>&1 || { cat "$WORK/dpkg-P.log" >&2; fail "dpkg -P"; }
while read -r f; do [ ! -e "$f" ] || fail "conffile left after purge: $f"; done < "$WORK/conffiles"
[ ! -e /etc/rollback ] || fail "/etc/rollback left after purge"
[ ! -e /var/lib/rollback ] || fail "/var/lib/rollback left after purge"
! getent passwd rollback > /dev/null || fail "user rollback left after purge"
pass "dpkg -P: conffiles, state directory and user gone ($((SECONDS - start)) s in all)"

# A purge of a package that has been used: the engine's state goes (by name), everything else
# stays — the database backups of any catalog in the state directory, not only `backups` (break-it
# round 33, finding 14), the reconciliation exports — given to root, 0700/0600, and listed: the
# removed user's uid goes to the next system account (finding 05). A new install takes them back.
timeout 60 dpkg -i "$deb" > "$WORK/dpkg-i2.log" 2>&1 || { cat "$WORK/dpkg-i2.log" >&2; fail "dpkg -i again"; }
s=/var/lib/rollback
mkdir -p $s/backups $s/catalogs/shop $s/runs/R1/reconcile $s/runs/R1/gates $s/decisions $s/rehearsals
echo dump > $s/backups/shop-20261206T000000Z.dump
echo '{}' > $s/backups/shop-20261206T000000Z.json
echo dump > $s/catalogs/shop/shop-20261206T000000Z.dump
echo '{}' > $s/catalogs/shop/shop-20261206T000000Z.json
echo "1001,late order" > $s/runs/R1/reconcile/orders.missing.csv
echo '{}' > $s/runs/R1.jsonl
echo '{}' > $s/runs/R1/gates/g.json
echo '{}' > $s/decisions/d.json
echo '{}' > $s/rehearsals/r.json
echo '{}' > $s/alerts.json
: > $s/lock; : > $s/rollback.log; : > $s/rollback.log.1
chown -R rollback:rollback $s
chmod 0640 $s/backups/*
# A catalog kept outside the state directory (docs/install.md: /var/backups/shop, given to the
# service user), and a file of its group only: the purge gives both to root, modes kept, and
# lists them (break-it, issue 13/08: they stayed with the removed user's uid and gid).
outside=$(mktemp -d /var/backups/rollback-itest.XXXXXX)
on_exit "rm -rf '$outside'"
mkdir -p "$outside/shop"
echo dump > "$outside/shop/shop-20261206T000000Z.dump"
echo '{}' > "$outside/shop/shop-20261206T000000Z.json"
echo notes > "$outside/group-only.txt"
chown -R rollback:rollback "$outside/shop"
chmod 0750 "$outside/shop"; chmod 0640 "$outside/shop"/*
chgrp rollback "$outside/group-only.txt"; chmod 0640 "$outside/group-only.txt"
kept="backups/shop-20261206T000000Z.dump backups/shop-20261206T000000Z.json
      catalogs/shop/shop-20261206T000000Z.dump catalogs/shop/shop-20261206T000000Z.json
      runs/R1/reconcile/orders.missing.csv"
timeout 60 dpkg -r rollback > "$WORK/dpkg-r2.log" 2>&1 || { cat "$WORK/dpkg-r2.log" >&2; fail "dpkg -r again"; }
timeout 60 dpkg -P rollback > "$WORK/dpkg-P2.log" 2>&1 || { cat "$WORK/dpkg-P2.log" >&2; fail "dpkg -P again"; }
for f in $kept; do
    [ -f $s/$f ] || fail "the purge deleted $s/$f"
    contains "$WORK/dpkg-P2.log" "$s/$f"
done
for f in runs/R1.jsonl runs/R1/gates decisions rehearsals alerts.json lock rollback.log rollback.log.1; do
    [ ! -e $s/$f ] || fail "the purge left the engine's $s/$f"
done
contains "$WORK/dpkg-P2.log" "kept $s (now root:root"
bad=$(find $s \( -type d ! -perm 0700 \) -o \( -type f ! -perm 0600 \) -o ! -user root -o ! -group root)
[ -z "$bad" ] || { ls -laR $s >&2; fail "kept after the purge, not root's 0700/0600: $bad"; }
pass "dpkg -P keeps every catalog and the reconciliation exports as root's (0700/0600), lists them, deletes the engine's state"
for f in "$outside/shop" "$outside/shop/shop-20261206T000000Z.dump" "$outside/shop/shop-20261206T000000Z.json"; do
    contains "$WORK/dpkg-P2.log" "  $f"
done
contains "$WORK/dpkg-P2.log" "  $outside/group-only.txt"
[ "$(stat -c '%U:%G %a' "$outside/shop")" = "root:root 750" ] ||
    fail "the outside catalog after the purge: $(stat -c '%U:%G %a' "$outside/shop")"
[ "$(stat -c '%U:%G %a' "$outside/shop/shop-20261206T000000Z.dump")" = "root:root 640" ] ||
    fail "the outside dump after the purge: $(stat -c '%U:%G %a' "$outside/shop/shop-20261206T000000Z.dump")"
[ "$(stat -c '%U:%G %a' "$outside/group-only.txt")" = "root:root 640" ] ||
    fail "a file of the group after the purge: $(stat -c '%U:%G %a' "$outside/group-only.txt")"
[ -z "$(find "$outside" -nouser -o -nogroup)" ] || fail "a path of $outside left to no user or group"
pass "dpkg -P gives a catalog kept outside /var/lib/rollback (and the group's files) to root, modes kept, and lists them"

timeout 60 dpkg -i "$deb" > "$WORK/dpkg-i3.log" 2>&1 || { cat "$WORK/dpkg-i3.log" >&2; fail "dpkg -i after the purge"; }
contains "$WORK/dpkg-i3.log" "given to the user rollback"
bad=$(find $s ! -user rollback)
[ -z "$bad" ] || { ls -laR $s >&2; fail "not taken back by the new install: $bad"; }
runuser -u rollback -- cat $s/catalogs/shop/shop-20261206T000000Z.dump > /dev/null ||
    fail "the new user cannot read the kept catalog"
runuser -u rollback -- touch $s/runs/R2.jsonl || fail "the new user cannot write runs/"
pass "a new install gives the kept data to its user rollback"

# postinst never follows a symlinked configuration to take its target (finding 13), and an upgrade
# keeps the configuration's mode.
mkdir -p "$WORK/cfg" && cp /etc/rollback/rollback.toml "$WORK/cfg/rollback.toml"
chown nobody "$WORK/cfg/rollback.toml"; chmod 0664 "$WORK/cfg/rollback.toml"
ln -sf "$WORK/cfg/rollback.toml" /etc/rollback/rollback.toml
chmod 0600 /etc/default/rollback
sh /var/lib/dpkg/info/rollback.postinst configure "$version" > "$WORK/postinst.log" 2>&1 ||
    { cat "$WORK/postinst.log" >&2; fail "postinst configure (an upgrade)"; }
[ "$(stat -c '%U %a' "$WORK/cfg/rollback.toml")" = "nobody 664" ] ||
    fail "postinst took the symlinked configuration's target: $(stat -c '%U %a' "$WORK/cfg/rollback.toml")"
[ "$(stat -c '%a' /etc/default/rollback)" = "600" ] || fail "an upgrade changed /etc/default/rollback's mode"
# The conffile back in place, so that the purge removes it (dpkg leaves a symlink there).
rm /etc/rollback/rollback.toml && cp "$WORK/cfg/rollback.toml" /etc/rollback/rollback.toml
timeout 60 dpkg -P rollback > "$WORK/dpkg-P3.log" 2>&1 || { cat "$WORK/dpkg-P3.log" >&2; fail "dpkg -P at the end"; }
rm -rf $s
pass "postinst leaves a symlinked configuration's target and an upgraded configuration's mode alone"
