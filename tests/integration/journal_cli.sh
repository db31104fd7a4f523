#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The journal through the real binary: a run writes it; status, history, report read it alone;
# audit verify passes untouched and fails on a flipped byte, a deleted and a reordered record;
# a second run is refused (exit 4) naming the holder; a killed holder shows as interrupted.
set -euo pipefail

ROLLBACK=${ROLLBACK:?path of the rollback binary}
WORK=$(mktemp -d /tmp/journal_cli.XXXXXX)
BG=
cleanup() {
    [ -z "$BG" ] || kill -9 "$BG" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
expect_rc() { # expected-rc command...
    local want=$1 rc=0
    shift
    "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [ "$rc" -eq "$want" ] || {
        cat "$WORK/out" "$WORK/err" >&2
        fail "exit $rc, expected $want: $*"
    }
}
has() { grep -qF -- "$1" "$WORK/$2" || { cat "$WORK/out" "$WORK/err" >&2; fail "no '$1' in $2"; }; }

cat >"$WORK/pb.toml" <<'TOML'
[playbook]
name = "journal-test"

[[step]]
id = "first"
phase = "immediate"
action = "exec"
argv = ["echo", "hello from first"]

[[step]]
id = "second"
phase = "code"
action = "exec"
argv = ["sh", "-c", "sleep ${SLEEP_S:-0}; echo second done"]
timeout = "60s"

[[finally]]
id = "cleanup"
action = "exec"
argv = ["true"]
TOML
STATE=$WORK/.rollback

# --- nothing yet -------------------------------------------------------------------------------
expect_rc 0 "$ROLLBACK" status --state-dir "$STATE"
has "no runs in" out
expect_rc 0 "$ROLLBACK" history --state-dir "$STATE"
has "no runs in" out

# --- one successful run -----------------------------------------------------------------------
expect_rc 0 "$ROLLBACK" run -p "$WORK/pb.toml" --yes --reason "journal test"
RUN=$(ls "$STATE/runs" | sed -n 's/\.jsonl$//p' | head -1)
[ -n "$RUN" ] || fail "no journal written"
JOURNAL=$STATE/runs/$RUN.jsonl

expect_rc 0 "$ROLLBACK" status -p "$WORK/pb.toml"
has "run $RUN: succeeded" out
has "reason    journal test" out
has "second" out
expect_rc 0 "$ROLLBACK" status "$RUN" --state-dir "$STATE" --json
has "\"run_id\":\"$RUN\"" out
has '"state":"succeeded"' out
expect_rc 0 "$ROLLBACK" history --state-dir "$STATE"
has "$RUN  succeeded" out
expect_rc 0 "$ROLLBACK" history --state-dir "$STATE" --json
has '"state":"succeeded"' out
has '"trigger":{"kind":"manual"' out # one schema with status --json
# --json errors are one JSON object on stderr; stdout stays empty
expect_rc 2 "$ROLLBACK" report 20200101T000000Z-000000 --state-dir "$STATE" --json
has '{"error":{"code":2,"message":' err
[ ! -s "$WORK/out" ] || fail "a --json error wrote to stdout"
expect_rc 0 "$ROLLBACK" report "$RUN" --state-dir "$STATE"
has "step first: started (attempt 1)" out
has "| hello from first" out
has "run finished: succeeded" out
expect_rc 0 "$ROLLBACK" report "$RUN" --state-dir "$STATE" --json
has '"timeline":[' out
expect_rc 2 "$ROLLBACK" report --state-dir "$STATE"
expect_rc 2 "$ROLLBACK" report 20200101T000000Z-000000 --state-dir "$STATE"

# --- audit verify ------------------------------------------------------------------------------
expect_rc 0 "$ROLLBACK" audit verify "$RUN" --state-dir "$STATE"
has "intact" out
cp "$JOURNAL" "$WORK/orig.jsonl"

# A flipped byte: "hello" -> "hellp" in the output tail of line 4 or later.
sed -i '0,/hello from first/s//hellp from first/' "$JOURNAL"
cmp -s "$JOURNAL" "$WORK/orig.jsonl" && fail "sed changed nothing"
expect_rc 1 "$ROLLBACK" audit verify "$RUN" --state-dir "$STATE"
has "NOT intact: line" out
has "hash mismatch" out
expect_rc 1 "$ROLLBACK" audit verify "$RUN" --state-dir "$STATE" --json
has '"problem":"hash mismatch' out

cp "$WORK/orig.jsonl" "$JOURNAL"
sed -i '3d' "$JOURNAL" # a deleted record
expect_rc 1 "$ROLLBACK" audit verify "$RUN" --state-dir "$STATE"
has "line 3 (seq 2)" out

cp "$WORK/orig.jsonl" "$JOURNAL"
sed -i '3{h;d};4{G}' "$JOURNAL" # lines 3 and 4 swapped
expect_rc 1 "$ROLLBACK" audit verify "$RUN" --state-dir "$STATE" --json
has '"ok":false' out
has '"bad_line":3' out

cp "$WORK/orig.jsonl" "$JOURNAL"
printf '{"seq":99,"ti' >>"$JOURNAL" # torn tail: readers warn, audit fails
expect_rc 0 "$ROLLBACK" status "$RUN" --state-dir "$STATE"
has "last record is incomplete (crash while writing?); ignored" err
expect_rc 1 "$ROLLBACK" audit verify "$RUN" --state-dir "$STATE"
has "incomplete" out
cp "$WORK/orig.jsonl" "$JOURNAL"
expect_rc 2 "$ROLLBACK" audit check "$RUN" --state-dir "$STATE"

# --- one run at a time; a dead holder --------------------------------------------------------
SLEEP_S=30 "$ROLLBACK" run -p "$WORK/pb.toml" --yes --reason "long one" >"$WORK/bg.out" 2>&1 &
BG=$!
for _ in $(seq 1 200); do
    [ -f "$STATE/lock.json" ] && grep -q '"run_id":"2' "$STATE/lock.json" && break
    sleep 0.05
done
[ -f "$STATE/lock.json" ] || fail "the background run never took the lock"
LIVE=$(sed -n 's/.*"run_id":"\([^"]*\)".*/\1/p' "$STATE/lock.json")
expect_rc 4 "$ROLLBACK" run -p "$WORK/pb.toml" --yes --reason "second"
has "$LIVE" err
has "pid $BG" err
has "long one" err
expect_rc 0 "$ROLLBACK" status --state-dir "$STATE"
has "run $LIVE: running" out

kill -9 "$BG"
wait "$BG" 2>/dev/null || true
BG=
expect_rc 0 "$ROLLBACK" status --state-dir "$STATE"
has "run $LIVE: interrupted" out
has "died without finishing" out
has "next: rollback resume $LIVE" out
expect_rc 4 "$ROLLBACK" run -p "$WORK/pb.toml" --yes --reason "third"
has "died without finishing" err
has "rollback resume $LIVE" err
expect_rc 0 "$ROLLBACK" audit verify "$LIVE" --state-dir "$STATE"
# A step that runs no child (an http check) has no exit code: absent in the journal, "-" in the
# report, never a made-up -1.
mkdir -p "$WORK/nochild"
cat >"$WORK/nochild/pb.toml" <<'TOML'
[playbook]
name = "no-child"
[[step]]
id = "probe"
action = "http"
url = "http://127.0.0.1:9/"
timeout = "2s"
on_failure = "continue"
TOML
expect_rc 3 "$ROLLBACK" run -p "$WORK/nochild/pb.toml" --yes
NC=$(basename "$(ls "$WORK"/nochild/.rollback/runs/*.jsonl)" .jsonl)
if grep '"type":"step_finished"' "$WORK/nochild/.rollback/runs/$NC.jsonl" | grep -q '"exit_code"'; then
    fail "step_finished carries an exit_code for a step without a child"
fi
expect_rc 0 "$ROLLBACK" report "$NC" -p "$WORK/nochild/pb.toml"
grep -Eq '^  probe +immediate +verification_failed +1 +- ' "$WORK/out" || { cat "$WORK/out"; fail "report EXIT is not '-'"; }
echo "journal_cli: all checks passed"
