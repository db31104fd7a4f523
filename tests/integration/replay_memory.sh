#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Replay memory follows the question, not the log's span (docs/decision.md, "Replay"): access-log
# lines 30 days apart, replayed at 1 s — 2.6 million intervals, which took 430 MB when every
# interval was held — replay under a virtual-memory limit far below that.
source "$(dirname "$0")/../support/itest.sh"

# ASan reserves terabytes of address space for its shadow memory: no `ulimit -v` fits it.
if grep -q __asan_init "$RB"; then
    echo "skip: $RB is built with AddressSanitizer (ulimit -v cannot apply)"
    exit 125
fi
cat >"$WORK/rollback.toml" <<'TOML'
[target]
name = "t"
[source.web]
kind = "access_log"
path = "access.log"
max_lateness = "5s"
[[condition]]
name = "errors"
signal = "web.error_rate"
window = "1m"
above = 0.5
[[condition]]
name = "slow"
signal = "web.latency_p95"
window = "5m"
above = "2s"
TOML
line() { printf '10.0.0.1 - - [%s +0000] "GET / HTTP/1.1" %s 5 "-" "-" 0.010\n' "$1" "$2"; }
# (a run of lines is confirmed by a line 70 s after its first — more than a jump, max_lateness + 2
# intervals — the log's first run too: lines that far from the rest spanning less are not counted)
{
    line 01/Oct/2026:00:00:00 500
    line 01/Oct/2026:00:01:10 200
    line 31/Oct/2026:00:00:00 200
    line 31/Oct/2026:00:00:01 200
    line 31/Oct/2026:00:01:10 200
} >"$WORK/access.log"

# The process's whole address space (binary, libraries, stacks): 160 MB, where holding the
# intervals took 430 MB of resident memory alone.
limit_kb=160000
rc=0
(ulimit -v $limit_kb && exec "$RB" check -c "$WORK/rollback.toml" --replay "$WORK/access.log" \
    --interval 1s --json --state-dir "$WORK/st") >"$WORK/out.jsonl" 2>"$WORK/err" || rc=$?
[ $rc -eq 5 ] || { cat "$WORK/err" >&2; fail "replay under ulimit -v $limit_kb exited $rc (want 5: the 500 triggers)"; }
summary=$(tail -1 "$WORK/err")
python3 - "$summary" "$WORK/out.jsonl" <<'PY' || fail "unexpected replay: $summary"
import json, sys
s = json.loads(sys.argv[1])
assert s["kind"] == "replay_summary", s
# 00:00:01 .. 30 days later + 71 s: one sample a second, the quiet ones included; then the
# quiet after the last line up to the replay's end (docs/decision.md, "The end of a replay"):
# the longest silence_tail, "slow": 4 x 5m + (0 + 2) x 1 s
assert s["samples"] == 30 * 86400 + 71 + 1202, s["samples"]
assert s["evaluations"] >= 30 * 86400, s["evaluations"]
assert s["triggers"] == 1, s
records = [json.loads(l) for l in open(sys.argv[2])]
trigger = [r for r in records if r["action"] == "trigger"]
assert len(trigger) == 1 and trigger[0]["time"].startswith("2026-10-01T00:00:"), trigger
assert trigger[0]["conditions"][0]["observed"] == 1, trigger[0]
# the lines 30 days on are counted: the last record with requests in its window is theirs
last = [r for r in records if (r["conditions"][0]["requests"] or 0) > 0][-1]
assert last["time"].startswith("2026-10-31T00:0"), last["time"]
PY
pass "two lines 30 days apart replay at 1 s under ulimit -v ${limit_kb} KB"
