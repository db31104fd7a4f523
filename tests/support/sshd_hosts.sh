# SPDX-License-Identifier: MIT
# Sourced by the remote integration tests after itest.sh: "hosts" that are sshd instances on
# 127.0.0.1, each on its own port with its own host key, run by the current user with a config
# and keys the test generates. The system sshd is never started. Each sshd is bounded (60 s, or
# SSHD_LIFETIME seconds) and stopped at exit.
#
#   sshd_hosts_start N     starts hosts 1..N; sets SSH_DIR (client key id_ed25519, known_hosts,
#                          ssh_config), SSHD_PORT[i], SSHD_PID[i], HOST_ROOT[i] (a directory per host)
#   sshd_host_stop I       kills host I's sshd (and what it serves)
SSHD=${SSHD:-/usr/sbin/sshd}
if [ ! -x "$SSHD" ] || ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
    echo "SKIP: openssh-server/openssh-client not installed (scripts/install-deps.sh)" >&2
    exit 125
fi
declare -a SSHD_PORT SSHD_PID HOST_ROOT
SSH_DIR=$WORK/ssh

sshd_hosts_start() {
    local n=$1 i
    mkdir -p "$SSH_DIR"
    chmod 700 "$SSH_DIR"
    ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/id_ed25519" -C rollback-test
    cp "$SSH_DIR/id_ed25519.pub" "$SSH_DIR/authorized_keys"
    : >"$SSH_DIR/known_hosts"
    # The client reads no user or system ssh_config: only what the playbook passes.
    : >"$SSH_DIR/ssh_config"
    # sshd run by root wants its privilege separation directory.
    if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then mkdir -p /run/sshd && chmod 755 /run/sshd; fi
    for i in $(seq 1 "$n"); do
        local dir=$SSH_DIR/host$i port
        mkdir -p "$dir"
        ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" -C "host$i"
        port=$(free_port)
        cat >"$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
MaxSessions 50
MaxStartups 50:30:100
LogLevel ERROR
EOF
        timeout "${SSHD_LIFETIME:-60}" "$SSHD" -D -e -f "$dir/sshd_config" -p "$port" 2>>"$dir/sshd.log" &
        SSHD_PID[$i]=$!
        stop_on_exit "${SSHD_PID[$i]}"
        SSHD_PORT[$i]=$port
        HOST_ROOT[$i]=$WORK/root$i
        mkdir -p "${HOST_ROOT[$i]}"
        echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_key.pub")" >>"$SSH_DIR/known_hosts"
    done
    for i in $(seq 1 "$n"); do
        local up=
        for _ in $(seq 1 50); do
            if ssh -F "$SSH_DIR/ssh_config" -o BatchMode=yes -o StrictHostKeyChecking=yes \
                -o UserKnownHostsFile="$SSH_DIR/known_hosts" -i "$SSH_DIR/id_ed25519" \
                -p "${SSHD_PORT[$i]}" 127.0.0.1 true </dev/null 2>/dev/null; then
                up=1
                break
            fi
            sleep 0.1
        done
        [ -n "$up" ] || { cat "$SSH_DIR/host$i/sshd.log" >&2; fail "sshd host$i did not come up"; }
    done
}

# sshd_host_stop I: the host goes down — its listener and every session it serves.
sshd_host_stop() {
    local pid=${SSHD_PID[$1]} child
    for child in $(pgrep -P "$pid" 2>/dev/null); do
        pkill -KILL -P "$child" 2>/dev/null || true
        kill -KILL "$child" 2>/dev/null || true
    done
    kill -KILL "$pid" 2>/dev/null || true
}
