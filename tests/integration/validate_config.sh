#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rollback validate on a rollback.toml alone: -c CONFIG, or a FILE whose tables are a config's.
# Every error located, exit 2; no source read, nothing run, no environment needed.
source "$(dirname "$0")/../support/itest.sh"

# The configs shipped with the project validate with an empty environment: every example
# rollback.toml, and the complete example of docs/config.md.
mkdir -p "$WORK/docs"
awk '/^```toml$/ { on = 1; next } /^```$/ { on = 0 } on' "$SRC/docs/config.md" > "$WORK/docs/rollback.toml"
[ -s "$WORK/docs/rollback.toml" ] || fail "no example config in docs/config.md"
ln -s "$SRC/playbooks" "$WORK/docs/playbooks" # its [decision] playbook, validated with it
ln -s "$SRC/hooks" "$WORK/docs/hooks"
n=0
while IFS= read -r -d '' f; do
    expect_rc 0 "$WORK/shipped.out" -- env -i "$RB" validate -c "$f"
    contains "$WORK/shipped.out" "$f: ok (config: "
    n=$((n + 1))
done < <(find "$SRC/examples" "$WORK/docs" -name 'rollback*.toml' -print0)
contains "$WORK/shipped.out" "ok (config: 6 sources, 2 conditions, 2 alert conditions, server on 127.0.0.1:9095)" # the docs' example, last
pass "$n shipped configs validate with no environment"

# Nothing is read but the [decision] playbook (a trigger must be able to start its run): the
# access log and the command named do not exist.
cat > "$WORK/rollback.toml" <<'TOML'
[target]
name = "shop"
[source.web]
kind = "access_log"
path = "/nonexistent/access.log"
format = "combined"
[source.orders]
kind = "command"
argv = ["/nonexistent/check-orders"]
[[condition]]
name = "errors"
signal = "web.error_rate"
above = 0.05
[[condition]]
name = "orders"
signal = "orders.value"
above = 3
[decision]
playbook = "/nonexistent/playbook.toml"
TOML
expect_rc 2 "$WORK/nopb.out" -- "$RB" validate -c "$WORK/rollback.toml"
contains "$WORK/nopb.out" "[decision] playbook: /nonexistent/playbook.toml does not exist"
sed -i "s|/nonexistent/playbook.toml|$SRC/examples/hello/hello.toml|" "$WORK/rollback.toml"
expect_rc 0 "$WORK/ok.out" -- "$RB" validate -c "$WORK/rollback.toml"
contains "$WORK/ok.out" "$WORK/rollback.toml: ok (config: 2 sources, 2 conditions)"
[ ! -e "$WORK/.rollback" ] || fail "validate created a state directory"
# A config given as a FILE is told from a playbook by its tables; both in one call.
expect_rc 0 "$WORK/both.out" -- "$RB" validate "$WORK/rollback.toml" "$SRC/examples/hello/hello.toml"
contains "$WORK/both.out" "$WORK/rollback.toml: ok (config: 2 sources, 2 conditions)"
contains "$WORK/both.out" "hello.toml: ok (7 steps, 1 finally)"
pass "validate -c CONFIG and validate CONFIG PLAYBOOK: ok, nothing read"

# Every error located, exit 2: a latency rule over a log without request times among them.
cat > "$WORK/bad.toml" <<'TOML'
[source.web]
kind = "access_log"
path = "access.log"
format = "combined"
[[condition]]
name = "slow"
signal = "web.latency_p95"
above = "1.5s"
[[condition]]
name = "errors"
signal = "web.error_rate"
abov = 0.05
TOML
expect_rc 2 "$WORK/bad.out" -- "$RB" validate -c "$WORK/bad.toml"
contains "$WORK/bad.out" "$WORK/bad.toml:7:10: error: condition \"slow\": signal \"web.latency_p95\": the format of source \"web\" (\"combined\") has no request-time field"
contains "$WORK/bad.out" "hint: log \$request_time"
contains "$WORK/bad.out" "$WORK/bad.toml:12:1: error: condition \"errors\": unknown key \"abov\" (did you mean \"above\"?)"
contains "$WORK/bad.out" "bad.toml: 3 errors"
# The monitor and check refuse the same file, before reading anything.
expect_rc 2 "$WORK/check.out" -- "$RB" check -c "$WORK/bad.toml"
contains "$WORK/check.out" "has no request-time field"
pass "a config's errors: every one located, exit 2 (latency without a request-time field too)"

expect_rc 2 "$WORK/none.out" -- "$RB" validate
contains "$WORK/none.out" "rollback validate -c rollback.toml"
pass "validate without a file: a hint names -c"

# A rule that judges nothing until a baseline exists: valid, with a located warning.
cat > "$WORK/floor.toml" <<'TOML'
[source.web]
kind = "access_log"
path = "access.log"
format = "combined_request_time"
[[condition]]
name = "slower"
signal = "web.latency_p95"
above_baseline = 1.5
baseline = "previous_release"
min_requests = 100
[decision]
mode = "observe"
TOML
expect_rc 0 "$WORK/floor.out" -- "$RB" validate -c "$WORK/floor.toml"
contains "$WORK/floor.out" "$WORK/floor.toml:8:1: warning: condition \"slower\": \"above_baseline\" without an \"above\" floor"
contains "$WORK/floor.out" "ok (config: 1 source, 1 condition), 1 warning"
pass "an above_baseline rule without a floor: a located warning, exit 0"

# --json: one object per file on stdout, errors located
expect_rc 2 "$WORK/json.out" -- "$RB" validate "$WORK/floor.toml" "$WORK/bad.toml" --json
python3 - "$WORK/json.out" <<'PY' || fail "validate --json"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
assert [r["ok"] for r in rows] == [True, False], rows
assert rows[0]["kind"] == "config" and rows[0]["conditions"] == 1 and len(rows[0]["warnings"]) == 1
assert rows[1]["errors"][0]["line"] == 7 and "request-time" in rows[1]["errors"][0]["problem"]
PY
pass "validate --json: one object per file, warnings and errors located"

# A file that cannot be read is a failure listed in "errors" too (not only in "message").
expect_rc 2 "$WORK/missing.json" -- "$RB" validate "$WORK/missing.toml" --json
python3 - "$WORK/missing.json" "$WORK/missing.toml" <<'PY' || fail "validate --json of a missing file"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
assert len(rows) == 1 and rows[0]["ok"] is False, rows
assert len(rows[0]["errors"]) == 1 and rows[0]["errors"][0]["file"] == sys.argv[2], rows
assert rows[0]["errors"][0]["problem"] == rows[0]["message"] != "", rows
PY
pass "validate --json: an unreadable file's reason is in errors"
