#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An http source's failure run (`downtime`) survives a reload (SIGHUP) and a restart of the
# monitor: no log holds probes, so the policy memory keeps the run's first and last failed probe
# (docs/decision.md "trigger and monitor", Restarts). Pins break-it round 4 of issue 10, finding
# 07 (timings shortened): nothing listens on 127.0.0.1:1, every probe fails.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
cat > rollback.toml <<'TOML'
[target]
name = "shop"
state_dir = "st"
[source.health]
kind = "http"
url = "http://127.0.0.1:1/health/"
interval = "1s"
timeout = "1s"
[[condition]]
name = "down"
signal = "health.downtime"
window = "1m"
above = "8s"
[decision]
mode = "observe"
interval = "1s"
cooldown = "1h"
TOML
mon_pid=""
on_exit 'kill $mon_pid 2>/dev/null || true'
start_monitor() { "$RB" monitor -c rollback.toml >> mon.out 2>&1 & mon_pid=$!; }
stop_monitor() { kill -TERM "$mon_pid"; wait "$mon_pid" 2>/dev/null || true; }
for how in HUP TERM; do
    rm -rf st mon.out
    start_monitor
    sleep 5
    if [ "$how" = HUP ]; then kill -HUP "$mon_pid"; else stop_monitor; start_monitor; fi
    for _ in $(seq 40); do grep -q trigger mon.out && break; sleep 0.2; done
    stop_monitor
    contains mon.out trigger
    # The records after the reload or restart go on counting the run: never ok(0>8) again.
    sed -n '/^reloaded\|^monitor stopped/,$p' mon.out > after.out
    [ -s after.out ] || fail "SIG$how: no output after it: $(cat mon.out)"
    lacks after.out 'ok(0>8)'
    grep -q '"fail_since":"2' st/monitor-policy.json ||
        fail "SIG$how: the failure run is not in the policy memory: $(cat st/monitor-policy.json)"
    pass "SIG$how 5 s into the downtime: the failure run goes on, triggers at 8 s"
done
