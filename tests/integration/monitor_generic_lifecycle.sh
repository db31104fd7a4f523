#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The lifecycle of a generic webhook's alert (brk28 01, 09, 05, 10, 12): an uptime checker's
# second outage after a recovery fires and runs again (no startsAt: a firing after a resolution
# is a new incident); a Sentry-shaped source that never resolves expires after expire_after
# (counted outcome="expired" on /metrics) and its next issue triggers again; bad field selectors
# are located errors at load; `monitor --json` prints only JSON.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
source "$SRC/tests/support/monitor_server.sh"

revert_playbook
alert_config 'alertname = "shop"' 'mode = "auto"' 'playbook = "pb.toml"' 'interval = "1s"' \
    'cooldown = "1s"' 'watch_after = "1s"'
cat >> rollback.toml <<'TOML'
[webhook.uptime]
status = "heartbeat.status"
firing = ["0"]
resolved = ["1"]
fingerprint = "monitor.id"
labels = { alertname = "monitor.name" }
[webhook.sentry]
fingerprint = "id"
labels = { alertname = "project" }
expire_after = "2s"
TOML
"$RB" validate -c rollback.toml >/dev/null || fail "the config does not validate"

post_to() {
    local code
    code=$(curl -s -m 5 -o body.txt -w '%{http_code}' -X POST --data-binary "$2" "$base/api/v1/webhook/$1")
    [ "$code" = 200 ] || fail "notification refused ($code): $(cat body.txt)"
}
down='{"heartbeat":{"status":0},"monitor":{"id":3,"name":"shop"}}'
up='{"heartbeat":{"status":1},"monitor":{"id":3,"name":"shop"}}'

"$RB" monitor --json -c rollback.toml >loop.out 2>loop.err &
mon=$!
stop_on_exit $mon
listening || { cat loop.err; fail "the monitor did not listen"; }

post_to uptime "$down"
wait_for '[ "$(runs)" -ge 1 ]' || { cat loop.err; fail "the first outage started no run"; }
post_to uptime "$up"
wait_for '[ "$(events alert_resolved)" -ge 1 ]' || fail "not resolved"
sleep 2.2 # past the cooldown and watch_after
post_to uptime "$down"
wait_for '[ "$(runs)" -ge 2 ]' || { cat .rollback/monitor.jsonl; fail "the second outage started no run"; }
[ "$(events alert_stale)" = 0 ] || fail "the second outage was taken as stale"
post_to uptime "$up"
wait_for '[ "$(events alert_resolved)" -ge 2 ]' || fail "the second outage not resolved"
pass "an uptime checker's second outage fires and runs again"

sleep 2.2
post_to sentry '{"id":"42","project":"shop","level":"fatal"}'
wait_for '[ "$(runs)" -ge 3 ]' || { cat .rollback/monitor.jsonl; fail "the Sentry issue started no run"; }
wait_for '[ "$(events alert_expired)" -ge 1 ]' || { cat .rollback/monitor.jsonl; fail "the Sentry alert never expired"; }
curl -s "$base/metrics" > metrics.txt
contains metrics.txt 'rollback_alert_notifications_total{outcome="expired"} 1'
sleep 2.2
post_to sentry '{"id":"77","project":"shop","level":"fatal"}'
wait_for '[ "$(runs)" -ge 4 ]' || { cat .rollback/monitor.jsonl; fail "a later Sentry issue started no run"; }
pass "a source that never resolves: its alert expires (counted) and the next issue triggers"

kill -TERM $mon; wait $mon 2>/dev/null || true
while IFS= read -r line; do
    printf '%s' "$line" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null ||
        fail "monitor --json printed a line that is not JSON: $line"
done < loop.out
contains loop.out '"event":"stopped"'
pass "monitor --json: stdout holds JSON only"

for bad in 'fingerprint = ""' 'fingerprint = "data..id"' 'fingerprint = ".id"' \
    'fingerprint = "data.issue."' 'labels = { alertname = "data..title" }'; do
    printf '[target]\nname = "shop"\n[server]\nlisten = "127.0.0.1:1"\n[webhook.s]\n%s\n' "$bad" > bad.toml
    case $bad in labels*) echo 'fingerprint = "id"' >> bad.toml ;; esac
    "$RB" validate -c bad.toml > bad.out 2>&1 && fail "validate accepted $bad"
    contains bad.out 'bad.toml:'
done
pass "bad field selectors are located errors at load"
