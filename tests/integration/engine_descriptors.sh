#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every descriptor the engine itself holds while a step runs is close-on-exec (issue 11, break-it
# 37/08): the run lock, the journal, rollback.log (spdlog opens it with fopen "ab"), the socket to
# the output drainer, and in the monitor the [server]'s listening socket and an accepted
# connection (Asio opens sockets without SOCK_CLOEXEC). The runner also marks every descriptor
# close-on-exec in a program's child before execve (test_exec_runner: a program gets 0, 1, 2 and
# its attempt mark only): this is the engine's own hygiene, so that no other way of starting a
# process can leak one. The engine is started with nothing open beyond 0-2 (whatever the test
# harness holds is not the engine's).
source "$(dirname "$0")/../support/itest.sh"

command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 125; }
command -v curl >/dev/null || { echo "skip: curl is not installed"; exit 125; }
# closed CMD...: CMD with every descriptor above 2 closed.
closed() { python3 -c 'import os, sys; os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])' "$@"; }
# The step: its parent is the engine; lists the engine's descriptors with their open flags.
cat >"$WORK/look.sh" <<'SH'
for f in /proc/$PPID/fd/*; do
    n=${f##*/}
    echo "$n $(awk '/^flags/ {print $2}' /proc/$PPID/fdinfo/$n) $(readlink "$f")"
done >engine-fds.tmp
mv engine-fds.tmp engine-fds
SH
# all_cloexec FILE LABEL [MUST_SEE...]: every descriptor above 2 in FILE has O_CLOEXEC; each
# MUST_SEE (a substring of a link) is among them.
all_cloexec() {
    python3 - "$@" <<'PY' || fail "$2: a descriptor of the engine is not close-on-exec: $(cat "$1")"
import sys
# A descriptor closed between the listing and the read of its flags has none: not counted.
rows = [r for r in (l.split(None, 2) for l in open(sys.argv[1])) if len(r) == 3]
bad = [r for r in rows if int(r[0]) > 2 and not int(r[1], 8) & 0o2000000]
assert not bad, bad
for want in sys.argv[3:]:
    assert any(want in r[2] for r in rows if len(r) > 2), ("not seen", want)
PY
}

# --- 1. rollback run -----------------------------------------------------------------------------
dir=$WORK/run
mkdir -p "$dir"
cp "$WORK/look.sh" "$dir/"
cat >"$dir/pb.toml" <<'TOML'
[playbook]
name = "descriptors"
[[step]]
id = "look"
action = "exec"
argv = ["sh", "look.sh"]
TOML
(cd "$dir" && closed "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1) || { cat "$dir/run.out" >&2; fail "the run failed"; }
all_cloexec "$dir/engine-fds" "run" "/.rollback/lock" "/.rollback/runs/" "/.rollback/rollback.log" "socket:"
pass "rollback run: the lock, the journal, rollback.log and the drainer's socket are close-on-exec"

# --- 2. rollback monitor with [server], a connection open, a playbook started by an alert ----------
dir=$WORK/monitor
mkdir -p "$dir"
cp "$WORK/look.sh" "$dir/"
cp "$WORK/run/pb.toml" "$dir/"
port=$(free_port)
echo "descriptor-test-token" >"$dir/token"
cat >"$dir/rollback.toml" <<TOML
[target]
name = "shop"
[source.probe]
kind = "command"
argv = ["echo", "1"]
[[condition]]
name = "shop-errors"
kind = "alert"
match = { alertname = "HighErrorRate", service = "shop" }
severity = "critical"
[server]
listen = "127.0.0.1:$port"
token_file = "token"
[decision]
mode = "auto"
playbook = "pb.toml"
interval = "5s"
cooldown = "1h"
TOML
(cd "$dir" && exec python3 -c 'import os, sys; os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])' \
    "$RB" monitor -c rollback.toml </dev/null >loop.out 2>&1) &
monitor=$!
stop_on_exit "$monitor"
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
exec 7<>"/dev/tcp/127.0.0.1/$port" # an accepted connection while the step runs
curl -s -o "$dir/post.out" -H "Authorization: Bearer descriptor-test-token" -X POST --data \
    '{"version":"4","status":"firing","receiver":"rollback","groupKey":"g","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am","truncatedAlerts":0,"alerts":[{"status":"firing","labels":{"alertname":"HighErrorRate","service":"shop"},"annotations":{},"startsAt":"2026-12-05T17:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom","fingerprint":"d35c"}]}' \
    "http://127.0.0.1:$port/api/v1/alertmanager"
for _ in $(seq 1 100); do [ -e "$dir/engine-fds" ] && break; sleep 0.1; done
exec 7>&-
kill "$monitor"
[ -e "$dir/engine-fds" ] || { cat "$dir/loop.out" "$dir/post.out" >&2; fail "the alert did not start the playbook"; }
# The listening socket and the open connection, besides the drainer's socket: three sockets.
[ "$(grep -c ' socket:' "$dir/engine-fds")" -ge 3 ] || fail "the monitor's sockets are not all there: $(cat "$dir/engine-fds")"
all_cloexec "$dir/engine-fds" "monitor" "/.rollback/lock" "/.rollback/rollback.log"
pass "rollback monitor: its listening socket and connections are close-on-exec too"
