#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `rollback monitor` with [server]: the HTTP edges a user meets. /healthz answers without a
# token; /metrics and the webhook need it (none or a wrong one: 401, counted); a body over
# max_body: 413; malformed JSON or a payload that is no Alertmanager v4 notification: 400 with
# the reason; promtool accepts /metrics; none of it disturbs the loop (ticks go on). A firing
# alert starts the playbook once, at once (not at the next tick), a re-sent one does nothing,
# `resolved` is recorded, and `explain` shows the alert's labels. Non-loopback without a token
# is a located config error (exit 2).
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
command -v curl >/dev/null || { echo "skip: curl not installed"; exit 125; }
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 125; }

port=$(free_port)
echo "s3cret-token-value" > token

cat > pb.toml <<TOML
[playbook]
name = "revert"
[[step]]
id = "mark"
action = "exec"
argv = ["sh", "-c", "echo ran >> $WORK/runs.txt"]
TOML
cat > rollback.toml <<TOML
[target]
name = "shop"
[source.probe]
kind = "command"
argv = ["echo", "1"]
[[condition]]
name = "probe-value"
signal = "probe.value"
above = 100
[[condition]]
name = "shop-errors"
kind = "alert"
match = { alertname = "HighErrorRate", service = "shop" }
severity = "critical"
[server]
listen = "127.0.0.1:$port"
token_file = "token"
max_body = "2KiB"
[webhook.uptime]
status = "heartbeat.status"
firing = ["0"]
resolved = ["1"]
fingerprint = "monitor.id"
labels = { alertname = "monitor.name" }
[decision]
mode = "auto"
playbook = "pb.toml"
interval = "5s"
cooldown = "1h"
TOML

# A config error first: non-loopback without a token.
sed -e "s/127.0.0.1:$port/0.0.0.0:$port/" -e '/token_file/d' rollback.toml > open.toml
expect_rc 2 open.out -- "$RB" validate -c open.toml
contains open.out "open.toml:16:10: error: server: listening on 0.0.0.0:$port, which is not a loopback address, needs a token"

runs() { if [ -f runs.txt ]; then wc -l < runs.txt; else echo 0; fi; }
"$RB" monitor -c rollback.toml > loop.out 2>&1 &
mon=$!
stop_on_exit $mon
base="http://127.0.0.1:$port"
for _ in $(seq 1 50); do curl -s -o /dev/null "$base/healthz" && break; sleep 0.1; done

code() { curl -s -o body.txt -w '%{http_code}' "$@"; }
auth=(-H "Authorization: Bearer s3cret-token-value")

[ "$(code "$base/healthz")" = 200 ] || fail "healthz: $(cat body.txt)"
contains body.txt '"ok":true'
contains body.txt '"last_tick":"20'
pass "/healthz answers without a token"

[ "$(code "$base/metrics")" = 401 ] || fail "metrics without a token was not 401"
[ "$(code -H "Authorization: Bearer wrong" "$base/metrics")" = 401 ] || fail "a wrong token was not 401"
[ "$(code -X POST --data '{}' "$base/api/v1/alertmanager")" = 401 ] || fail "webhook without a token"
pass "no token or a wrong one: 401"

head -c 5000 /dev/zero | tr '\0' 'a' > big.json
[ "$(code "${auth[@]}" -X POST --data-binary @big.json "$base/api/v1/alertmanager")" = 413 ] ||
    fail "a body over max_body was not 413: $(cat body.txt)"
pass "a body over max_body: 413"

[ "$(code "${auth[@]}" -X POST --data '{"version":"4",' "$base/api/v1/alertmanager")" = 400 ] ||
    fail "malformed JSON was not 400"
contains body.txt '"error":"not JSON'
[ "$(code "${auth[@]}" -X POST --data '{"version":"4","status":"firing","groupKey":"g","alerts":[{"status":"firing","labels":{}}]}' "$base/api/v1/alertmanager")" = 400 ] ||
    fail "an alert without fingerprint was not 400"
contains body.txt 'alerts[0].fingerprint: missing'
pass "malformed payloads: 400 with the reason"

[ "$(code "${auth[@]}" "$base/nowhere")" = 404 ] || fail "unknown path was not 404"

alert() { # STATUS
    cat <<JSON
{"version":"4","status":"$1","receiver":"rollback","groupKey":"{}:{alertname=\"HighErrorRate\"}",
 "groupLabels":{"alertname":"HighErrorRate"},"commonLabels":{},"commonAnnotations":{},
 "externalURL":"http://am","truncatedAlerts":0,
 "alerts":[{"status":"$1","labels":{"alertname":"HighErrorRate","service":"shop","severity":"page"},
  "annotations":{"summary":"5xx above 5%"},"startsAt":"2026-12-05T17:00:00Z",
  "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom","fingerprint":"c0ffee1234"}]}
JSON
}
t0=$(date +%s%N)
[ "$(code "${auth[@]}" -X POST --data "$(alert firing)" "$base/api/v1/alertmanager")" = 200 ] ||
    fail "a valid notification was not accepted: $(cat body.txt)"
for _ in $(seq 1 40); do [ "$(runs)" -ge 1 ] && break; sleep 0.1; done
t1=$(date +%s%N)
[ "$(runs)" -eq 1 ] || { cat loop.out; fail "the alert did not start the playbook"; }
ms=$(( (t1 - t0) / 1000000 ))
echo "alert to run: ${ms} ms (interval 5 s)"
[ "$ms" -lt 4000 ] || fail "the alert waited for the next tick (${ms} ms)"
pass "a firing alert starts the playbook at once"

for _ in 1 2 3; do
    [ "$(code "${auth[@]}" -X POST --data "$(alert firing)" "$base/api/v1/alertmanager")" = 200 ] || fail "re-send refused"
done
sleep 1
[ "$(runs)" -eq 1 ] || fail "a re-sent notification started another run"
pass "re-sent notifications: no second run"

[ "$(code "${auth[@]}" -X POST --data "$(alert resolved)" "$base/api/v1/alertmanager")" = 200 ] || fail "resolved refused"
for _ in $(seq 1 30); do grep -q '"event":"alert_resolved"' .rollback/monitor.jsonl 2>/dev/null && break; sleep 0.1; done
contains .rollback/monitor.jsonl '"event":"alert_resolved"'
[ "$(grep -c '"event":"alert_repeated"' .rollback/monitor.jsonl)" -eq 3 ] || fail "repeats not recorded"
sleep 0.5
grep -q 'shop-errors=ok' loop.out || { cat loop.out; fail "the resolution was not recorded as a decision record"; }
pass "resolved: recorded"

[ "$(code "${auth[@]}" "$base/metrics")" = 200 ] || fail "metrics: $(cat body.txt)"
cp body.txt metrics.txt
contains metrics.txt 'rollback_ticks_total '
contains metrics.txt 'rollback_condition_verdict{condition="probe-value",verdict="ok"} 1'
contains metrics.txt 'rollback_condition_value{condition="probe-value"} 1'
# One unit per family (docs/metrics.md): the alert condition's count is not among the values.
contains metrics.txt 'rollback_condition_value_alerts{condition="shop-errors"} 0'
lacks metrics.txt 'rollback_condition_value{condition="shop-errors"}'
contains metrics.txt 'rollback_decisions_total{action="trigger"} 1'
contains metrics.txt 'rollback_runs_total{state="succeeded"} 1'
contains metrics.txt 'rollback_last_run_duration_seconds '
grep -q '^rollback_last_run_step_duration_seconds{.*status="succeeded".*} ' metrics.txt ||
    fail "no step duration in /metrics"
contains metrics.txt 'rollback_webhook_requests_total{outcome="unauthorized"} 1'
contains metrics.txt 'rollback_webhook_requests_total{outcome="too_large"} 1'
contains metrics.txt 'rollback_webhook_requests_total{outcome="bad_request"} 2'
contains metrics.txt 'rollback_http_auth_failures_total{reason="wrong"} 1'
contains metrics.txt 'rollback_alert_notifications_total{outcome="repeated"} 3'
contains metrics.txt 'rollback_alerts_active{condition="shop-errors"} 0'
contains metrics.txt '# TYPE rollback_last_successful_rehearsal_timestamp_seconds gauge'
! grep -q '^rollback_last_successful_rehearsal_timestamp_seconds' metrics.txt ||
    fail "a rehearsal time without a rehearsal"
if command -v promtool >/dev/null; then
    promtool check metrics < metrics.txt > promtool.out 2>&1 || { cat promtool.out; fail "promtool check metrics"; }
    pass "promtool check metrics passes"
else
    echo "promtool not installed: the format check is skipped"
fi

# A generic webhook (an uptime checker's shape): read by its selectors, kept like an alert.
[ "$(code "${auth[@]}" -X POST --data '{"heartbeat":{"status":2},"monitor":{"id":3}}' "$base/api/v1/webhook/uptime")" = 400 ] ||
    fail "an unknown status was not 400: $(cat body.txt)"
contains body.txt 'heartbeat.status: \"2\" is neither firing nor resolved'
[ "$(code "${auth[@]}" -X POST --data '{"heartbeat":{"status":0},"monitor":{"id":3,"name":"cart-site"}}' "$base/api/v1/webhook/uptime")" = 200 ] ||
    fail "an uptime notification was not accepted: $(cat body.txt)"
for _ in $(seq 1 30); do grep -q '"fingerprint":"uptime:3"' .rollback/monitor.jsonl && break; sleep 0.1; done
contains .rollback/monitor.jsonl '{"event":"alert_unmatched","fingerprint":"uptime:3","labels":{"alertname":"cart-site"}'
pass "a generic webhook: 400 with the reason, then read by its selectors"

# explain shows the alert's labels.
id=$(grep -l '"action":"trigger"' .rollback/decisions/*.json | head -1 | xargs basename | sed 's/\.json$//')
[ -n "$id" ] || fail "no trigger record kept"
"$RB" explain "$id" -c rollback.toml > explain.out 2>&1 || { cat explain.out; fail "explain"; }
contains explain.out 'alertname="HighErrorRate"'
contains explain.out 'fingerprint c0ffee1234'
lacks explain.out 's3cret-token-value'
pass "explain shows the alert's labels"

ticks=$(cat .rollback/decisions/ticks-*.jsonl | wc -l)
kill -TERM $mon; wait $mon || true
contains loop.out "monitor stopped"
[ "$ticks" -ge 2 ] || fail "the loop did not go on ticking ($ticks tick lines)"
pass "the loop went on"
