#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check --replay over a history of releases: the markers `rollback deployed` recorded (or
# --deploy, several times) give the replay the previous release's baseline, as live; nginx
# multi-value upstream times are summed per request; a CSV row going back in time is skipped
# with a counted warning, not a refusal.
source "$(dirname "$0")/../support/itest.sh"

# v1 answers in 100 ms until 10:15:05; v2, deployed then, in 400 ms. 2 requests a second.
awk 'BEGIN { for (s = 0; s < 1800; s++) {
    t = sprintf("26/Nov/2026:10:%02d:%02d +0000", int(s / 60), s % 60);
    rt = s >= 905 ? "0.400" : "0.100";
    for (i = 0; i < 2; i++)
        printf "10.0.0.1 - - [%s] \"GET /cart/ HTTP/1.1\" 200 512 \"-\" \"t\" %s\n", t, rt } }' \
    > "$WORK/access.log"
cat > "$WORK/rollback.toml" <<'TOML'
[target]
name = "shop"
state_dir = "state"
[source.web]
kind = "access_log"
path = "access.log"
[[condition]]
name = "slower-than-before"
signal = "web.latency_p95"
window = "1m"
above_baseline = 1.5
baseline = "previous_release"
min_requests = 20
for = "30s"
[decision]
interval = "10s"
cooldown = "1h"
TOML
CFG=$WORK/rollback.toml

# No deploy history: no previous release, so no baseline and no trigger.
expect_rc 0 "$WORK/bare.out" -- "$RB" check -c "$CFG" --replay "$WORK/access.log"
contains "$WORK/bare.out" "shown, 0 trigger,"
contains "$WORK/bare.out" "0 deploy markers"
pass "without deploy markers: no previous release, no trigger"

# The markers `rollback deployed` records: the replay triggers on v2, against v1's latency.
expect_rc 0 "$WORK/d1.out" -- "$RB" deployed -c "$CFG" --release v1 --time 2026-11-26T10:00:00Z
expect_rc 0 "$WORK/d2.out" -- "$RB" deployed -c "$CFG" --release v2 --time 2026-11-26T10:15:05Z
[ "$(wc -l < "$WORK/state/deploys.jsonl")" -eq 2 ] || fail "deploys.jsonl should hold 2 markers"
rc=0
"$RB" check -c "$CFG" --replay "$WORK/access.log" --json >"$WORK/recorded.jsonl" 2>"$WORK/recorded.err" || rc=$?
[ $rc -eq 5 ] || { cat "$WORK/recorded.err" >&2; fail "recorded markers: exit $rc, expected 5"; }
grep '"action":"trigger"' "$WORK/recorded.jsonl" > "$WORK/trigger.json" || fail "no trigger record"
[ "$(wc -l < "$WORK/trigger.json")" -eq 1 ] || fail "expected exactly one trigger"
contains "$WORK/trigger.json" '"release":"v2"'
contains "$WORK/trigger.json" 'while release v1 ran'
contains "$WORK/recorded.err" '"kind":"replay_summary"'
contains "$WORK/recorded.err" '"deploy_markers":2'
contains "$WORK/recorded.err" '"triggers":1'
pass "the markers rollback deployed recorded: one trigger on v2, baseline from v1"

# The same history given on the command line, in a state directory without markers.
rc=0
"$RB" check -c "$CFG" --state-dir "$WORK/empty" --replay "$WORK/access.log" --json \
    --deploy v2@2026-11-26T10:15:05Z --deploy v1@2026-11-26T10:00:00Z >"$WORK/option.jsonl" 2>/dev/null || rc=$?
[ $rc -eq 5 ] || fail "--deploy: exit $rc, expected 5"
cmp -s "$WORK/option.jsonl" "$WORK/recorded.jsonl" || fail "--deploy and the recorded markers differ"
rc=0
"$RB" check -c "$CFG" --state-dir "$WORK/empty" --replay "$WORK/access.log" --json \
    --deploy 2026-11-26T10:00:00Z=v1 --deploy 2026-11-26T10:15:05Z=v2 >"$WORK/old.jsonl" 2>/dev/null || rc=$?
[ $rc -eq 5 ] || fail "--deploy TIME=RELEASE: exit $rc, expected 5"
cmp -s "$WORK/old.jsonl" "$WORK/recorded.jsonl" || fail "--deploy TIME=RELEASE differs"
expect_rc 2 "$WORK/bad.out" -- "$RB" check -c "$CFG" --replay "$WORK/access.log" --deploy v2
contains "$WORK/bad.out" 'rollback: error: --deploy: cannot read "v2" as RELEASE@TIME'
pass "--deploy RELEASE@TIME (several, any order; TIME=RELEASE too) = the recorded markers"

# A broken marker line is a located error, nothing replayed.
echo '{"version":1,"kind":"deploy","release":"v3"}' >> "$WORK/state/deploys.jsonl"
expect_rc 2 "$WORK/broken.out" -- "$RB" check -c "$CFG" --replay "$WORK/access.log"
contains "$WORK/broken.out" "$WORK/state/deploys.jsonl:3:1: error: deploy marker: malformed: no \"time\""
pass "a malformed deploys.jsonl line: located error, exit 2"

# nginx with proxy_next_upstream: every request spent 1.6-2.4 s upstream over several attempts.
awk 'BEGIN { for (s = 0; s < 300; s++) {
    t = sprintf("26/Nov/2026:11:%02d:%02d +0000", int(s / 60), s % 60);
    printf "10.0.0.1 [%s] \"GET / HTTP/1.1\" 200 10.0.0.2:80, 10.0.0.3:80 502, 200 -, 1.600\n", t;
    printf "10.0.0.1 [%s] \"GET / HTTP/1.1\" 200 10.0.0.2:80, 10.0.0.3:80, 10.0.0.4:80 502, 502, 200 0.900, 0.800, 0.700\n", t } }' \
    > "$WORK/upstream.log"
cat > "$WORK/upstream.toml" <<'TOML'
[source.web]
kind = "access_log"
path = "upstream.log"
format = '$remote_addr [$time_local] "$request" $status $upstream_addr $upstream_status $upstream_response_time'
[[condition]]
name = "slow"
signal = "web.latency_p50"
window = "1m"
above = "1.5s"
min_requests = 20
for = "30s"
[decision]
interval = "10s"
TOML
rc=0
"$RB" check -c "$WORK/upstream.toml" --replay "$WORK/upstream.log" >"$WORK/up.out" 2>&1 || rc=$?
[ $rc -eq 5 ] || { cat "$WORK/up.out" >&2; fail "multi-value upstream times: exit $rc, expected 5"; }
lacks "$WORK/up.out" "do not match"
contains "$WORK/up.out" "shown, 1 trigger,"
pass "nginx multi-value \$upstream_response_time: attempts summed, the p50 rule fires"

# A CSV row going back in time: skipped with a counted, located warning; the replay runs. NAB's
# machine_temperature series steps back an hour once: that row and the 10 after it, until time
# passes the row before the step, are not in time order.
csv=$SRC/tests/data/nab/data/realKnownCause/machine_temperature_system_failure.csv
cat > "$WORK/temp.toml" <<'TOML'
[source.temp]
kind = "command"
argv = ["true"]
[[condition]]
name = "hot"
signal = "temp.value"
window = "10m"
above = 1000.0
[decision]
interval = "5m"
TOML
expect_rc 0 "$WORK/csv.out" -- "$RB" check -c "$WORK/temp.toml" --replay "$csv"
contains "$WORK/csv.out" "rollback: warning: $csv:10151: 11 rows dated before an earlier row are not counted; the first: 2014-01-07 02:00:00,94.13972336"
contains "$WORK/csv.out" "; 11 rows going back in time skipped"
rc=0
"$RB" check -c "$WORK/temp.toml" --replay "$csv" --json >/dev/null 2>"$WORK/csv.err" || rc=$?
[ $rc -eq 0 ] || fail "CSV --json: exit $rc"
contains "$WORK/csv.err" '"rows_out_of_order":11'
pass "a CSV row going back in time: skipped, counted, located; the replay runs"
