#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `rollback check` live (command and access_log sources), `deployed`, `explain --last`.
set -euo pipefail
: "${ROLLBACK:?path of the rollback binary}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
echo 3 > value
# final intervals only: a condition over an access log judges the window that ended max_lateness
# (default 1m) ago
now=$(date -u -d "90 seconds ago" +%d/%b/%Y:%H:%M:%S)
for i in $(seq 1 30); do echo "10.0.0.1 - - [$now +0000] \"GET / HTTP/1.1\" 500 1 \"-\" \"t\" 0.100"; done > access.log
cat > rollback.toml <<'TOML'
[target]
name = "t"
[source.corrupt]
kind = "command"
argv = ["sh", "-c", "cat value"]
[source.web]
kind = "access_log"
path = "access.log"
[[condition]]
name = "corruption"
signal = "corrupt.value"
above = 5
severity = "critical"
[[condition]]
name = "errors"
signal = "web.error_rate"
window = "5m"
above = 0.05
min_requests = 100
[decision]
cooldown = "1h"
TOML
# v2 went live before the log's lines: a new release's windows count only its own samples
# (docs/decision.md "A new release is judged on its own samples").
"$ROLLBACK" deployed -c rollback.toml --release v2 \
    --time "$(date -u -d '10 minutes ago' +%Y-%m-%dT%H:%M:%SZ)" | grep -q "release v2"
grep -q '"release":"v2"' .rollback/deploy.json
rc=0; "$ROLLBACK" check -c rollback.toml > out.txt || rc=$?
cat out.txt
[ "$rc" -eq 0 ] || { echo "FAIL: exit $rc with a healthy value"; exit 1; }
grep -q "corruption=ok(3>5)" out.txt
# 30 requests, all 5xx, but fewer than min_requests: insufficient_sample, no trigger, and no page
# (on_insufficient_sample defaults to ignore).
grep -q "errors=insufficient_sample" out.txt
grep -q '^[^ ]*  none ' out.txt || { echo "FAIL: an under-powered window acted"; exit 1; }
echo 9 > value
rc=0; "$ROLLBACK" check -c rollback.toml --json > out.json || rc=$?
[ "$rc" -eq 5 ] || { echo "FAIL: exit $rc, expected 5"; cat out.json; exit 1; }
# Recommended, not executed: check starts no run (it recorded "executed" before: issue 13 break-it 06).
grep -q '"action":"trigger","mode":"auto","executed":false,"cause":"corruption"' out.json
"$ROLLBACK" explain -c rollback.toml --last > explain.txt
cat explain.txt
grep -q "trigger (not executed, mode auto)" explain.txt
[ ! -d .rollback/runs ] || [ -z "$(ls .rollback/runs)" ] || { echo "FAIL: check started a run"; exit 1; }
grep -q 'Condition "corruption" (corrupt.value, severity critical): firing' explain.txt
grep -q "Release: v2" explain.txt
# A check that cannot run is an error verdict, not a healthy or firing one.
printf 'x\n' > value
rc=0; "$ROLLBACK" check -c rollback.toml > out.txt || rc=$?
grep -q "corruption=error" out.txt || { cat out.txt; echo "FAIL: non-number output not an error verdict"; exit 1; }
[ "$(ls .rollback/decisions | wc -l)" -eq 3 ]
echo ok
