#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The state directory cannot be written (docs/journal.md): on a real full disk (a small tmpfs) the
# run stops before its next step with an intact journal, runs its finally step, exits 7 and says
# what to do; after space is freed `resume` finishes it. On a read-only mount nothing runs, exit 7.
# Needs root (mount); exits 125 (skipped) otherwise. CI runs as root.
set -euo pipefail
: "${ROLLBACK:?path of the rollback binary}"
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: needs root to mount a small tmpfs"
    exit 125
fi
work=$(mktemp -d)
state=$work/state
mkdir -p "$state"
mounted=""
cleanup() {
    if [ -n "$mounted" ]; then umount "$state" 2>/dev/null || umount -l "$state" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset ROLLBACK_STATE_DIR
if ! mount -t tmpfs -o size=1m tmpfs "$state" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs here"
    exit 125
fi
mounted=1
cd "$work"

# `fill` takes every free byte of the state directory's disk and prints 8 KiB (its output tail,
# 4 KiB, makes its step_finished record need a new page of the full disk).
cat > pb.toml <<TOML
[playbook]
name = "full"
[[step]]
id = "fill"
action = "exec"
argv = ["sh", "-c", "dd if=/dev/zero of=$state/filler bs=4k 2>/dev/null; head -c 8192 /dev/zero | tr -c x x; echo"]
[[step]]
id = "after"
action = "exec"
argv = ["sh", "-c", "echo after >> $work/after.txt"]
[[finally]]
id = "cleanup"
action = "exec"
argv = ["sh", "-c", "echo cleanup >> $work/finally.txt"]
TOML

rc=0
"$ROLLBACK" run -p pb.toml --state-dir "$state" --yes > run.out 2>&1 || rc=$?
cat run.out
[ "$rc" -eq 7 ] || fail "a run on a full disk exited $rc, expected 7"
id=$(basename "$(ls "$state"/runs/*.jsonl)" .jsonl)
grep -q "the state directory cannot be written: the disk of the state directory $state is full" run.out \
    || fail "the run does not say the disk is full"
grep -q "rollback resume $id" run.out || fail "the run does not say how to continue"
[ ! -e after.txt ] || fail "a step started after the disk was full"
[ "$(cat finally.txt)" = cleanup ] || fail "the finally step did not run"
[ ! -e "$state/runs/$id.jsonl.reserve" ] || fail "the space reserve was left behind"
rc=0; "$ROLLBACK" audit verify "$id" --state-dir "$state" > audit.out 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat audit.out; fail "audit verify after a full disk exited $rc"; }
grep -q '"type":"run_stopped"' "$state/runs/$id.jsonl" || fail "no run_stopped record"
"$ROLLBACK" report "$id" --state-dir "$state" > report.out 2>&1 || { cat report.out; fail "report failed"; }
grep -q "run stopped: the disk of the state directory $state is full" report.out \
    || { cat report.out; fail "the report does not show why the run stopped"; }
grep -q "step cleanup: succeeded" report.out || { cat report.out; fail "the report lacks the finally step"; }
if grep -q "unknown" report.out; then cat report.out; fail "the report has an unknown record"; fi
"$ROLLBACK" status "$id" --state-dir "$state" > status.out 2>&1
grep -q "run $id: interrupted" status.out || { cat status.out; fail "status is not interrupted"; }

# Space freed: resume runs what is left (after), not what finished (fill or the finally step).
rm -f "$state/filler"
rc=0; "$ROLLBACK" resume "$id" --state-dir "$state" --yes > resume.out 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat resume.out; fail "resume after freeing space exited $rc"; }
[ "$(cat after.txt)" = after ] || fail "resume did not run the remaining step once"
[ ! -e "$state/filler" ] || fail "resume ran the finished fill step again"
"$ROLLBACK" audit verify "$id" --state-dir "$state" > /dev/null || fail "journal not intact after resume"

# Read-only: the lock cannot be taken; nothing runs, exit 7 with what to do.
rm -f after.txt finally.txt
mount -o remount,ro "$state"
rc=0; "$ROLLBACK" run -p pb.toml --state-dir "$state" --yes > ro.out 2>&1 || rc=$?
cat ro.out
[ "$rc" -eq 7 ] || fail "a run on a read-only state directory exited $rc, expected 7"
grep -q "rollback: error: cannot write to state directory $state: Read-only file system" ro.out \
    || fail "the read-only error does not say what failed"
grep -q "hint: nothing was done; make $state writable" ro.out || fail "the read-only error gives no hint"
[ ! -e after.txt ] && [ ! -e finally.txt ] || fail "a step ran on a read-only state directory"
echo ok
