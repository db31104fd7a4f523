# SPDX-License-Identifier: MIT
# Steps on hosts over OpenSSH (issue 15), against four sshd on 127.0.0.1 started by the test:
# batches of 2, max_failures with a host gone, a secret never on a command line nor in output,
# a remote step past its timeout ending its group on the host, an unknown host key a preflight
# error (exit 2), kill -9 of the engine mid-batch and a resume that finishes exactly the hosts
# that did not.
source "$(dirname "$0")/../support/itest.sh"
# Bounded, but past the whole test on a loaded machine: a listener gone by its own timeout
# would leave its connections up, and sshd_host_stop could no longer end them.
export SSHD_LIFETIME=300
source "$(dirname "$0")/../support/sshd_hosts.sh"
sshd_hosts_start 4

cd "$WORK"
mkdir -p pb
# 1. a rollback in batches of 2: each host's current release switched, in order.
host_playbook pb/batches.toml <<'EOT'
[vars]
token = { env = "SHOP_TOKEN", secret = true }

[[step]]
id = "switch"
action = "exec"
hosts = "web"
batch = 2
argv = ["sh", "-ec", "echo \"$1\" > current; sleep 0.3; printf '%s' \"$SHOP_TOKEN\" > token-seen; ps -eo args > ps-seen", "switch", "{{host}}"]
cwd = "{{host.deploy_root}}"
env = { SHOP_TOKEN = "{{token}}" }
EOT
export SHOP_TOKEN=s3cr3t-T0ken-value
expect_rc 0 out1 -- "$RB" run -p pb/batches.toml --yes --state-dir st1
for i in 1 2 3 4; do
    [ "$(cat "${HOST_ROOT[$i]}/current")" = "web$i" ] || fail "host $i: current not switched"
    [ "$(cat "${HOST_ROOT[$i]}/token-seen")" = "s3cr3t-T0ken-value" ] || fail "host $i: secret not received through the environment"
    lacks "${HOST_ROOT[$i]}/ps-seen" "s3cr3t-T0ken-value"
done
lacks out1 "s3cr3t-T0ken-value"
! grep -rqF "s3cr3t-T0ken-value" st1 || fail "the secret is in the state directory"
contains out1 "[switch@web1] started (batch 1)"
contains out1 "[switch@web3] started (batch 2)"
contains out1 "succeeded on 4 of 4 hosts"
# batch 2 started only after batch 1 finished: web3/web4 start after web1/web2 finish
batches_in_order st1 switch "web1 web2" "web3 web4"
pass "4 hosts in batches of 2; the secret only in the program's environment"

# 2. the secret while it runs: never in ps on the (same) machine, local ssh or remote wrapper.
host_playbook pb/ps.toml <<'EOT'
[vars]
token = { env = "SHOP_TOKEN", secret = true }
[[step]]
id = "slow"
action = "exec"
hosts = "web1"
argv = ["sleep", "3"]
env = { SHOP_TOKEN = "{{token}}" }
EOT
"$RB" run -p pb/ps.toml --yes --state-dir st2 >out2 2>&1 &
engine=$!
seen_remote=
for _ in $(seq 1 40); do
    ps -eo args >ps.txt
    grep -qF "s3cr3t-T0ken-value" ps.txt && fail "the secret is on a command line: $(grep -F s3cr3t ps.txt)"
    grep -q "^sleep 3" ps.txt && seen_remote=1
    sleep 0.1
done
wait $engine || fail "the slow step failed: $(cat out2)"
[ -n "$seen_remote" ] || fail "the remote program was never seen running"
pass "the secret is on no command line while the remote step runs"

# 3. a remote step past its timeout: its process group on the host is gone. The ssh client ends
# at the timeout, often before the wrapper on the host has made the program's group (on a loaded
# machine the command's own connection takes that long): end of stdin before the group exists,
# the channel closed under the wrapper (SIGPIPE) — the group must end all the same (issue 11).
# The processes are this test's by their directory (other copies of the test may run beside it).
host_playbook pb/timeout.toml <<'EOT'
[[step]]
id = "hang"
action = "exec"
hosts = "web2"
timeout = "1s"
cwd = "{{host.deploy_root}}"
argv = ["sh", "-c", "sleep 47 & sleep 48; wait"]
EOT
in_dir() { # DIR: the live processes whose working directory is DIR (pid and command line)
    local p
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/cwd" 2>/dev/null)" = "$1" ] || continue
        echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
    done
}
expect_rc 1 out3 -- "$RB" run -p pb/timeout.toml --yes --state-dir st3
contains out3 "timed out"
gone=
for _ in $(seq 1 40); do
    if [ -z "$(in_dir "${HOST_ROOT[2]}")" ]; then gone=1; break; fi
    sleep 0.1
done
[ -n "$gone" ] || fail "the remote group outlived the timeout: $(in_dir "${HOST_ROOT[2]}")"
pass "a timed-out remote step's group is ended on the host"

# 4. an unknown host key: a preflight error, exit 2, nothing run.
head -n 3 "$SSH_DIR/known_hosts" >"$WORK/known_hosts_3"
host_playbook pb/unknown.toml "$WORK/known_hosts_3" <<'EOT'
[[step]]
id = "touch"
action = "exec"
hosts = "web"
argv = ["touch", "{{host.deploy_root}}/touched"]
EOT
expect_rc 2 out4 -- "$RB" plan -p pb/unknown.toml --state-dir st4
contains out4 "the host key of 127.0.0.1:${SSHD_PORT[4]} is not in known_hosts"
expect_rc 2 out4b -- "$RB" run -p pb/unknown.toml --yes --state-dir st4
for i in 1 2 3 4; do [ ! -e "${HOST_ROOT[$i]}/touched" ] || fail "host $i: a step ran despite the preflight error"; done
pass "an unknown host key is a preflight error (exit 2), nothing runs"

# 5. kill -9 of the engine mid-batch; resume finishes exactly the unfinished hosts.
host_playbook pb/resume.toml <<'EOT'
[[step]]
id = "count"
action = "exec"
hosts = "web"
batch = 2
idempotent = true
argv = ["sh", "-c", "echo run >> count; [ -e slow ] && sleep 30; exit 0", "count"]
cwd = "{{host.deploy_root}}"
EOT
for i in 1 2 3 4; do rm -f "${HOST_ROOT[$i]}/count"; done
touch "${HOST_ROOT[3]}/slow"
run_killed_at count pb/resume.toml st5 out5 3 4
rm -f "${HOST_ROOT[3]}/slow"
expect_rc 0 out5r -- "$RB" resume --yes --state-dir st5
lines_on_hosts count 1 1 2 1 # host 3 (unfinished) ran again, no other host
contains out5r "succeeded on 4 of 4 hosts"
pass "resume after kill -9 runs exactly the unfinished hosts"

# 6. one host's sshd killed mid-batch: max_failures 0 stops new hosts, the run fails naming it.
host_playbook pb/maxfail.toml <<'EOT'
[[step]]
id = "restart"
action = "exec"
hosts = "web"
batch = 1
max_failures = 0
argv = ["sh", "-c", "echo \"$1\" >> restarted; sleep 1", "restart", "{{host}}"]
cwd = "{{host.deploy_root}}"
EOT
"$RB" run -p pb/maxfail.toml --yes --state-dir st6 >out6 2>&1 &
engine=$!
for _ in $(seq 1 100); do [ -e "${HOST_ROOT[2]}/restarted" ] && break; sleep 0.05; done
sshd_host_stop 2
rc=0; wait $engine || rc=$?
[ "$rc" = 1 ] || { cat out6 >&2; fail "expected exit 1 with a host lost, got $rc"; }
contains out6 "failed on 1 of 4 hosts (max_failures 0): web2"
contains out6 "not started: web3, web4"
[ ! -e "${HOST_ROOT[3]}/restarted" ] || fail "web3 started after the failure"
pass "a host lost mid-batch fails the step past max_failures; no new host starts"
# status: the host x step grid of that run.
expect_rc 0 out6s -- "$RB" status --state-dir st6
grep -Eq "^  HOST +restart$" out6s || { cat out6s >&2; fail "no host grid in status"; }
grep -Eq "^  web1 +succeeded$" out6s || { cat out6s >&2; fail "web1 not succeeded in the grid"; }
grep -Eq "^  web2 +failed$" out6s || { cat out6s >&2; fail "web2 not failed in the grid"; }
pass "status shows the host x step grid"

# 7. validation: what does not run on hosts is refused, never ignored; {{host}} only as data.
host_playbook pb/invalid.toml <<'EOT'
[[step]]
id = "pause"
action = "approve"
hosts = "web"

[[step]]
id = "script"
action = "exec"
hosts = "web"
argv = ["sh", "-c", "echo {{host}}"]

[[step]]
id = "nohosts"
action = "exec"
argv = ["echo", "{{host}}"]

[[step]]
id = "typo"
action = "exec"
hosts = "wbe"
batch = "150%"
argv = ["true"]
EOT
expect_rc 2 out7 -- "$RB" validate pb/invalid.toml
contains out7 'step "pause": key "hosts": action "approve" does not run on hosts'
contains out7 'step "script": {{host}} inside a shell command string'
[ "$(grep -c 'error: step "script"' out7)" = 1 ] || { cat out7 >&2; fail "{{host}} in a shell string: not exactly one error"; }
contains out7 'step "nohosts": {{host}} is defined only in a step with hosts'
contains out7 'step "typo": key "hosts": no group or host "wbe" (did you mean "web"?)'
contains out7 'key "batch": expected a number of hosts or "N%" (1-100), got "150%"'
printf '[web]\nweb[1:3]\n' >"$WORK/bad.ini"
printf '[remote]\ninventory = "../bad.ini"\nknown_hosts = "kh"\n[[step]]\nid = "x"\naction = "exec"\nargv = ["true"]\n' >pb/ini.toml
expect_rc 2 out7b -- "$RB" validate pb/ini.toml
contains out7b "bad.ini:2:1: error: inventory: host patterns such as web[1:4] are not supported"
pass "validation refuses what does not run on hosts, per-host values in code, bad inventories"
