#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `rollback check -c` and `explain --now` judge the alert conditions too, over the alerts the
# monitor keeps active in the state (alerts.json), as the monitor does — never "0 conditions".
# An alert whose confirming Prometheus is down (a closed port) is no data with the reason, not
# "ok" (on_no_data: escalate); an alert whose endsAt passed is over; an active unconfirmed alert (no confirm) triggers:
# check exits 5. Kept alerts that cannot be read are no data for the alert conditions, never "0
# alerts" nor a check that judges nothing. No server is needed: the monitor is not running.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"

down=$(free_port) # the confirming Prometheus: nobody listens
cat > rollback.toml <<TOML
[target]
name = "shop"
[source.probe]
kind = "command"
argv = ["echo", "1"]
[source.errors]
kind = "prometheus"
url = "http://127.0.0.1:$down"
query = "shop_error_ratio"
timeout = "1s"
[[condition]]
name = "probe-value"
signal = "probe.value"
above = 100
[[condition]]
name = "shop-errors"
kind = "alert"
match = { alertname = "HighErrorRate" }
confirm = { source = "errors", above = 0.8 }
[[condition]]
name = "site-down"
kind = "alert"
match = { alertname = "SiteDown" }
severity = "critical"
[server]
listen = "127.0.0.1:$(free_port)"
[decision]
mode = "observe"
interval = "5s"
TOML

mkdir -p .rollback
alerts() { # the alerts the monitor keeps, as it writes them (state::ActiveAlerts)
    printf '{"version":1,"alerts":[%s]}\n' "$1" > .rollback/alerts.json
}
high='{"fingerprint":"f1","labels":{"alertname":"HighErrorRate","service":"shop"},"starts_at":"2026-12-06T20:00:00Z","received":"2026-12-06T20:00:01.000Z"}'
ended='{"fingerprint":"f3","labels":{"alertname":"SiteDown"},"starts_at":"2026-12-06T19:00:00Z","received":"2026-12-06T19:00:01.000Z","ends_at":"2026-12-06T19:30:00Z"}'
site='{"fingerprint":"f2","labels":{"alertname":"SiteDown"},"starts_at":"2026-12-06T20:00:00Z","received":"2026-12-06T20:00:01.000Z"}'

alerts "$high,$ended"
expect_rc 0 check1.out -- "$RB" check -c rollback.toml
contains check1.out 'shop-errors=no_data'
contains check1.out 'site-down=ok'
contains check1.out 'probe-value=ok'
expect_rc 0 explain1.out -- "$RB" explain --now -c rollback.toml
contains explain1.out 'Why: condition "shop-errors": no_data'
contains explain1.out 'Condition "probe-value" (probe.value'
contains explain1.out 'Condition "site-down" (alerts:site-down.value, severity critical): ok'
contains explain1.out '1 active alert(s) not confirmed: source errors "shop_error_ratio" gave no number (no data'
contains explain1.out 'alert {alertname="HighErrorRate", service="shop"}'
lacks explain1.out 'fingerprint f3'
pass "check and explain --now judge the alert conditions: an unconfirmable alert is no data with the reason, an ended one is over"

alerts "$high,$site"
expect_rc 5 check2.out -- "$RB" check -c rollback.toml --json
contains check2.out '"cause":"site-down"'
contains check2.out '"action":"trigger"'
pass "an active alert that needs no confirmation: check recommends the rollback (exit 5)"

# Kept alerts that cannot be read (issue 13 break-it 05: exit 1, no verdict at all): the alert
# conditions have no data with the reason, the others are judged, the exit code is theirs.
echo '{"version":1,"alerts":[{"fingerprint":1}]}' > .rollback/alerts.json
cp .rollback/alerts.json damaged.json
expect_rc 0 check3.out -- "$RB" check -c rollback.toml
contains check3.out 'rollback: warning: the active alerts cannot be read: '
contains check3.out 'alerts.json: an alert without a string "fingerprint"'
contains check3.out 'shop-errors=no_data'
contains check3.out 'site-down=no_data'
contains check3.out 'probe-value=ok'
cmp -s damaged.json .rollback/alerts.json || fail "check changed the kept alerts"
expect_rc 0 explain3.out -- "$RB" explain --last -c rollback.toml
contains explain3.out 'Condition "site-down" (alerts:site-down.value, severity critical): no_data'
contains explain3.out 'the active alerts cannot be read: '
sed 's/^above = 100$/above = 0.5/' rollback.toml > firing.toml
expect_rc 5 check4.out -- "$RB" check -c firing.toml
contains check4.out 'probe-value=firing'
contains check4.out 'site-down=no_data'
echo 'not json' > .rollback/alerts.json
expect_rc 0 check5.out -- "$RB" check -c rollback.toml
contains check5.out 'alerts.json: not valid JSON'
contains check5.out 'site-down=no_data'
pass "kept alerts that cannot be read: said on stderr, the alert conditions no data, the others judged (exit 0, or 5 when they recommend)"
