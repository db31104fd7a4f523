# SPDX-License-Identifier: MIT
# Steps on hosts (issue 15), against four sshd on 127.0.0.1 started by the test: an Ansible YAML
# inventory read as is (group and host vars, ansible_host/ansible_port, children), a bad one a
# located error; a non-idempotent host step with a `probe`, the engine killed -9 mid-step: resume
# runs the probe on the unfinished hosts only (over ssh, on each host) and decides per host —
# done there, run there again, or a person asked when the probe cannot tell.
source "$(dirname "$0")/../support/itest.sh"
export SSHD_LIFETIME=300
source "$(dirname "$0")/../support/sshd_hosts.sh"
sshd_hosts_start 4

cd "$WORK"
mkdir -p pb
{
    echo "all:"
    echo "  vars:"
    echo "    ansible_host: 127.0.0.1"
    echo "  children:"
    echo "    web:"
    echo "      hosts:"
    for i in 1 2 3; do
        echo "        web$i: {ansible_port: ${SSHD_PORT[$i]}, deploy_root: \"${HOST_ROOT[$i]}\"}"
    done
    echo "      vars:"
    echo "        release: v41"
    echo "    db:"
    echo "      hosts:"
    echo "        db1:"
    echo "          ansible_port: ${SSHD_PORT[4]}"
    echo "          deploy_root: ${HOST_ROOT[4]}"
    echo "    shop:"
    echo "      children:"
    echo "        web:"
    echo "        db:"
    echo "      vars:"
    echo "        release: v40"
} >pb/inventory.yml
remote_table() {
    cat <<EOT
[remote]
inventory = "${1:-inventory.yml}"
known_hosts = "$SSH_DIR/known_hosts"
identity = "$SSH_DIR/id_ed25519"
ssh_config = "$SSH_DIR/ssh_config"
EOT
}

# 1. a host step from the YAML inventory: every host of "shop" with its own values (web's
#    release over shop's: the child group's wins).
{
    remote_table
    cat <<'EOT'
[[step]]
id = "switch"
action = "exec"
hosts = "shop"
argv = ["sh", "-c", "echo \"$1 $2\" > current", "switch", "{{host}}", "{{host.release}}"]
cwd = "{{host.deploy_root}}"
EOT
} >pb/yaml.toml
expect_rc 0 out1v -- "$RB" validate pb/yaml.toml
expect_rc 0 out1 -- "$RB" run -p pb/yaml.toml --yes --state-dir st1
for i in 1 2 3; do
    [ "$(cat "${HOST_ROOT[$i]}/current")" = "web$i v41" ] || fail "web$i: $(cat "${HOST_ROOT[$i]}/current")"
done
[ "$(cat "${HOST_ROOT[4]}/current")" = "db1 v40" ] || fail "db1: $(cat "${HOST_ROOT[4]}/current")"
contains out1 "succeeded on 4 of 4 hosts"
pass "a host step runs on the hosts of a YAML inventory, with their variables"

# 2. a bad YAML inventory: a located error, exit 2, nothing run.
printf 'all:\n  hosts:\n    web1:\n      ansible_port: 99999\n    web2: [a]\n' >pb/bad.yml
{
    remote_table bad.yml
    cat <<'EOT'
[[step]]
id = "touch"
action = "exec"
hosts = "all"
argv = ["touch", "/nonexistent/x"]
EOT
} >pb/bad.toml
expect_rc 2 out2 -- "$RB" validate pb/bad.toml
contains out2 "bad.yml:4:21: error: inventory: ansible_port: expected a port 1-65535, got \"99999\""
printf 'all:\n  hosts: &h\n    web1:\n    more: *h\n' >pb/bad.yml
expect_rc 2 out2b -- "$RB" run -p pb/bad.toml --yes --state-dir st2
contains out2b "bad.yml:4:11: error: inventory: an alias inside the node it names (a cycle)"
pass "a bad YAML inventory is a located error (exit 2)"

# 3. kill -9 mid host-step with a probe. web1 finishes; web2's effect is in place when the engine
#    dies, web3's is not, db1's probe cannot tell (exit 3) until a person fixes it.
{
    remote_table
    cat <<'EOT'
[[step]]
id = "migrate"
action = "exec"
hosts = "all"
argv = ["sh", "-c", "echo run >> count; [ ! -e early ] || touch done; [ ! -e slow ] || sleep 30; touch done"]
cwd = "{{host.deploy_root}}"
probe = ["sh", "-c", "cd \"$1\" && echo probe >> probes; [ ! -e probe-broken ] || exit 3; [ -e done ]", "probe", "{{host.deploy_root}}"]
EOT
} >pb/probe.toml
for i in 1 2 3 4; do rm -f "${HOST_ROOT[$i]}"/{count,done,probes,early,slow,probe-broken}; done
touch "${HOST_ROOT[2]}/early" "${HOST_ROOT[2]}/slow" "${HOST_ROOT[3]}/slow" \
      "${HOST_ROOT[4]}/slow" "${HOST_ROOT[4]}/probe-broken"
"$RB" run -p pb/probe.toml --yes --state-dir st3 >out3 2>&1 &
engine=$!
for _ in $(seq 1 150); do
    [ -e "${HOST_ROOT[1]}/done" ] && [ -e "${HOST_ROOT[2]}/done" ] && [ -e "${HOST_ROOT[3]}/count" ] &&
        [ -e "${HOST_ROOT[4]}/count" ] && grep -q "migrate@web1\] succeeded" out3 && break
    sleep 0.1
done
grep -q "migrate@web1\] succeeded" out3 || { cat out3 >&2; fail "web1 did not finish before the kill"; }
kill -9 $engine
wait $engine 2>/dev/null || true
rm -f "${HOST_ROOT[2]}/slow" "${HOST_ROOT[3]}/slow" "${HOST_ROOT[4]}/slow"
expect_rc 6 out3r -- "$RB" resume --yes --state-dir st3
contains out3r "its probe could not tell whether it took effect on host db1 (exit 3)"
contains out3r "done by its probe on web2"
[ ! -e "${HOST_ROOT[1]}/probes" ] || fail "web1 (finished) was probed"
for i in 2 3 4; do
    [ "$(wc -l <"${HOST_ROOT[$i]}/probes")" = 1 ] || fail "host $i: not probed once"
    [ "$(wc -l <"${HOST_ROOT[$i]}/count")" = 1 ] || fail "host $i ran again though a host's probe could not tell"
done
journal=$(find st3/runs -type f -name '*.jsonl' | head -1)
python3 - "$journal" <<'PY' || fail "the per-host probes are not journaled as expected"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
probes = {r["host"]: r["verdict"] for r in recs if r["type"] == "step_probe"}
assert probes == {"web2": "done", "web3": "not_done", "db1": "error"}, probes
done = [r for r in recs if r["type"] == "step_host_finished" and r["status"] == "marked_done"]
assert [r["host"] for r in done] == ["web2"], done
assert done[0]["summary"] == "done by its probe", done
PY
pass "resume probes the unfinished hosts only; one that cannot tell stops the run for a person"

rm -f "${HOST_ROOT[4]}/probe-broken"
expect_rc 0 out3s -- "$RB" resume --yes --state-dir st3
contains out3s "succeeded on 4 of 4 hosts"
[ "$(wc -l <"${HOST_ROOT[1]}/count")" = 1 ] || fail "web1 ran again"
[ "$(wc -l <"${HOST_ROOT[2]}/count")" = 1 ] || fail "web2 (done by its probe) ran again"
[ "$(wc -l <"${HOST_ROOT[2]}/probes")" = 1 ] || fail "web2 was probed again after its probe said done"
for i in 3 4; do
    [ "$(wc -l <"${HOST_ROOT[$i]}/probes")" = 2 ] || fail "host $i: not probed again"
    [ "$(wc -l <"${HOST_ROOT[$i]}/count")" = 2 ] || fail "host $i (not done) did not run again"
    [ -e "${HOST_ROOT[$i]}/done" ] || fail "host $i: not done"
done
expect_rc 0 out3t -- "$RB" status --state-dir st3
grep -Eq "^  web2 +marked_done$" out3t || { cat out3t >&2; fail "web2 not marked_done in the grid"; }
pass "the second resume runs the step again exactly where its probe said not done"
