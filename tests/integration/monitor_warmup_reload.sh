#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A restarted or reloaded monitor is one long-lived monitor (docs/decision.md "trigger and
# monitor", Restarts and Warm-up): its first tick warms up over the access log it re-reads.
# Pins break-it round 4 of issue 10, finding 01 (timings shortened).
source "$(dirname "$0")/../support/itest.sh"
source "$(dirname "$0")/../support/warmup_log.sh"

# --- 01: an outage under reloads (SIGHUP, same file) or restarts every 2 s still triggers -------
write_config 4s 1h
for how in HUP TERM; do
    rm -rf st mon.out; echo 0.3 > ctl
    start_gen 16
    sleep 1
    start_monitor mon.out
    for _ in $(seq 6); do
        sleep 2
        if [ "$how" = HUP ]; then kill -HUP "$mon_pid"; else stop_monitor; start_monitor mon.out; fi
    done
    sleep 1; stop_monitor; wait "$gen_pid" 2>/dev/null || true
    [ "$(count mon.out trigger)" -ge 1 ] ||
        fail "SIG$how every 2 s: the 30 % outage never triggered (for = 4s): $(cat mon.out)"
    [ "$(count mon.out trigger)" -eq 1 ] ||
        fail "SIG$how every 2 s: more than one trigger for one incident: $(cat mon.out)"
    pass "SIG$how every 2 s during an outage: one trigger, the breaching run kept"
done

