# SPDX-License-Identifier: MIT
# Sourced by the remote integration tests after itest.sh: "hosts" that are sshd instances on
# 127.0.0.1, each on its own port with its own host key, run by the current user with a config
# and keys the test generates. The system sshd is never started. Each sshd is bounded (60 s, or
# SSHD_LIFETIME seconds) and stopped at exit.
#
#   sshd_hosts_start N     starts hosts 1..N; sets SSH_DIR (client key id_ed25519, known_hosts,
#                          ssh_config), SSHD_PORT[i], SSHD_PID[i], HOST_ROOT[i] (a directory per host)
#   sshd_host_stop I       kills host I's sshd (and what it serves)
#
# And for the playbooks the tests run on those hosts (after sshd_hosts_start):
#   host_playbook FILE [KNOWN_HOSTS]   FILE: [remote] (the test's key, ssh_config and known_hosts,
#                          or KNOWN_HOSTS), [hosts] group "web" of every host started (web1..webN,
#                          vars deploy_root = HOST_ROOT[i] and the TOML of HOST_VARS[i] if set),
#                          then the steps read from stdin
#   run_killed_at FILE PLAYBOOK STATE_DIR OUT I...   `rollback run` in the background, killed -9
#                          0.5 s after FILE exists in the HOST_ROOT of each host I (60 s at most:
#                          a loaded 2-core machine takes ~6 s per host-step over ssh)
#   batches_in_order STATE_DIR STEP "FIRST..." "NEXT..."   every host of NEXT started STEP after
#                          every host of FIRST finished it (the journals of STATE_DIR/runs)
#   lines_on_hosts FILE N...   FILE in host i's HOST_ROOT has the i-th N lines
SSHD=${SSHD:-/usr/sbin/sshd}
if [ ! -x "$SSHD" ] || ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
    echo "SKIP: openssh-server/openssh-client not installed (scripts/install-deps.sh)" >&2
    exit 125
fi
declare -a SSHD_PORT SSHD_PID HOST_ROOT HOST_VARS
SSHD_HOSTS=0
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
    SSHD_HOSTS=$n
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

host_playbook() {
    local i
    {
        cat <<EOT
[remote]
known_hosts = "${2:-$SSH_DIR/known_hosts}"
identity = "$SSH_DIR/id_ed25519"
ssh_config = "$SSH_DIR/ssh_config"
[hosts]
web = [
EOT
        for i in $(seq 1 "$SSHD_HOSTS"); do
            echo "  { name = \"web$i\", address = \"127.0.0.1\", port = ${SSHD_PORT[$i]}, vars = { deploy_root = \"${HOST_ROOT[$i]}\"${HOST_VARS[$i]:+, ${HOST_VARS[$i]}} } },"
        done
        echo "]"
        cat
    } >"$1"
}

run_killed_at() {
    local file=$1 pb=$2 st=$3 out=$4 engine i
    shift 4
    "$RB" run -p "$pb" --yes --state-dir "$st" >"$out" 2>&1 &
    engine=$!
    stop_on_exit $engine
    at_hosts() { for i in "$@"; do [ -e "${HOST_ROOT[$i]}/$file" ] || return 1; done; }
    for _ in $(seq 1 600); do
        at_hosts "$@" && break
        sleep 0.1
    done
    at_hosts "$@" || { cat "$out" >&2; fail "the run never left $file on hosts $*"; }
    sleep 0.5
    kill -9 $engine
    wait $engine 2>/dev/null || true
}

batches_in_order() {
    python3 - "$@" <<'PY' || fail "step $2: hosts $4 did not wait for $3 to finish (batches overlapped)"
import glob, json, sys
state, step, first, nxt = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
seq = {}
for f in glob.glob(state + "/runs/*.jsonl"):
    for line in open(f):
        r = json.loads(line)
        if r.get("step") == step and r["type"] in ("step_host_started", "step_host_finished"):
            seq[(r["type"], r["host"])] = r["seq"]
last = max(seq[("step_host_finished", h)] for h in first)
sys.exit(0 if last < min(seq[("step_host_started", h)] for h in nxt) else 1)
PY
}

lines_on_hosts() {
    local file=$1 i=0 n got
    shift
    for n in "$@"; do
        i=$((i + 1))
        got=$(wc -l <"${HOST_ROOT[$i]}/$file")
        [ "$got" = "$n" ] || fail "host web$i: $got lines in $file, not $n"
    done
}
