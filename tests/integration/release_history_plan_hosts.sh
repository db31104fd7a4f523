#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Inputs read back at run time and what plan shows (break-it 26/16, 26/17):
# - release_switch to = "previous" takes a name from deploys.log: a line naming no release
#   (../../outside, /abs, a/b, ..) fails the preflight naming FILE:LINE, nothing is switched;
# - plan / plan --json show a host step's {{host}} / {{host.NAME}} as written, never the
#   placeholder bytes.
source "$(dirname "$0")/../support/itest.sh"

cd "$WORK"
for bad in "../../outside" "/abs/dir" "a/b" ".."; do
    rm -rf root outside pb.toml
    mkdir -p root/releases/v1 root/releases/v2 root/shared/config outside/.rollback-config/shared/config
    echo a >root/releases/v1/REVISION; echo b >root/releases/v2/REVISION; echo x >outside/REVISION
    echo "DB_PASSWORD=live" >root/shared/config/shop.env
    echo "DB_HOST=attacker.example" >outside/.rollback-config/shared/config/shop.env
    mkdir -p root/releases/v1/.rollback-config/shared/config
    cp root/shared/config/shop.env root/releases/v1/.rollback-config/shared/config/
    ln -s releases/v2 root/current
    printf '# deploys\n2026-12-01T00:00:00Z %s\n2026-12-02T00:00:00Z v2\n' "$bad" >root/deploys.log
    cat >pb.toml <<TOML
[[step]]
id = "revert-code"
action = "release_switch"
deploy_root = "$WORK/root"
to = "previous"
config_files = ["shared/config/shop.env"]
complete_marker = "REVISION"
TOML
    expect_rc 2 run.out -- "$RB" run -p pb.toml --yes --state-dir st-$RANDOM
    contains run.out "deploys.log:2: \"$bad\" is not a release name"
    [ "$(readlink root/current)" = releases/v2 ] || fail "current moved for $bad"
    [ "$(cat root/shared/config/shop.env)" = "DB_PASSWORD=live" ] || fail "config replaced for $bad"
done
pass "a history line naming no release fails the preflight at FILE:LINE; nothing switched"

touch known_hosts
cat >hosts.toml <<'TOML'
[remote]
known_hosts = "known_hosts"
[hosts]
web = [{ name = "web1", address = "127.0.0.1", vars = { root = "/srv/shop" } }]
[[step]]
id = "switch"
action = "exec"
hosts = "web"
description = "switch {{host}}"
argv = ["ln", "-sfn", "{{host.root}}/releases/v41", "{{host.root}}/current"]
TOML
"$RB" plan -p hosts.toml >plan.out 2>&1 || true
"$RB" plan -p hosts.toml --json >plan.json 2>&1 || true
contains plan.out "ln -sfn {{host.root}}/releases/v41 {{host.root}}/current"
contains plan.json 'ln -sfn {{host.root}}/releases/v41 {{host.root}}/current'
for f in plan.out plan.json; do
    if LC_ALL=C grep -q $'[\x1e\x1f]' $f || grep -qiF -e '\u001e' -e '\x1e' $f; then
        fail "$f shows the placeholder bytes"
    fi
done
pass "plan shows {{host.root}} as written"
