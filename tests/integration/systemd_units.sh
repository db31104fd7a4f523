#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The systemd units `cmake --install` installs: `systemd-analyze verify` passes on every one (the
# ExecStart binary exists, the man page of Documentation= is found), the service is hardened as
# docs/install.md says, the timers run the checklist's schedule.
source "$(dirname "$0")/../support/itest.sh"
command -v systemd-analyze >/dev/null || { echo "skip: systemd-analyze not installed"; exit 125; }
command -v cmake >/dev/null || { echo "skip: cmake not installed"; exit 125; }
build=$(dirname "$RB")
[ -f "$build/cmake_install.cmake" ] || { echo "skip: $build is not a build tree"; exit 125; }

prefix=$WORK/usr
cmake --install "$build" --prefix "$prefix" > "$WORK/install.log"
units=$prefix/lib/systemd/system
for f in rollback-monitor.service rollback-backup-verify.service rollback-backup-verify.timer \
         rollback-rehearse.service rollback-rehearse.timer; do
    [ -f "$units/$f" ] || fail "not installed: $units/$f"
done
contains "$units/rollback-monitor.service" "ExecStart=$prefix/bin/rollback monitor -c $prefix/etc/rollback/rollback.toml"
[ -f "$prefix/etc/rollback/rollback.toml" ] || fail "no $prefix/etc/rollback/rollback.toml"
pass "units installed, naming the installed binary and config"

n=0
for u in "$units"/*; do
    # Documentation=man:rollback(1): found under the install prefix.
    MANPATH=$prefix/share/man SYSTEMD_LOG_LEVEL=notice \
        systemd-analyze verify "$u" > "$WORK/verify.out" 2>&1 || {
        cat "$WORK/verify.out" >&2; fail "systemd-analyze verify $(basename "$u")"; }
    # An unknown key is only a warning (exit 0): any output fails.
    if [ -s "$WORK/verify.out" ]; then
        cat "$WORK/verify.out" >&2; fail "systemd-analyze verify warns about $(basename "$u")"
    fi
    n=$((n + 1))
done
pass "systemd-analyze verify: $n units"

m=$units/rollback-monitor.service
for line in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
            StateDirectory=rollback ReadWritePaths=/var/lib/rollback User=rollback \
            SupplementaryGroups=adm; do
    contains "$m" "$line"
done
contains "$units/rollback-backup-verify.service" 'rollback backup verify --catalog ${ROLLBACK_BACKUP_CATALOG}'
contains "$units/rollback-rehearse.service" 'rollback rehearse -p ${ROLLBACK_PLAYBOOK}'
contains "$units/rollback-backup-verify.timer" "OnCalendar=daily"
contains "$units/rollback-rehearse.timer" "OnCalendar=quarterly"
systemd-analyze calendar quarterly > "$WORK/cal" 2>&1 || fail "quarterly is not a calendar spec"
contains "$WORK/cal" "*-01,04,07,10-01 00:00:00"
pass "hardening and schedules"

# The installed config validates as far as it can without the playbook a person writes; the
# installed man page and completions are in their standard places.
[ -f "$prefix/share/man/man1/rollback.1.gz" ] || [ -f "$prefix/share/man/man1/rollback.1" ] ||
    fail "no man page"
[ -f "$prefix/share/bash-completion/completions/rollback" ] || fail "no bash completion"
[ -f "$prefix/share/zsh/vendor-completions/_rollback" ] || fail "no zsh completion"
[ -x "$prefix/share/rollback/hooks/notify" ] || fail "hooks not installed executable"
[ -f "$prefix/share/rollback/playbooks/ecommerce.toml" ] || fail "no playbooks"
MANPATH=$prefix/share/man man -w 1 rollback | grep -qF "$prefix/share/man/man1/rollback.1" ||
    fail "man -w 1 rollback does not find the installed page"
pass "cmake --install layout"
