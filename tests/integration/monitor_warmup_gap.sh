#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A restarted or reloaded monitor is one long-lived monitor (docs/decision.md "trigger and
# monitor", Restarts and Warm-up): its first tick warms up over the access log it re-reads.
# Pins break-it round 4 of issue 10, finding 04 (timings shortened).
source "$(dirname "$0")/../support/itest.sh"
source "$(dirname "$0")/../support/warmup_log.sh"

# --- 04: an incident acted on, ended while the monitor was down; a new outage is acted on -----
write_config 3s 5s
rm -rf st mon.out mon2.out; echo 0.3 > ctl
start_gen 30
sleep 1
start_monitor mon.out
for _ in $(seq 100); do grep -q trigger mon.out && break; sleep 0.2; done
contains mon.out trigger
sleep 1; stop_monitor
# outage 1 over: 12 s healthy, longer than window + max_lateness + resolve_after (10 s) and the
# cooldown
echo 0.0 > ctl; sleep 12
echo 0.5 > ctl; sleep 4 # outage 2 under way when the monitor comes back
start_monitor mon2.out
for _ in $(seq 60); do grep -q trigger mon2.out && break; sleep 0.2; done
stop_monitor; kill "$gen_pid" 2>/dev/null || true; wait "$gen_pid" 2>/dev/null || true
[ "$(count mon2.out trigger)" -eq 1 ] ||
    fail "a new outage after a restart was taken for the old, acted incident: $(cat mon2.out)"
# The long-lived reference: a replay of the same log triggers for both outages.
"$RB" check -c rollback.toml --replay access.log --state-dir replay.st > replay.out 2>&1 || true
[ "$(grep -c 'trigger (' replay.out)" -eq 2 ] || fail "the replay did not see two outages: $(cat replay.out)"
pass "an acted incident that ended while the monitor was down does not silence a new outage"

