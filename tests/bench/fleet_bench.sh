#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fleet benchmark (issue 15): 20 sshd "hosts" on 127.0.0.1 x 10 no-op steps (`true` on every
# host, every step), the same Ansible INI inventory for all three:
#   rollback     `rollback run` of 10 exec steps with hosts = "web" ([remote] parallel = 20)
#   ansible      `ansible-playbook`, 10 `command: true` tasks, forks 20, gather_facts off,
#                pipelining on, ControlMaster auto + ControlPersist 60s
#   bare         the floor: 20 master connections opened, then 10 rounds of 20 parallel
#                `ssh -o ControlPath=... host true`, then the masters closed
# Each runs REPS times, interleaved; the medians of wall and CPU (user+sys of the command and its
# children) are printed, with the per host-step overhead of rollback over the bare loop.
# Usage: ROLLBACK=path/to/rollback [REPS=5] [HOSTS=20] [STEPS=10] tests/bench/fleet_bench.sh
# Skips (exit 125) when ansible-playbook is not installed (Debian: apt-get install ansible-core;
# not installed by scripts/install-deps.sh).
set -euo pipefail
if ! command -v ansible-playbook >/dev/null; then
    echo "SKIP: ansible-playbook is not installed (apt-get install ansible-core); the fleet bench compares against it" >&2
    exit 125
fi
REPS=${REPS:-5}
HOSTS=${HOSTS:-20}
STEPS=${STEPS:-10}
export ROLLBACK_SOURCE_DIR=${ROLLBACK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$ROLLBACK_SOURCE_DIR/tests/support/itest.sh"
export SSHD_LIFETIME=${SSHD_LIFETIME:-3600}
source "$ROLLBACK_SOURCE_DIR/tests/support/sshd_hosts.sh"
sshd_hosts_start "$HOSTS"
cd "$WORK"

# The one inventory.
{
    echo "[web]"
    for i in $(seq 1 "$HOSTS"); do
        echo "web$i ansible_host=127.0.0.1 ansible_port=${SSHD_PORT[$i]}"
    done
} >hosts.ini

# rollback
{
    cat <<EOT
[playbook]
name = "fleet-bench"

[remote]
inventory = "hosts.ini"
known_hosts = "$SSH_DIR/known_hosts"
identity = "$SSH_DIR/id_ed25519"
ssh_config = "$SSH_DIR/ssh_config"
parallel = $HOSTS
EOT
    for s in $(seq 1 "$STEPS"); do
        printf '\n[[step]]\nid = "noop%s"\naction = "exec"\nhosts = "web"\nargv = ["true"]\n' "$s"
    done
} >fleet.toml
"$RB" validate fleet.toml >/dev/null

# ansible
cat >ansible.cfg <<EOT
[defaults]
inventory = hosts.ini
forks = $HOSTS
host_key_checking = True
gathering = explicit
interpreter_python = /usr/bin/python3
private_key_file = $SSH_DIR/id_ed25519
stdout_callback = default
retry_files_enabled = False
[ssh_connection]
pipelining = True
ssh_args = -F $SSH_DIR/ssh_config -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=$SSH_DIR/known_hosts -o BatchMode=yes
control_path_dir = $WORK/cp
EOT
{
    echo "- hosts: web"
    echo "  gather_facts: false"
    echo "  tasks:"
    for s in $(seq 1 "$STEPS"); do
        printf '    - name: noop%s\n      ansible.builtin.command: "true"\n' "$s"
    done
} >fleet.yml
export ANSIBLE_CONFIG=$WORK/ansible.cfg

# bare ssh over master connections
cat >bare.sh <<EOT
#!/bin/sh
# $HOSTS masters, $STEPS rounds of $HOSTS parallel commands over them, masters closed.
ssh_base="ssh -F $SSH_DIR/ssh_config -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$SSH_DIR/known_hosts -i $SSH_DIR/id_ed25519 -o ControlPath=$WORK/bare-%C"
EOT
{
    echo 'set -e'
    for i in $(seq 1 "$HOSTS"); do echo "\$ssh_base -o ControlMaster=yes -o ControlPersist=60 -N -f -p ${SSHD_PORT[$i]} 127.0.0.1"; done
    echo "for s in \$(seq 1 $STEPS); do"
    for i in $(seq 1 "$HOSTS"); do echo "  \$ssh_base -T -p ${SSHD_PORT[$i]} 127.0.0.1 true </dev/null &"; done
    echo "  wait"
    echo "done"
    for i in $(seq 1 "$HOSTS"); do echo "\$ssh_base -O exit -p ${SSHD_PORT[$i]} 127.0.0.1 2>/dev/null"; done
} >>bare.sh
chmod +x bare.sh

run_rollback() { "$RB" run -p fleet.toml --yes --state-dir "$WORK/state" >rollback.out 2>&1 || { cat rollback.out >&2; return 1; }; }
run_ansible() { ansible-playbook fleet.yml >ansible.out 2>&1 || { cat ansible.out >&2; return 1; }; }
run_bare() { ./bare.sh >/dev/null 2>&1; }

# One warm-up each (ansible compiles its modules' cache, ssh reads its keys), then REPS rounds.
run_rollback && run_ansible && run_bare || fail "a warm-up run failed"
for name in rollback ansible bare; do : >"times.$name"; done
for r in $(seq 1 "$REPS"); do
    for name in rollback ansible bare; do
        /usr/bin/time -f "%e %U %S" -a -o "times.$name" bash -c "$(declare -f run_$name fail); RB='$RB' WORK='$WORK' run_$name" ||
            fail "$name run $r failed"
    done
done
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A WALL CPU
for name in rollback ansible bare; do
    WALL[$name]=$(awk '{ print $1 }' "times.$name" | median)
    CPU[$name]=$(awk '{ print $2 + $3 }' "times.$name" | median)
done
printf '%s hosts x %s steps, %s runs each (medians)\n' "$HOSTS" "$STEPS" "$REPS"
printf '%-10s %9s %9s\n' tool wall_s cpu_s
for name in rollback ansible bare; do printf '%-10s %9.2f %9.2f\n' "$name" "${WALL[$name]}" "${CPU[$name]}"; done
awk -v rw="${WALL[rollback]}" -v aw="${WALL[ansible]}" -v bw="${WALL[bare]}" \
    -v rc="${CPU[rollback]}" -v bc="${CPU[bare]}" -v n=$((HOSTS * STEPS)) 'BEGIN {
    printf "ansible / rollback wall: %.1fx\n", aw / rw
    printf "rollback over bare, per host-step: wall %.2f ms, cpu %.2f ms\n", (rw - bw) * 1000 / n, (rc - bc) * 1000 / n
}'
