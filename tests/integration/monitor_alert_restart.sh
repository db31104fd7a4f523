#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Active alerts survive a monitor restart: a firing Alertmanager notification starts one run and
# is kept in <state_dir>/alerts.json; the monitor is stopped and started again; it restores the
# alert (alerts_restored), so a re-sent notification is a repeat (no second run: the cooldown
# holds too) and the resolved one resolves it (alert_resolved, not alert_resolved_unknown), which
# empties alerts.json. A malformed alerts.json is logged and the monitor starts with none.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
source "$SRC/tests/support/monitor_server.sh"

revert_playbook
alert_config 'alertname = "HighErrorRate", service = "shop"' 'mode = "auto"' 'playbook = "pb.toml"' \
    'interval = "2s"' 'cooldown = "1h"'
post() { # STATUS
    post_alert "$(am_alert "$1" c0ffee1234 2026-12-05T17:00:00Z "" '"alertname":"HighErrorRate","service":"shop"')"
}
stop_monitor() {
    kill -TERM "$mon"
    wait "$mon" || fail "the monitor did not stop cleanly"
}

start_monitor loop1.out
post firing
wait_for '[ "$(runs)" -ge 1 ]' || { cat loop1.out; fail "the alert started no run"; }
contains .rollback/alerts.json '"fingerprint":"c0ffee1234"'
contains .rollback/alerts.json '"service":"shop"'
stop_monitor
pass "the firing alert started one run and is kept in alerts.json"

start_monitor loop2.out
[ "$(events alerts_restored)" = 1 ] || { cat .rollback/monitor.jsonl; fail "no alerts_restored event"; }
contains .rollback/monitor.jsonl '"event":"alerts_restored","alerts":1,"left_out":0'
post firing
wait_for '[ "$(events alert_repeated)" -ge 1 ]' || fail "the re-sent notification was not a repeat"
[ "$(events alert_fired)" = 1 ] || fail "the re-sent notification fired the alert again"
sleep 2.5 # a tick: the restored alert is evaluated (still firing), the cooldown holds
[ "$(runs)" = 1 ] || { cat loop2.out; fail "a second run after the restart"; }
post resolved
wait_for '[ "$(events alert_resolved)" -ge 1 ]' || { cat .rollback/monitor.jsonl; fail "not resolved"; }
[ "$(events alert_resolved_unknown)" = 0 ] || fail "the restarted monitor did not know the alert"
contains .rollback/alerts.json '"alerts":[]'
wait_for "grep -q 'shop-errors=ok' loop2.out" || { cat loop2.out; fail "the resolution is not a record"; }
stop_monitor
pass "after a restart: the alert is still active (repeat, no second run), its resolution resolves it"

echo '{"version":1,"alerts":[{"fingerprint":1}]}' > .rollback/alerts.json
start_monitor loop3.out
contains .rollback/rollback.log 'active alerts not restored'
post resolved
wait_for '[ "$(events alert_resolved_unknown)" -ge 1 ]' || fail "a resolution of an unknown alert"
stop_monitor
pass "a malformed alerts.json: logged, the monitor starts with no active alert"
