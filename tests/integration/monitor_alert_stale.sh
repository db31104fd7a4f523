#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Alertmanager's semantics of endsAt: a firing alert is resolved then a late firing notification
# of the same alert (same fingerprint and startsAt, sent before the resolution: an HA peer or a
# retried delivery) arrives: it does not reopen the alert (alert_stale / alert_resolved_unknown)
# and no second run starts after the cooldown. An active alert not re-sent before its endsAt
# expires (alert_expired) and leaves alerts.json.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
source "$SRC/tests/support/monitor_server.sh"

revert_playbook
alert_config 'alertname = "HighErrorRate"' 'mode = "auto"' 'playbook = "pb.toml"' 'interval = "1s"' \
    'cooldown = "3s"' 'watch_after = "1s"'
post() { post_alert "$(am_alert "$2" "$1" "$3" "$4")"; } # FINGERPRINT STATUS STARTS ENDS
ago() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
zero=0001-01-01T00:00:00Z
starts=$(ago '-10 min')

start_monitor loop.out

post x1 firing "$starts" $zero
wait_for '[ "$(runs)" -ge 1 ]' || { cat loop.out; fail "the alert started no run"; }
post x1 resolved "$starts" "$(ago '-1 min')"
wait_for '[ "$(events alert_resolved)" -ge 1 ]' || fail "not resolved"
post x1 firing "$starts" "$(ago '-2 min')"  # late, its endsAt before the resolution
post x1 firing "$starts" $zero              # late, as Alertmanager sends a firing alert
wait_for '[ "$(events alert_stale)" -ge 1 ]' || { cat .rollback/monitor.jsonl; fail "no alert_stale"; }
[ "$(events alert_fired)" = 1 ] || { cat .rollback/monitor.jsonl; fail "a late firing notification reopened the alert"; }
sleep 4.5 # past the cooldown
[ "$(runs)" = 1 ] || { cat loop.out; fail "a second run for an incident that was over"; }
contains .rollback/alerts.json '"alerts":[]'
contains .rollback/alerts.json '"resolved":[{"fingerprint":"x1"'
pass "a late firing notification of a resolved alert: no reopening, no second run"

post x2 firing "$(ago '-1 min')" "$(ago '+2 sec')"
wait_for '[ "$(events alert_fired)" -ge 2 ]' || fail "x2 did not fire"
contains .rollback/alerts.json '"fingerprint":"x2"'
wait_for '[ "$(events alert_expired)" -ge 1 ]' || { cat .rollback/monitor.jsonl; fail "x2 did not expire at its endsAt"; }
contains .rollback/alerts.json '"alerts":[]'
pass "an active alert not re-sent past its endsAt expires"
