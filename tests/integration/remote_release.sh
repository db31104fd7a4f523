# SPDX-License-Identifier: MIT
# Release rollback on hosts over OpenSSH (issue 15, second slice), against four sshd on
# 127.0.0.1: release_switch and a service restart (manager "command") in batches of 2, an http
# check per host ({{host.http_port}} in the URL), a finally step on hosts, kill -9 of the engine
# mid-batch and a resume that finishes exactly the unfinished hosts; `plan` naming each host's
# problem (missing release, missing restart script) with exit 2; a remote program killed by a
# signal reported as on the engine's machine.
source "$(dirname "$0")/../support/itest.sh"
# Bounded, but past the whole test on a loaded machine: a listener gone by its own timeout
# would leave its connections up, and sshd_host_stop could no longer end them.
export SSHD_LIFETIME=300
source "$(dirname "$0")/../support/sshd_hosts.sh"
sshd_hosts_start 4

cd "$WORK"
mkdir -p pb
declare -a HTTP_PORT
for i in 1 2 3 4; do
    r=${HOST_ROOT[$i]}
    for v in v1 v2; do
        mkdir -p "$r/releases/$v/.rollback-config/shared/config"
        echo "$v" >"$r/releases/$v/REVISION"
        echo "RELEASE=$v" >"$r/releases/$v/.rollback-config/shared/config/shop.env"
    done
    mkdir -p "$r/shared/config" "$r/bin" "$r/www"
    echo "RELEASE=v2" >"$r/shared/config/shop.env"
    chmod 640 "$r/shared/config/shop.env"
    printf '2026-12-01T10:00:00Z v1\n2026-12-05T10:00:00Z v2\n' >"$r/deploys.log"
    ln -s releases/v2 "$r/current"
    # The service's restart script: a slow one where the file `slow` exists.
    cat >"$r/bin/restart" <<'EOT'
#!/bin/sh
cd "$(dirname "$0")/.." || exit 1
echo "restart $(readlink current)" >> restarts
if [ -e slow ]; then sleep 30; fi
exit 0
EOT
    chmod +x "$r/bin/restart"
    echo ok >"$r/www/health"
    HTTP_PORT[$i]=$(free_port)
    HOST_VARS[$i]="http_port = \"${HTTP_PORT[$i]}\""
    (cd "$r/www" && exec timeout 120 python3 -m http.server --bind 127.0.0.1 "${HTTP_PORT[$i]}" >/dev/null 2>&1) &
    stop_on_exit $!
done
for i in 1 2 3 4; do
    for _ in $(seq 1 50); do
        curl -fsS "http://127.0.0.1:${HTTP_PORT[$i]}/health" >/dev/null 2>&1 && break
        sleep 0.1
    done
done

host_playbook pb/release.toml <<'EOT'
[[step]]
id = "switch"
phase = "code"
action = "release_switch"
hosts = "web"
batch = 2
idempotent = true
deploy_root = "{{host.deploy_root}}"
to = "previous"
config_files = ["shared/config/shop.env"]
complete_marker = "REVISION"

[[step]]
id = "restart"
phase = "code"
action = "service"
hosts = "web"
batch = 2
idempotent = true
needs = ["switch"]
manager = "command"
op = "restart"
restart = ["{{host.deploy_root}}/bin/restart"]

[[step]]
id = "health"
phase = "verify"
action = "http"
hosts = "web"
url = "http://127.0.0.1:{{host.http_port}}/health"
expect_status = 200

[[finally]]
id = "mark"
action = "exec"
hosts = "web"
argv = ["sh", "-c", "echo done > finally-ran"]
cwd = "{{host.deploy_root}}"
EOT
expect_rc 0 outv -- "$RB" validate pb/release.toml

# 1. plan: every host checked (reachable, release v1 complete, restart script present), exit 0.
expect_rc 0 outp -- "$RB" plan -p pb/release.toml --state-dir stp
contains outp "host web3 (127.0.0.1:${SSHD_PORT[3]}) is reachable and its key is known"
contains outp "target release v1 (previous by history deploys.log on host web4) exists and is complete"
contains outp "is executable on host web2"
pass "plan checks each host: reachable, target release, the service's script"

# 2. run, kill -9 of the engine while web3's restart is slow, resume finishes exactly web3.
touch "${HOST_ROOT[3]}/slow"
run_killed_at restarts pb/release.toml st1 out1 3 4
for i in 1 2 3 4; do
    [ "$(readlink "${HOST_ROOT[$i]}/current")" = releases/v1 ] || fail "host $i: current not switched to v1"
    [ "$(cat "${HOST_ROOT[$i]}/shared/config/shop.env")" = RELEASE=v1 ] || fail "host $i: config not restored"
    [ "$(stat -c %a "${HOST_ROOT[$i]}/shared/config/shop.env")" = 640 ] || fail "host $i: config mode changed"
done
# the switch ran in batches of 2: web3 started after web1 and web2 finished
batches_in_order st1 switch "web1 web2" "web3 web4"
rm -f "${HOST_ROOT[3]}/slow"
[ ! -e "${HOST_ROOT[1]}/finally-ran" ] || fail "the finally step ran before the run ended"
expect_rc 0 out1r -- "$RB" resume --yes --state-dir st1
lines_on_hosts restarts 1 1 2 1 # host 3 (unfinished) restarted again, no other host
grep -qx "restart releases/v1" "${HOST_ROOT[3]}/restarts" || fail "host 3 restarted on the wrong release"
for i in 1 2 3 4; do
    [ "$(readlink "${HOST_ROOT[$i]}/current")" = releases/v1 ] || fail "host $i: resume switched again"
    [ -e "${HOST_ROOT[$i]}/finally-ran" ] || fail "host $i: the finally step did not run"
done
contains out1r "succeeded on 4 of 4 hosts"
[ "$(python3 -c 'import json,sys; print(len([b for b in json.load(open(sys.argv[1]))["bad_releases"] if b["release"] == "v2"]))' st1/releases.json)" = 4 ] ||
    { cat st1/releases.json >&2; fail "v2 not marked bad once per host"; }
contains st1/releases.json "web3:${HOST_ROOT[3]}"
pass "4-host release_switch + restart in batches of 2; kill -9 mid-batch; resume finishes exactly web3; finally on hosts"

# 3. a host whose http check fails: verification failed (exit 3), the host named.
rm "${HOST_ROOT[2]}/www/health"
host_playbook pb/health.toml <<'EOT'
[[step]]
id = "health"
phase = "verify"
action = "http"
hosts = "web"
url = "http://127.0.0.1:{{host.http_port}}/health"
expect_status = 200
EOT
expect_rc 3 out3 -- "$RB" run -p pb/health.toml --yes --state-dir st3
contains out3 "failed on 1 of 4 hosts (max_failures 0): web2"
pass "an http check per host: the failing host is named, exit 3"

# 4. plan with a host missing the target release and one missing the restart script: exit 2,
#    each problem named with its host.
rm -rf "${HOST_ROOT[2]}/releases/v1" "${HOST_ROOT[4]}/bin/restart"
for i in 1 2 3 4; do (cd "${HOST_ROOT[$i]}" && ln -sfn releases/v2 current); done
rm -rf st1
expect_rc 2 out4 -- "$RB" plan -p pb/release.toml --state-dir st4
contains out4 "release \"v1\" does not exist (no directory ${HOST_ROOT[2]}/releases/v1 on host web2)"
contains out4 "program ${HOST_ROOT[4]}/bin/restart on host web4"
expect_rc 2 out4r -- "$RB" run -p pb/release.toml --yes --state-dir st4
[ "$(readlink "${HOST_ROOT[1]}/current")" = releases/v2 ] || fail "a step ran despite the preflight errors"
pass "preflight names each host's problem (missing release, missing script), exit 2"

# 5. a remote program killed by a signal: "killed by signal 9", exit code 137 in the record.
host_playbook pb/signal.toml <<'EOT'
[[step]]
id = "crash"
action = "exec"
hosts = "web1"
argv = ["sh", "-c", "kill -9 $$"]
EOT
expect_rc 1 out5 -- "$RB" run -p pb/signal.toml --yes --state-dir st5
contains out5 "web1 (killed by signal 9)"
grep -h '"step_host_finished"' st5/runs/*.jsonl | grep -q '"exit_code":137' || fail "no exit code 137 in step_host_finished"
pass "a remote program killed by a signal shows as killed by signal 9 (exit code 137)"
