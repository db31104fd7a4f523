#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bad input through the real binary: a clean located error and exit 2, never a crash, a hang or a
# record. The shipped playbooks validate with no environment (warnings, exit 0) and fail plan
# with one error per unset variable; configs that are a directory, empty, a FIFO or /dev/zero;
# nesting 100,000 levels deep; a non-ASCII bare key; times that do not exist or overflow.
source "$(dirname "$0")/../support/itest.sh"

# --- validate without the deployment's environment (as a CI job runs it)
for pb in ecommerce code-only database-only; do
    expect_rc 0 "$WORK/v-$pb.out" -- env -i PATH="$PATH" "$RB" validate "$SRC/playbooks/$pb.toml"
    contains "$WORK/v-$pb.out" "$pb.toml: ok ("
    contains "$WORK/v-$pb.out" ": warning: [vars] "
    lacks "$WORK/v-$pb.out" "error:"
    lacks "$WORK/v-$pb.out" "undefined variable"
done
# ecommerce.toml reads 7 unset variables: one warning each, however often they are used.
[ "$(grep -c ': warning: ' "$WORK/v-ecommerce.out")" = 7 ] || { cat "$WORK/v-ecommerce.out"; fail "expected 7 warnings"; }
contains "$WORK/v-ecommerce.out" "ok (" 
contains "$WORK/v-ecommerce.out" "7 warnings: environment variables to set before plan/run"
expect_rc 2 "$WORK/plan.out" -- env -i PATH="$PATH" "$RB" plan -p "$SRC/playbooks/ecommerce.toml"
[ "$(grep -c ': error: ' "$WORK/plan.out")" = 7 ] || { cat "$WORK/plan.out"; fail "plan: expected 7 errors"; }
contains "$WORK/plan.out" "environment variable SHOP_ROOT is not set"
pass "shipped playbooks validate with no environment; plan refuses them, one error per variable"

# --- files that are not configs
mkdir -p "$WORK/cfgdir"
cat >"$WORK/ok.toml" <<'TOML'
[target]
name = "t"
[source.q]
kind = "command"
argv = ["echo", "1"]
[[condition]]
name = "q-high"
signal = "q.value"
above = 5
TOML
cd "$WORK"
expect_rc 2 "$WORK/dir.out" -- "$RB" check -c "$WORK/cfgdir" --state-dir "$WORK/st"
contains "$WORK/dir.out" "rollback: error: cannot read $WORK/cfgdir: it is a directory"
expect_rc 2 "$WORK/dirm.out" -- "$RB" monitor -c "$WORK/cfgdir" --once --state-dir "$WORK/st"
contains "$WORK/dirm.out" "it is a directory"
: >"$WORK/empty.toml"
expect_rc 2 "$WORK/empty.out" -- "$RB" check -c "$WORK/empty.toml" --state-dir "$WORK/st"
contains "$WORK/empty.out" "empty.toml:1:1: error: rollback.toml: empty configuration"
mkfifo "$WORK/fifo.toml"
expect_rc 2 "$WORK/fifo.out" -- timeout 20 "$RB" check -c "$WORK/fifo.toml" --state-dir "$WORK/st"
contains "$WORK/fifo.out" "not a regular file (a FIFO, a device or a socket)"
expect_rc 2 "$WORK/fifo-pb.out" -- timeout 20 "$RB" validate "$WORK/fifo.toml"
contains "$WORK/fifo-pb.out" "not a regular file"
expect_rc 2 "$WORK/zero.out" -- timeout 20 "$RB" validate /dev/zero
contains "$WORK/zero.out" "rollback: error: cannot read /dev/zero: not a regular file"
[ ! -d "$WORK/st/decisions" ] || fail "a decision record was written for a bad config"
expect_rc 0 "$WORK/ok.out" -- "$RB" check -c "$WORK/ok.toml" --state-dir "$WORK/st"
[ -d "$WORK/st/decisions" ] || fail "the good config wrote no decision record"
pass "a directory, an empty file, a FIFO or /dev/zero is refused at once; no record"

# --- nesting and non-ASCII keys
python3 - "$WORK" <<'PY'
import sys
w = sys.argv[1]
open(w + "/deep.toml", "w").write("a" + ".a" * 99999 + " = 1\n")
open(w + "/deep20k.toml", "w").write('[[step]]\nid = "s"\naction = "exec"\nargv = ["true"]\nx' + ".a" * 19999 + " = 1\n")
open(w + "/arrays.toml", "w").write("v = " + "[" * 100000 + "\n")
open(w + "/mu.toml", "w").write('[[step]]\nid = "s"\naction = "exec"\nargv = ["true"]\nμ = "x"\n')
PY
expect_rc 2 "$WORK/deep.out" -- "$RB" validate "$WORK/deep.toml"
contains "$WORK/deep.out" "deep.toml:1:128: error: syntax: nested deeper than 64 levels"
expect_rc 2 "$WORK/deep20k.out" -- "$RB" validate "$WORK/deep20k.toml"
contains "$WORK/deep20k.out" "deep20k.toml:5:"
contains "$WORK/deep20k.out" "nested deeper than 64 levels"
expect_rc 2 "$WORK/arrays.out" -- "$RB" check -c "$WORK/arrays.toml" --state-dir "$WORK/st"
contains "$WORK/arrays.out" "nested deeper than 64 levels"
cp "$WORK/deep.toml" "$WORK/deepcfg.toml"
expect_rc 2 "$WORK/deepcfg.out" -- "$RB" check -c "$WORK/deepcfg.toml" --state-dir "$WORK/st"
contains "$WORK/deepcfg.out" "deepcfg.toml:1:128: error: syntax: nested deeper than 64 levels"
expect_rc 2 "$WORK/mu.out" -- "$RB" validate "$WORK/mu.toml"
contains "$WORK/mu.out" "mu.toml:5:1: error: syntax: non-ASCII character outside a string or a comment"
pass "100,000 levels and a non-ASCII key: located errors, exit 2"

# --- times
expect_rc 2 "$WORK/t1.out" -- "$RB" deployed --release v2 --time 2026-11-30T05:00:00+ab:cd -c "$WORK/ok.toml" --state-dir "$WORK/st"
contains "$WORK/t1.out" 'rollback: error: --time: cannot read "2026-11-30T05:00:00+ab:cd": UTC offset +ab:cd'
expect_rc 2 "$WORK/t2.out" -- "$RB" deployed --release v2 --time 2026-02-31T05:00:00Z -c "$WORK/ok.toml" --state-dir "$WORK/st"
contains "$WORK/t2.out" "no such date and time: 2026-02-31T05:00:00"
expect_rc 2 "$WORK/t3.out" -- "$RB" deployed --release v2 --time "9999-12-31 00:00:00" -c "$WORK/ok.toml" --state-dir "$WORK/st"
contains "$WORK/t3.out" "year 9999 is outside 1678..2261"
[ ! -e "$WORK/st/deploy.json" ] || fail "a bad --time wrote a deploy marker"
expect_rc 0 "$WORK/t4.out" -- "$RB" deployed --release v2 --time 2026-11-30T06:00:00+01:00 -c "$WORK/ok.toml" --state-dir "$WORK/st"
contains "$WORK/st/deploy.json" '"time":"2026-11-30T05:00:00.000Z"'
# A CSV row with such a time is a bad row: skipped with a located warning, counted (issue 10);
# a CSV none of whose rows can be read is an error, exit 2.
printf 'timestamp,value\n2026-11-29 00:00:00,1\n9999-12-31 23:59:59,2\n' >"$WORK/y.csv"
expect_rc 0 "$WORK/csv.out" -- "$RB" check -c "$WORK/ok.toml" --replay "$WORK/y.csv" --state-dir "$WORK/st"
contains "$WORK/csv.out" "1 row cannot be read and is not counted; the first: $WORK/y.csv:3:1: timestamp: cannot read \"9999-12-31 23:59:59\": year 9999 is outside 1678..2261"
printf 'timestamp,value\n9999-12-31 23:59:59,2\n2026-11-29 00:05:00,\n' >"$WORK/yy.csv"
expect_rc 2 "$WORK/csv2.out" -- "$RB" check -c "$WORK/ok.toml" --replay "$WORK/yy.csv" --state-dir "$WORK/st"
contains "$WORK/csv2.out" "yy.csv:2:1: error: timestamp: cannot read \"9999-12-31 23:59:59\": year 9999 is outside 1678..2261"
contains "$WORK/csv2.out" "yy.csv:3:21: error: value: no value"
pass "times that do not exist or overflow: errors, exit 2, nothing stored (a bad CSV row: skipped, counted)"

# --- access logs: numbers and spans
printf '17960148001796014800 200 0.1\n1764460800.5 200 17960148001796014800\n' >"$WORK/msec.log"
expect_rc 0 "$WORK/msec.out" -- "$RB" check -c "$WORK/ok.toml" --replay "$WORK/msec.log" --format '$msec $status $request_time' --source q --samples --state-dir "$WORK/st"
contains "$WORK/msec.out" "1 of 2 lines do not match the log format; first at line 1"
line() { printf '127.0.0.1 - - [%s +0000] "GET / HTTP/1.1" 200 5 "-" "-" 0.010\n' "$1"; }
# (the log's first run, 2001, and the jump to 2026 are each confirmed by a line 70 s after its
# first, more than max_lateness + 2 intervals: lines that far ahead spanning less are not counted, docs/decision.md "Event time and
# lateness")
{ line 01/Jan/2001:00:00:00; line 01/Jan/2001:00:01:10; line 29/Nov/2026:00:00:00; line 29/Nov/2026:00:00:01; line 29/Nov/2026:00:01:10; } >"$WORK/span.log"
expect_rc 2 "$WORK/span.out" -- timeout 60 "$RB" check -c "$WORK/ok.toml" --replay "$WORK/span.log" --format combined_request_time --source q --interval 1s --state-dir "$WORK/st"
contains "$WORK/span.out" "more than 3000000 intervals of 1 s"
expect_rc 0 "$WORK/span2.out" -- timeout 60 "$RB" check -c "$WORK/ok.toml" --replay "$WORK/span.log" --format combined_request_time --source q --interval 1s --from 2026-11-28T23:59:00Z --to 2026-11-29T00:01:00Z --samples --state-dir "$WORK/st"
contains "$WORK/span2.out" "2026-11-29T00:00:00.000Z,2026-11-29T00:00:01.000Z,requests,1,0"
pass "a 20-digit \$msec is a rejected line; lines 25 years apart: refused before memory fills, or read in a range"
