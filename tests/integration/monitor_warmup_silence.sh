#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A restarted or reloaded monitor is one long-lived monitor (docs/decision.md "trigger and
# monitor", Restarts and Warm-up): its first tick warms up over the access log it re-reads.
# Pins break-it round 4 of issue 10, finding 05 (timings shortened).
source "$(dirname "$0")/../support/itest.sh"
source "$(dirname "$0")/../support/warmup_log.sh"

# --- 05: a breach then silence; a restart or a reload in the silence still pages ---------------
# max_missed = 4: the page is due 12 s after the last line (window 6s + max_lateness 1s + 5
# ticks); the monitor comes back (or reloads) 9 s after it, the window already empty.
write_config 20s 1h 4
for how in restart reload; do
    rm -rf st mon.out; echo 0.0 > ctl
    start_gen 40
    sleep 1
    start_monitor mon.out
    sleep 3; lacks mon.out escalate; echo 0.4 > ctl; sleep 6; echo -1 > ctl # 6 s of 40 % 5xx, then not a line more
    if [ "$how" = restart ]; then
        sleep 1; stop_monitor; sleep 8; start_monitor mon.out
    else
        sleep 9; kill -HUP "$mon_pid"
    fi
    for _ in $(seq 100); do grep -q 'silent after breaching' mon.out && break; sleep 0.2; done
    stop_monitor; kill "$gen_pid" 2>/dev/null || true; wait "$gen_pid" 2>/dev/null || true
    contains mon.out 'silent after breaching'
    [ "$(count mon.out 'escalate')" -ge 1 ] || fail "$how: no escalation: $(cat mon.out)"
    pass "$how in the silence after a breach: the silence is still paged"
done
