#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 40 idle connections that never send a byte (more than the bound of 32) do not keep others out:
# the oldest waiting connection is closed for each new one, so /healthz and an Alertmanager
# notification still get through (before: refused at once while the idle ones held the slots).
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
source "$SRC/tests/support/monitor_server.sh"
alert_config 'alertname = "HighErrorRate"' 'mode = "observe"' 'interval = "1s"'
start_monitor loop.out
python3 - "$port" > hold.out 2>&1 <<'PY' &
import socket, sys, time
socks = []
for _ in range(40):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    socks.append(s)
print("holding", flush=True)
time.sleep(8)
PY
hold=$!
stop_on_exit $hold
for _ in $(seq 1 50); do grep -q holding hold.out && break; sleep 0.1; done
grep -q holding hold.out || fail "the idle connections were not opened: $(cat hold.out)"
ok=0
for _ in 1 2 3; do
    [ "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$base/healthz")" = 200 ] && ok=$((ok + 1))
done
[ "$ok" = 3 ] || fail "/healthz answered $ok of 3 times while idle connections held the slots"
post_alert "$(am_alert firing i1)" # a notification while idle connections hold the slots
curl -s -m 3 "$base/metrics" > metrics.txt
grep -q '^rollback_http_connections_evicted_total [1-9]' metrics.txt || { grep connections metrics.txt; fail "no eviction counted"; }
pass "idle connections beyond the bound do not keep /healthz and Alertmanager out"
