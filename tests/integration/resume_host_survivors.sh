#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# After kill -9 of the engine mid-step on a host, resume looks on that host (over its ssh
# connection) for what the interrupted attempt still runs there before it starts the step there
# again (docs/actions.md, "Steps on hosts"): a process that left the remote group (setsid), one
# that ignores the wrapper's SIGTERM, and a host that cannot be looked at (needs a person).
source "$(dirname "$0")/../support/itest.sh"
export SSHD_LIFETIME=300
source "$(dirname "$0")/../support/sshd_hosts.sh"
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 125; }
sshd_hosts_start 1

cd "$WORK"
mkdir -p pb
root=${HOST_ROOT[1]}
journal_of() { ls "$1"/runs/*.jsonl | head -1; }

# run_and_kill PLAYBOOK STATE: the run, killed with SIGKILL once `effects` on the host says begin.
run_and_kill() {
    "$RB" run -p "$1" --yes --state-dir "$2" </dev/null >"$2.run.out" 2>&1 &
    local engine=$!
    for _ in $(seq 1 600); do grep -qs begin "$root/effects" && break; sleep 0.1; done
    grep -qs begin "$root/effects" || { cat "$2.run.out" >&2; fail "the step never began on the host"; }
    sleep 0.5
    kill -9 $engine
    wait $engine 2>/dev/null || true
    grep -qs done "$root/effects" && fail "the host's work finished before the engine was killed: the scenario needs it alive"
    return 0
}
# sequential: begin, done, begin, done — the second attempt began after the first one's work.
sequential() {
    python3 - "$root/effects" <<'PY' || fail "attempts of step work overlapped on the host: $(cat "$root/effects")"
import sys
lines = [l.split() for l in open(sys.argv[1])]
assert [w for w, _ in lines] == ["begin", "done", "begin", "done"], lines
assert int(lines[1][1]) < int(lines[2][1]), lines
PY
}

# --- 1. a process that left the remote group (setsid): the wrapper's TERM does not reach it -----
host_playbook pb/setsid.toml <<'EOT'
[[step]]
id = "work"
action = "exec"
hosts = "web1"
idempotent = true
timeout = "5m"
argv = ["sh", "-c", "echo \"begin $(date +%s%N)\" >>effects; setsid sh -c 'sleep 4; echo \"done $(date +%s%N)\" >>effects' & wait"]
cwd = "{{host.deploy_root}}"
EOT
rm -f "$root/effects"
run_and_kill pb/setsid.toml st1
expect_rc 0 st1.resume.out -- "$RB" resume --yes --state-dir st1
sequential
contains st1.resume.out "interrupted attempt on host web1"
contains st1.resume.out "ended by themselves"
grep -q '"type":"step_survivors".*"outcome":"exited".*"host":"web1"' "$(journal_of st1)" ||
    fail "no step_survivors record for host web1"
expect_rc 0 st1.report.out -- "$RB" report "$(basename "$(journal_of st1)" .jsonl)" --state-dir st1
contains st1.report.out "step work on host web1: processes of attempt 1 survived the engine (pid "
pass "kill -9 mid-step on a host: a setsid process of the attempt there is waited for before the step runs there again"

# --- 2. a program that ignores the wrapper's SIGTERM: alive through the wrapper's grace --------
host_playbook pb/term.toml <<'EOT'
[[step]]
id = "work"
action = "exec"
hosts = "web1"
idempotent = true
timeout = "5m"
argv = ["sh", "-c", "trap '' TERM; echo \"begin $(date +%s%N)\" >>effects; sleep 3; echo \"done $(date +%s%N)\" >>effects"]
cwd = "{{host.deploy_root}}"
EOT
rm -f "$root/effects"
run_and_kill pb/term.toml st2
expect_rc 0 st2.resume.out -- "$RB" resume --yes --state-dir st2
sequential
pass "kill -9 mid-step on a host: a program ignoring the wrapper's SIGTERM is waited for"

# --- 2b. a member of the remote group without the token: found through the wrapper ------------
# The program's shell (the token's carrier) dies on the wrapper's TERM; its child replaced its
# environment and ignores TERM, so it lives until the wrapper's KILL after the grace. The wrapper
# and its watcher carry the token while they do that: resume waits for them.
host_playbook pb/member.toml <<'EOT'
[[step]]
id = "work"
action = "exec"
hosts = "web1"
idempotent = true
timeout = "5m"
argv = ["sh", "-c", "env -i sh -c 'trap \"\" TERM; echo \"begin $(date +%s%N)\" >>effects; sleep 3; echo \"done $(date +%s%N)\" >>effects' & wait"]
cwd = "{{host.deploy_root}}"
EOT
rm -f "$root/effects"
run_and_kill pb/member.toml st2b
expect_rc 0 st2b.resume.out -- "$RB" resume --yes --state-dir st2b
sequential
pass "kill -9 mid-step on a host: a group member without the token is waited for through the wrapper ending the group"

# --- 3. the host cannot be looked at: the step does not run there blindly ------------------------
host_playbook pb/gone.toml <<'EOT'
[[step]]
id = "work"
action = "exec"
hosts = "web1"
idempotent = true
timeout = "5m"
argv = ["sh", "-c", "echo \"begin $(date +%s%N)\" >>effects; sleep 30"]
cwd = "{{host.deploy_root}}"
EOT
rm -f "$root/effects"
run_and_kill pb/gone.toml st3
sshd_host_stop 1
rid=$(basename "$(journal_of st3)" .jsonl)
expect_rc 6 st3.resume.out -- "$RB" resume --yes --state-dir st3
contains st3.resume.out "was interrupted on host web1 and what its attempt may still run there cannot be checked"
contains st3.resume.out "rollback resume $rid --state-dir "
contains st3.resume.out "/st3 --mark-done work"
[ "$(grep -c '"type":"step_host_started"' "$(journal_of st3)")" -eq 1 ] || fail "the step started again on a host it could not check"
grep -q '"type":"step_survivors".*"outcome":"not_proven".*"host":"web1"' "$(journal_of st3)" ||
    fail "no step_survivors record saying host web1 could not be checked"
# A person who looked goes on with their word.
expect_rc 0 st3.done.out -- "$RB" resume --yes --state-dir st3 --mark-done work
contains st3.done.out "succeeded"
pass "a host that cannot be checked after kill -9: needs a person (--mark-done/--retry), nothing runs there blindly"
