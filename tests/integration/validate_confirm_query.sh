#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `rollback validate -c` refuses an alert's confirming query that can never confirm — the
# confirmation reads an instant vector (the number, then timestamp(QUERY) for its sample's time):
# a scalar, a range vector, a string, or what Prometheus' parser refuses (issue 13 break-it 07:
# they were accepted, and the alert stayed no_data at the first incident). Accepted: every query
# Prometheus runs as an instant vector, a `# comment` included. With Debian's promtool, each
# verdict is compared with Prometheus' own parser on timestamp(QUERY) in a recording rule.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"

config() { # QUERY: rollback.toml whose alert condition is confirmed by QUERY
    cat > rollback.toml <<TOML
[source.errors]
kind = "prometheus"
url = "http://127.0.0.1:9090"
query = '''$1'''
[[condition]]
name = "shop-errors"
kind = "alert"
match = { alertname = "HighErrorRate" }
confirm = { source = "errors", above = 0.8 }
[server]
[decision]
mode = "observe" # no playbook: decides, runs nothing
TOML
}
promtool_accepts() { # QUERY: Prometheus' parser accepts timestamp(QUERY) (the confirmation's)
    local q=${1//$'\n'/$'\n'        }
    printf 'groups:\n  - name: g\n    rules:\n      - record: confirm\n        expr: |\n          timestamp(%s\n          )\n' "$q" > rules.yml
    promtool check rules rules.yml > promtool.out 2>&1
}
have_promtool=0
command -v promtool > /dev/null && have_promtool=1

n=0
while IFS= read -r q; do
    config "$q"
    expect_rc 0 ok.out -- "$RB" validate -c rollback.toml
    if [ $have_promtool = 1 ]; then
        promtool_accepts "$q" || { cat promtool.out; fail "promtool refuses what validate accepts: $q"; }
    fi
    n=$((n + 1))
done <<'QUERIES'
shop_error_ratio
sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))
shop_error_ratio # ratio of 5xx to all requests
max by (job) (up) > bool 0
histogram_quantile(0.95, sum by (le) (rate(h_bucket[5m])))
a / on(job) group_left(instance) b
up offset 5m
max_over_time(rate(x[1m])[5m:])
topk(1, count_values("v", build_info))
time() - timestamp(up)
QUERIES
pass "$n instant-vector queries accepted$([ $have_promtool = 1 ] && echo ', as promtool does')"

n=0
while IFS= read -r q; do
    config "$q"
    expect_rc 2 bad.out -- "$RB" validate -c rollback.toml
    contains bad.out 'condition "shop-errors": key "confirm": the query of source "errors" can never confirm: '
    if [ $have_promtool = 1 ]; then
        ! promtool_accepts "$q" || fail "promtool accepts what validate refuses: $q"
    fi
    n=$((n + 1))
done <<'QUERIES'
0.07
scalar(sum(shop_errors))
time()
1 + 2 * 3
shop_errors[5m]
rate(shop_errors[5m])[10m:1m]
"text"
sum(shop_errors
rate(shop_errors)
1 > 0
shop_errors[5m] + 1
(shop_errors)[5m]
scalar(up) and 1
histogram_quantile(shop_errors)
sum(shop_errors[5m])
timestamp(1)
shop_errors{job=}
sum(shop_errors) offset 5m
QUERIES
pass "$n queries that can never confirm refused$([ $have_promtool = 1 ] && echo ', as promtool refuses them')"

config 'scalar(sum(shop_errors))'
expect_rc 2 scalar.out -- "$RB" validate -c rollback.toml
contains scalar.out "rollback.toml:9:1: error: condition \"shop-errors\": key \"confirm\": the query of source \"errors\" can never confirm: it returns a scalar, and the confirmation reads an instant vector (its number, and timestamp(QUERY) for the time of its sample)"
contains scalar.out 'hint: query the series itself'
expect_rc 2 mon.out -- "$RB" monitor -c rollback.toml
contains mon.out 'can never confirm: it returns a scalar'
pass "located error with a hint, exit 2, from validate and at the monitor's start"
