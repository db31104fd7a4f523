#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Journals and output paths that cannot be trusted, through the real binary: a journal whose hash
# chain is broken (an edited middle record, a duplicated last record) is named by status and
# report (a warning line; `journal_intact` in --json) and refused by resume (exit 2, with the audit
# command); a journal that is a FIFO or a link to /dev/zero is refused at once (exit 2); `report
# --html -o` refuses a FIFO or a symlink as its target and writes to stdout with `-o -`; `-c` naming
# a missing file is an error (exit 2) even with --state-dir.
source "$(dirname "$0")/../support/itest.sh"

cd "$WORK"

# A run killed mid-step: an unfinished journal resume would continue.
interrupted_run() { # DIR
    mkdir -p "$1"
    # A step runs in its playbook's directory: each run gets its own, and its own effects file.
    printf '[[step]]\nid="a"\naction="exec"\nargv=["sh","-c","echo ran >>effects; sleep 3"]\nidempotent=true\n' >"$1/p.toml"
    (cd "$1" && exec "$RB" run -p p.toml --yes --state-dir st </dev/null >run.out 2>&1) &
    local pid=$!
    for _ in $(seq 1 100); do grep -qs ran "$1/effects" && break; sleep 0.05; done
    kill -9 $pid
    wait $pid 2>/dev/null || true
    ls "$1"/st/runs/*.jsonl
}

# --- 1. an edited middle record ---------------------------------------------------------------
j=$(interrupted_run edited)
rid=$(basename "$j" .jsonl)
sed -i '2s/"manual"/"webhook"/' "$j"
expect_rc 1 edited/audit.out -- "$RB" audit verify "$rid" --state-dir edited/st
expect_rc 0 edited/status.out -- "$RB" status "$rid" --state-dir edited/st
contains edited/status.out "is NOT intact: line 2 (seq 1): hash mismatch"
contains edited/status.out "rollback audit verify RUN_ID"
expect_rc 0 edited/status.json -- "$RB" status "$rid" --state-dir edited/st --json
contains edited/status.json '"journal_intact":false'
expect_rc 0 edited/report.out -- "$RB" report "$rid" --state-dir edited/st
contains edited/report.out "is NOT intact"
expect_rc 0 edited/report.json -- "$RB" report "$rid" --state-dir edited/st --json
contains edited/report.json '"journal_intact":false'
before=$(sha256sum "$j")
expect_rc 2 edited/resume.out -- "$RB" resume "$rid" --yes --state-dir edited/st
contains edited/resume.out "is NOT intact: line 2 (seq 1)"
contains edited/resume.out "rollback audit verify $rid"
[ "$(sha256sum "$j")" = "$before" ] || fail "resume changed a journal whose chain is broken"
[ "$(grep -c ran edited/effects)" -eq 1 ] || fail "resume ran the step again from a broken journal"
pass "an edited middle record: status/report warn (journal_intact false), resume refuses with exit 2"

# --- 2. a duplicated last record -------------------------------------------------------------
j=$(interrupted_run dup)
rid=$(basename "$j" .jsonl)
tail -1 "$j" >>"$j"
expect_rc 0 dup/status.out -- "$RB" status "$rid" --state-dir dup/st
contains dup/status.out "is NOT intact"
expect_rc 2 dup/resume.out -- "$RB" resume "$rid" --yes --state-dir dup/st
[ "$(grep -c ran dup/effects)" -eq 1 ] || fail "resume ran the step again from a duplicated record"
pass "a duplicated last record: status warns, resume refuses"

# --- 3. an intact journal has journal_intact true -------------------------------------------
mkdir -p ok && (cd ok && printf '[[step]]\nid="a"\naction="exec"\nargv=["true"]\n' >p.toml)
expect_rc 0 ok/run.out -- "$RB" run -p ok/p.toml --yes --state-dir ok/st
rid=$(basename "$(ls ok/st/runs/*.jsonl)" .jsonl)
expect_rc 0 ok/status.json -- "$RB" status "$rid" --state-dir ok/st --json
contains ok/status.json '"journal_intact":true'
lacks ok/status.json "NOT intact"

# --- 4. a journal that is a FIFO or a link to /dev/zero -----------------------------------------
for kind in fifo zero; do
    cp -r ok "$kind"
    f="$kind/st/runs/$rid.jsonl"
    rm "$f"
    if [ $kind = fifo ]; then mkfifo "$f"; else ln -s /dev/zero "$f"; fi
    for cmd in "status $rid" "report $rid" "audit verify $rid" "resume $rid --yes"; do
        # shellcheck disable=SC2086
        expect_rc 2 "$kind/out" -- timeout 10 "$RB" $cmd --state-dir "$kind/st"
        contains "$kind/out" "not a regular file"
    done
done
pass "a journal that is a FIFO or a link to /dev/zero is refused at once (exit 2) by status, report, audit, resume"

# --- 5. report -o: only a regular file (or nothing) is replaced; -o - is stdout ----------------
mkfifo page.fifo
expect_rc 2 o1.out -- timeout 10 "$RB" report "$rid" --state-dir ok/st --html -o page.fifo
contains o1.out "cannot write page.fifo: not a regular file"
[ -p page.fifo ] || fail "report replaced the FIFO"
echo keep >target.html && ln -s target.html link.html
expect_rc 2 o2.out -- "$RB" report "$rid" --state-dir ok/st --html -o link.html
contains o2.out "symbolic link"
[ -L link.html ] && [ "$(cat target.html)" = keep ] || fail "report replaced the symlink or its target"
mkdir page.dir
expect_rc 2 o3.out -- "$RB" report "$rid" --state-dir ok/st --html -o page.dir
expect_rc 0 o4.out -- "$RB" report "$rid" --state-dir ok/st --html -o -
contains o4.out "<html"
expect_rc 0 o5.out -- "$RB" report "$rid" --state-dir ok/st --html -o page.html
grep -q "<html" page.html || fail "report -o page.html wrote no page"
expect_rc 0 o6.out -- "$RB" report "$rid" --state-dir ok/st --html -o page.html # an earlier page
pass "report --html -o refuses a FIFO, a symlink and a directory; -o - writes to stdout"

# A slip of tab completion: the run's own journal, or any file of the state directory, is never
# replaced (its hash chain is the audit record), nor a file that is no page.
cp "ok/st/runs/$rid.jsonl" journal.before
expect_rc 2 o7.out -- "$RB" report "$rid" --state-dir ok/st --html -o "ok/st/runs/$rid.jsonl"
contains o7.out "cannot write ok/st/runs/$rid.jsonl: it is in the state directory $WORK/ok/st"
cmp -s journal.before "ok/st/runs/$rid.jsonl" || fail "report replaced the run's journal"
expect_rc 2 o8.out -- "$RB" report "$rid" --state-dir ok/st --html -o ok/st/../st/new.html
contains o8.out "it is in the state directory"
expect_rc 0 o9.out -- "$RB" audit verify "$rid" --state-dir ok/st
echo "notes" >notes.txt
expect_rc 2 o10.out -- "$RB" report "$rid" --state-dir ok/st --html -o notes.txt
contains o10.out "cannot write notes.txt: it exists and is not an HTML page"
[ "$(cat notes.txt)" = notes ] || fail "report replaced a file that is no page"
pass "report --html -o refuses the state directory's files and a file that is no page (exit 2)"

# --- 6. -c naming a missing file is an error, even with --state-dir ------------------------------
for cmd in "run -p ok/p.toml --yes" "status" "history" "report $rid"; do
    # shellcheck disable=SC2086
    expect_rc 2 c.out -- "$RB" $cmd -c /nonexistent/rollback.toml --state-dir ok/st
    contains c.out "/nonexistent/rollback.toml does not exist"
done
pass "-c with a missing file is refused (exit 2) even when --state-dir is given"
