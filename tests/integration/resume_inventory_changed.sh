#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it round 34, finding 15: resume refuses an inventory file ([remote] inventory) changed
# since the run started, as it refuses a changed playbook (--allow-changed-playbook allows it).
# No host is reached: the run stops at a local step that fails.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
: > known_hosts
printf '[web]\nweb1 ansible_host=127.0.0.1 ansible_port=2201\n' > inv.ini
cat > pb.toml <<'TOML'
[remote]
inventory = "inv.ini"
known_hosts = "known_hosts"
[[step]]
id = "local"
action = "exec"
argv = ["false"]
TOML
expect_rc 1 run.out -- "$RB" run -p pb.toml --yes --state-dir st
run_id=$(basename "$(ls st/runs/*.jsonl | head -1)" .jsonl)
# unchanged: resume goes as far as the step that stopped the run
expect_rc 2 same.out -- "$RB" resume "$run_id" --yes --state-dir st
contains same.out "stopped because step"
printf '[web]\nweb1 ansible_host=127.0.0.1 ansible_port=2202\n' > inv.ini
expect_rc 2 changed.out -- "$RB" resume "$run_id" --yes --state-dir st
contains changed.out "changed since run $run_id started"
contains changed.out "inv.ini"
lacks changed.out "stopped because step"
# a person who reviewed the change goes on
expect_rc 2 allowed.out -- "$RB" resume "$run_id" --yes --allow-changed-playbook --state-dir st
contains allowed.out "stopped because step"
rm inv.ini
expect_rc 2 gone.out -- "$RB" resume "$run_id" --yes --state-dir st
lacks gone.out "stopped because step"
pass "resume refuses an inventory file changed since the run started"
