#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A reload that moves the windows back (a larger max_lateness) does not judge again the buckets
# the monitor before it judged: an outage that triggered and resolved is not replayed as a new
# incident (docs/decision.md "trigger and monitor", Warm-up; break-it 22 of issue 10,
# finding 10; timings shortened). ~50 s.
source "$(dirname "$0")/../support/itest.sh"
source "$(dirname "$0")/../support/warmup_log.sh"

write_config 3s 5s # for = 3s, cooldown = 5s (resolve_after = 3s, max_lateness = 1s, window 6s)
echo 0.0 > ctl
start_gen 48
sleep 1
start_monitor mon.out
sleep 3; echo 0.4 > ctl; sleep 6; echo 0.0 > ctl
sleep 14 # the outage (6 s) is over, out of the window and resolved; the cooldown has passed
[ "$(count mon.out trigger)" -eq 1 ] || fail "the 40 % outage did not trigger once: $(cat mon.out)"
sed -i 's/^max_lateness = "1s"/max_lateness = "20s"/' rollback.toml
kill -HUP "$mon_pid"
sleep 24 # past the 19 s the windows moved back: every bucket judged again and some new ones
stop_monitor; wait "$gen_pid" 2>/dev/null || true
grep -q 'reload' mon.out || fail "the monitor did not reload: $(cat mon.out)"
[ "$(count mon.out trigger)" -eq 1 ] ||
    fail "the outage judged again after the reload acted a second time: $(cat mon.out)"
lacks mon.out "suppressed"
pass "a reload to max_lateness = 20s: the resolved outage is not judged again (one trigger)"
