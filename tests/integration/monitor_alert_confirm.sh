#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An alert confirmed by re-querying Prometheus before acting, against the real thing: Debian's
# prometheus evaluates `shop_error_ratio > 0.5` over a tiny exporter and prometheus-alertmanager
# routes the alert to `rollback monitor`, whose alert condition has
# confirm = { source = "errors", above = 0.8 } on the query `shop_error_ratio`.
# Ratio 0.6: the alert fires but is not confirmed → no run, a decision record that says so with
# the query's number and the alert's labels (`rollback explain` shows them). Ratio 0.9: the same
# alert is confirmed at the next evaluation → exactly one run, explained with its numbers.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
deadline=$(( $(date +%s) + 75 ))
left() { [ "$(date +%s)" -lt "$deadline" ] || fail "out of time ($*)"; }
source "$SRC/tests/support/prom_am.sh"
source "$SRC/tests/support/monitor_server.sh"

revert_playbook
cat > rollback.toml <<TOML
[target]
name = "shop"
[source.errors]
kind = "prometheus"
url = "http://127.0.0.1:$prom_port"
query = "shop_error_ratio"
timeout = "2s"
[[condition]]
name = "shop-errors"
kind = "alert"
match = { alertname = "HighErrorRate", service = "shop" }
confirm = { source = "errors", above = 0.8 }
[server]
listen = "127.0.0.1:$rb_port"
[decision]
mode = "auto"
playbook = "pb.toml"
interval = "1s"
TOML
prom_am_config

"$RB" monitor -c rollback.toml > loop.out 2>&1 &
mon=$!
stop_on_exit $mon
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$rb_port/healthz" && break; sleep 0.1; done
prom_am_start
wait_up shop

# --- the alert fires, the query does not confirm it: no run, a record saying so
echo 0.6 > ratio
until [ "$(events alert_fired)" -ge 1 ]; do left "the alert to arrive"; sleep 0.2; done
unconfirmed() { grep -l 'not confirmed: source errors \\"shop_error_ratio\\" = 0.6, not above 0.8' \
    .rollback/decisions/2*.json 2>/dev/null | head -n 1; }
until [ -n "$(unconfirmed)" ]; do left "the unconfirmed record"; sleep 0.2; done
record=$(basename "$(unconfirmed)" .json)
until [ "$(events alert_repeated)" -ge 2 ]; do left "re-sent notifications"; sleep 0.5; done
[ "$(runs)" = 0 ] || { cat loop.out; fail "an unconfirmed alert started a run"; }
contains ".rollback/decisions/$record.json" '"action":"none"'
contains ".rollback/decisions/$record.json" 'alert {alertname=\"HighErrorRate\", instance='
contains ".rollback/decisions/$record.json" 'service=\"shop\", severity=\"page\"}'
expect_rc 0 explain1.out -- "$RB" explain -c rollback.toml "$record"
contains explain1.out 'not confirmed: source errors "shop_error_ratio" = 0.6, not above 0.8'
contains explain1.out 'alert {alertname="HighErrorRate", instance="127.0.0.1:'
contains explain1.out 'service="shop", severity="page"}'
[ "$(grep -l 'not confirmed' .rollback/decisions/2*.json | wc -l)" = 1 ] ||
    fail "one record for the unconfirmed alert, not one per evaluation"
pass "alert fired at 0.6, query not above 0.8: no run ($(events alert_repeated) re-sends), one record with the number and labels"

# --- the query now confirms the alert that is still active: exactly one run
echo 0.9 > ratio
t0=$(date +%s)
until [ "$(runs)" -ge 1 ]; do left "the confirmed alert to start a run"; sleep 0.2; done
echo "query above the threshold to a run: $(( $(date +%s) - t0 )) s"
until [ "$(events alert_repeated)" -ge 4 ]; do left "more re-sent notifications"; sleep 0.5; done
[ "$(runs)" = 1 ] || { cat loop.out; fail "$(runs) runs for one confirmed alert"; }
run_id=$(ls .rollback/runs/*.jsonl | head -n 1 | xargs basename | sed 's/\.jsonl$//')
expect_rc 0 explain2.out -- "$RB" explain -c rollback.toml "$run_id"
contains explain2.out 'confirmed: source errors "shop_error_ratio" = 0.9, above 0.8'
contains explain2.out 'service="shop", severity="page"}'
pass "confirmed at 0.9: exactly one run; explain shows the query's number and the alert's labels"
kill -TERM $mon; wait $mon || true
