#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 40 idle connections that never send a byte (more than the bound of 32) do not keep others out:
# the oldest waiting connection is closed for each new one, so /healthz and an Alertmanager
# notification still get through (before: refused at once while the idle ones held the slots).
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
command -v curl >/dev/null || { echo "skip: curl not installed"; exit 125; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
cat > rollback.toml <<TOML
[target]
name = "shop"
[[condition]]
name = "shop-errors"
kind = "alert"
match = { alertname = "HighErrorRate" }
[server]
listen = "127.0.0.1:$port"
[decision]
mode = "observe"
interval = "1s"
TOML
"$RB" monitor -c rollback.toml > loop.out 2>&1 &
mon=$!
stop_on_exit $mon
for _ in $(seq 1 50); do curl -s -o /dev/null "$base/healthz" && break; sleep 0.1; done
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
code=$(curl -s -m 3 -o body.txt -w '%{http_code}' -X POST --data-binary '{"version":"4","groupKey":"g","status":"firing","receiver":"r","alerts":[{"status":"firing","labels":{"alertname":"HighErrorRate"},"startsAt":"2026-12-05T23:00:00Z","fingerprint":"i1"}]}' "$base/api/v1/alertmanager")
[ "$code" = 200 ] || fail "a notification while idle connections held the slots: $code"
curl -s -m 3 "$base/metrics" > metrics.txt
grep -q '^rollback_http_connections_evicted_total [1-9]' metrics.txt || { grep connections metrics.txt; fail "no eviction counted"; }
pass "idle connections beyond the bound do not keep /healthz and Alertmanager out"
