#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `rollback state export RUN_ID -o FILE` writes a file the person names by the one rule of
# `report -o` and `explain -o` (cli/output_file.hpp; break-it 43/F4): only a new file, an empty
# one or an earlier export of the same run is replaced; a device, a FIFO, a symbolic link, a
# directory, a file of the state directory (another run's journal, rollback.log) and any other
# existing file are refused (exit 2) and left as they were; `-o -` (or no -o) is stdout.
# `audit verify RUN` refuses a journal whose header names another run (exit 1).
source "$(dirname "$0")/../support/itest.sh"

cd "$WORK"
printf '[[step]]\nid="a"\naction="exec"\nargv=["true"]\n' >p.toml
run_once() { # prints the run id of a finished run in st/
    "$RB" run -p p.toml --yes --state-dir st </dev/null >/dev/null 2>&1 || fail "the run failed"
    ls -t st/runs/*.jsonl | head -1 | xargs basename | sed 's/\.jsonl$//'
}
r1=$(run_once)
sleep 1.1 # run ids carry the second
r2=$(run_once)
[ "$r1" != "$r2" ] || fail "one run id twice"
[ -s st/rollback.log ] || fail "no rollback.log in the state directory"

# --- a new file, again over its own earlier export, stdout ----------------------------------
expect_rc 0 e1.out -- "$RB" state export "$r1" --state-dir st -o r1.jsonl
contains e1.out "run $r1: journal written to r1.jsonl"
cmp -s r1.jsonl "st/runs/$r1.jsonl" || fail "the export differs from the journal"
expect_rc 0 e2.out -- "$RB" state export "$r1" --state-dir st -o r1.jsonl
: >empty.jsonl
expect_rc 0 e3.out -- "$RB" state export "$r1" --state-dir st -o empty.jsonl
cmp -s empty.jsonl r1.jsonl || fail "the empty file was not written"
"$RB" state export "$r1" --state-dir st -o - </dev/null >stdout.jsonl 2>/dev/null || fail "-o - failed"
cmp -s stdout.jsonl r1.jsonl || fail "-o - did not write the journal to stdout"
pass "state export -o: a new file, an earlier export of the run, an empty file, and -o -"

# --- what is refused, and left as it was ----------------------------------------------------
mkfifo fifo
echo precious >target.txt && ln -s target.txt link
echo "my notes" >notes.md
mkdir adir
cp "st/runs/$r2.jsonl" r2.before
cp st/rollback.log log.before
"$RB" state export "$r2" --state-dir st -o r2.jsonl </dev/null 2>/dev/null || fail "export of $r2"
check_refused() { # FILE TEXT
    expect_rc 2 refused.out -- timeout 10 "$RB" state export "$r1" --state-dir st -o "$1"
    contains refused.out "cannot write $1: $2"
    contains refused.out "-o - to write the journal to standard output"
}
check_refused fifo "not a regular file"
[ -p fifo ] || fail "the FIFO was replaced"
check_refused link "it is a symbolic link"
[ -L link ] && [ "$(cat target.txt)" = precious ] || fail "the link or its target was replaced"
check_refused notes.md "it exists and is not a journal of run $r1"
[ "$(cat notes.md)" = "my notes" ] || fail "notes.md was replaced"
check_refused r2.jsonl "it exists and is not a journal of run $r1"
check_refused adir "it is a directory"
check_refused "st/runs/$r2.jsonl" "it is in the state directory $WORK/st"
check_refused st/rollback.log "it is in the state directory $WORK/st"
check_refused st/../st/new.jsonl "it is in the state directory $WORK/st"
cmp -s r2.before "st/runs/$r2.jsonl" || fail "another run's journal was replaced"
cmp -s log.before st/rollback.log || fail "rollback.log was replaced"
if [ "$(id -u)" = 0 ]; then
    # A device node (made here: a failure must never touch the machine's /dev/null).
    mknod fakedev c 1 3
    check_refused fakedev "not a regular file"
    [ -c fakedev ] || fail "the device node was replaced"
fi
pass "state export -o refuses a FIFO, a link, a directory, a device, a foreign file and the state directory"

# --- another run's journal under a run's name is no evidence ---------------------------------
mkdir -p other/runs
cp "st/runs/$r2.jsonl" "other/runs/$r1.jsonl"
expect_rc 1 audit.out -- "$RB" audit verify "$r1" --state-dir other
contains audit.out "NOT intact: line 1 (seq 0): the header names run \"$r2\", not $r1"
expect_rc 0 audit2.out -- "$RB" audit verify "$r2" --state-dir st
pass "audit verify refuses an intact journal of another run under the run's name"
