#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `rollback resume` takes the run lock first and reads the journal once, under it: the chain
# check, the fold and the writer's continuation come from that one reading (issue 12 point 8).
# Input refused before anything starts (a changed playbook) leaves the dead run's lock.json and
# journal exactly as they were; while the resumed run goes on, the lock names the run's own
# reason. The kill is deterministic: ROLLBACK_TEST_KILL_AT_RECORD at seq 4 (run_started 1,
# step_started 2, step_finished 3, step_started 4).
source "$(dirname "$0")/../support/itest.sh"
command -v strace >/dev/null || { echo "skipped: strace is not installed"; exit 125; }

d=$WORK/run
mkdir -p "$d"
cat >"$d/pb.toml" <<'TOML'
[playbook]
name = "one-read"
[[step]]
id = "first"
action = "exec"
argv = ["sh", "-c", "echo x >>count"]
[[step]]
id = "pause"
action = "wait"
duration = "2s"
[[step]]
id = "last"
action = "exec"
argv = ["sh", "-c", "echo y >>last"]
TOML
rc=0
{ (cd "$d" && ROLLBACK_TEST_KILL_AT_RECORD=4 exec "$RB" run -p pb.toml --yes --reason "error rate 12%" \
    </dev/null >run.out 2>&1); } 2>/dev/null || rc=$?
[ $rc -eq 137 ] || { cat "$d/run.out" >&2; fail "the engine was not killed at record 4 (rc $rc)"; }
state=$d/.rollback
journal=$(ls "$state"/runs/*.jsonl)
id=$(basename "$journal" .jsonl)
[ -f "$state/lock.json" ] || fail "the killed run left no lock.json"
cp "$state/lock.json" "$WORK/lock.before"
cp "$journal" "$WORK/journal.before"

# A changed playbook: refused (exit 2) after the lock was taken, and nothing changed.
cp "$d/pb.toml" "$WORK/pb.orig"
echo '# changed' >>"$d/pb.toml"
expect_rc 2 "$WORK/changed.out" -- "$RB" resume "$id" --state-dir "$state" --yes
contains "$WORK/changed.out" "changed since run $id started"
cmp -s "$state/lock.json" "$WORK/lock.before" || fail "a refused resume changed the dead run's lock.json"
cmp -s "$journal" "$WORK/journal.before" || fail "a refused resume changed the journal"
expect_rc 0 "$WORK/status.out" -- "$RB" status "$id" --state-dir "$state"
contains "$WORK/status.out" "died without finishing; its lock was left in place"
pass "a resume refused for a changed playbook leaves the dead run's lock and journal as they were"

# The resume itself: the journal and the playbook are each read once (strace), the run finishes, the
# chain holds, and the lock names the run's reason while it runs.
cp "$WORK/pb.orig" "$d/pb.toml"
(
    sleep 1
    cp "$state/lock.json" "$WORK/lock.during" 2>/dev/null || true
) &
watcher=$!
# LeakSanitizer cannot run under ptrace (the sanitizer build, scripts/sanitize.sh): leaks off here.
expect_rc 0 "$WORK/resume.out" -- env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -qq -e trace=open,openat -o "$WORK/strace.out" \
    "$RB" resume "$id" --state-dir "$state" --yes
wait "$watcher" || true
grep -F "runs/$id.jsonl\"" "$WORK/strace.out" >"$WORK/opens.txt" || true
reads=$(grep -c "O_RDONLY" "$WORK/opens.txt" || true)
[ "$reads" = 1 ] || { cat "$WORK/opens.txt" >&2; fail "resume opened the journal for reading $reads times, not once"; }
# The playbook is read and parsed once though it is loaded twice (with the variables of now, then
# with the run's): the loaders open an input with O_NONBLOCK (a FIFO is never waited on); the
# playbook's hash is taken through a plain open of its own.
grep -F '/pb.toml"' "$WORK/strace.out" >"$WORK/pb_opens.txt" || true
loads=$(grep -c "O_NONBLOCK" "$WORK/pb_opens.txt" || true)
[ "$loads" = 1 ] || { cat "$WORK/pb_opens.txt" >&2; fail "resume read the playbook $loads times to load it, not once"; }
[ "$(cat "$d/count")" = x ] || fail "the finished step ran again"
[ "$(cat "$d/last")" = y ] || fail "the last step did not run"
expect_rc 0 "$WORK/verify.out" -- "$RB" audit verify "$id" --state-dir "$state"
[ ! -e "$state/lock.json" ] || fail "the lock was not released after the resume"
[ -s "$WORK/lock.during" ] || fail "no lock.json while the resume ran"
python3 - "$WORK/lock.during" "$id" <<'PY' || fail "the lock did not name the run and its reason during the resume"
import json, sys
h = json.load(open(sys.argv[1]))
assert h["run_id"] == sys.argv[2], h
assert h["reason"] == "error rate 12%", h
PY
pass "resume reads the journal and the playbook once, under the lock that names the run's reason, and finishes the run"
