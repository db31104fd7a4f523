#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A journal is untrusted input: someone who can write the state directory can edit a step_process
# record (the pgid of an unrelated process group, leader_start 0, another run's token, no token)
# and recompute the hash chain, so `audit verify` says intact. Resume must then signal nothing
# it cannot prove is the attempt's: only a process that carries the attempt's token or mark, on
# a record whose token is this run's, step's and attempt's and whose leader started within the
# attempt, is ever signalled. What a record names without that proof is waited for and, while it
# lives, keeps the step from starting (a person decides: exit 6); a group whose leader pid is
# another process now holds nothing of the attempt. It says so in its output and in a
# step_survivors record, and the victims live on (docs/actions.md "Step processes").
source "$(dirname "$0")/../support/itest.sh"
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 125; }

cd "$WORK"
journal_of() { ls "$1"/st/runs/*.jsonl | head -1; }
start_ticks() { awk '{sub(/.*\) /, ""); print $20}' "/proc/$1/stat"; }

# forge JOURNAL PGID LEADER_START TOKEN: rewrites the step_process record ("keep" keeps a field,
# TOKEN "none" removes it) and recomputes every hash, as an attacker would.
forge() {
    python3 - "$@" <<'PY'
import hashlib, json, sys
path, pgid, start, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
out, prev = [], "0" * 64
for line in open(path, "rb").read().decode().splitlines():
    o = json.loads(line)
    if o.get("type") == "step_process":
        o["pgid"] = pgid
        if start != "keep":
            o["leader_start"] = int(start)
        if token == "none":
            o.pop("token", None)
        elif token != "keep":
            o["token"] = token
    o["prev"] = prev
    o.pop("hash", None)
    body = json.dumps(o, separators=(",", ":"), ensure_ascii=False)
    line = body[:-1] + ',"hash":"' + hashlib.sha256(body.encode()).hexdigest() + '"}'
    out.append(line)
    prev = hashlib.sha256(line.encode()).hexdigest()
open(path, "w").write("\n".join(out) + "\n")
PY
}

# A run killed right after its step_process record (the program never ran: nothing of it is
# alive), started just after the victim so that the victim's own start time is plausible.
interrupted_run() { # DIR
    mkdir -p "$1"
    printf '[[step]]\nid="a"\naction="exec"\nargv=["sh","-c","echo ran >>effects"]\nidempotent=true\ntimeout="2s"\n' >"$1/p.toml"
    { (cd "$1" && ROLLBACK_TEST_KILL_AT_RECORD=3 exec "$RB" run -p p.toml --yes --state-dir st </dev/null >run.out 2>&1); } 2>/dev/null || true
    grep -q '"type":"step_process"' "$(journal_of "$1")" || fail "$1: no step_process record to forge"
}

# check_refused DIR VICTIM WHY: the record names a group that is another one now: resume ran the
# step again, signalled nothing, said why.
check_refused() {
    local d=$1 victim=$2 why=$3 rid
    rid=$(basename "$(journal_of "$d")" .jsonl)
    expect_rc 0 "$d/audit.out" -- "$RB" audit verify "$rid" --state-dir "$d/st"
    expect_rc 0 "$d/resume.out" -- "$RB" resume "$rid" --state-dir "$d/st" --yes
    running "$victim" || fail "$d: resume killed process $victim, which a forged record named"
    contains "$d/resume.out" "nothing signalled (pid $victim "
    contains "$d/resume.out" "$why"
    lacks "$d/resume.out" "survived the engine"
    grep -q '"type":"step_survivors".*"outcome":"not_proven".*"unproven":\[{"pid":'"$victim"'.*"why":"' "$(journal_of "$d")" ||
        fail "$d: no step_survivors not_proven record naming $victim"
    [ "$(wc -l <"$d/effects")" -eq 1 ] || fail "$d: the step did not run (once) after the refusal"
}

# check_waited DIR VICTIM WHY: the record names the victim's group as the attempt's: resume
# waited for it (the step's 2 s), signalled nothing, did not start the step, asks a person.
check_waited() {
    local d=$1 victim=$2 why=$3 rid
    rid=$(basename "$(journal_of "$d")" .jsonl)
    expect_rc 0 "$d/audit.out" -- "$RB" audit verify "$rid" --state-dir "$d/st"
    expect_rc 6 "$d/resume.out" -- "$RB" resume "$rid" --state-dir "$d/st" --yes
    running "$victim" || fail "$d: resume killed process $victim, which a forged record named"
    contains "$d/resume.out" "pid $victim (sleep 120) [no token or mark: not signalled]"
    contains "$d/resume.out" "they were not signalled: "
    contains "$d/resume.out" "$why"
    contains "$d/resume.out" "rollback resume $rid"
    grep -q '"type":"step_survivors".*"outcome":"remain".*"remaining":\[{"pid":'"$victim"'.*"why":"' "$(journal_of "$d")" ||
        fail "$d: no step_survivors remain record naming $victim"
    [ ! -e "$d/effects" ] || fail "$d: the step started beside a process its record names"
}

setsid sleep 120 >/dev/null 2>&1 &
victim=$!
stop_on_exit $victim
sleep 0.2 # setsid has made it the leader of a group of its own

# --- 1. finding 07 as found: the victim's group, leader_start 0 --------------------------------
interrupted_run zero
forge "$(journal_of zero)" $victim 0 keep
check_refused zero $victim "its leader's start time (0 ticks after boot) is not between the attempt's start"
expect_rc 0 zero/report.out -- "$RB" report "$(basename "$(journal_of zero)" .jsonl)" --state-dir zero/st
contains zero/report.out "nothing signalled (pid $victim (sleep 120))"
pass "a forged step_process (unrelated group, leader_start 0, chain recomputed): nothing signalled, said so"

# --- 2. a plausible leader_start (the victim's own): its processes carry no proof ---------------
interrupted_run plausible
forge "$(journal_of plausible)" $victim "$(start_ticks $victim)" keep
check_waited plausible $victim "they carry neither the attempt's token nor its mark"
pass "a forged record with a plausible start time: the victim carries no token or mark, not signalled, waited for"

# --- 3. no token at all ---------------------------------------------------------------------------
interrupted_run notoken
forge "$(journal_of notoken)" $victim "$(start_ticks $victim)" none
check_waited notoken $victim "its record carries no attempt token"
pass "a record without a token proves nothing: not signalled, waited for"

# --- 4. another run's daemon, with that run's own token ----------------------------------------
mkdir -p other
printf '[[step]]\nid="d"\naction="exec"\nargv=["sh","-c","sleep 120 >/dev/null 2>&1 & echo $! >daemon.pid"]\n' >other/p.toml
(cd other && exec "$RB" run -p p.toml --yes --state-dir st </dev/null >run.out 2>&1) || fail "the other run failed"
daemon=$(cat other/daemon.pid)
stop_on_exit "$daemon"
read -r opgid ostart otoken < <(python3 - "$(journal_of other)" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "step_process":
        print(r["pgid"], r["leader_start"], r["token"])
PY
)
grep -qs "ROLLBACK_STEP_ATTEMPT=$otoken" "/proc/$daemon/environ" || fail "the other run's daemon does not carry its token"
interrupted_run borrowed
forge "$(journal_of borrowed)" "$opgid" "$ostart" "$otoken"
check_waited borrowed "$daemon" "is not one of this attempt"
pass "a record borrowing another run's group and token: that run's daemon is not signalled"

# --- 5. the process group of this test itself ---------------------------------------------------
own=$(ps -o pgid= $$ | tr -d ' ')
interrupted_run own
forge "$(journal_of own)" "$own" 0 keep
rid=$(basename "$(journal_of own)" .jsonl)
expect_rc 0 own/resume.out -- "$RB" resume "$rid" --state-dir own/st --yes
contains own/resume.out "nothing signalled (pid "
pass "a record naming the process group of the caller: nothing signalled (this test is still alive)"
