#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The engine killed (kill -9) or interrupted (SIGTERM) during a step's retry_delay: the failed
# attempt is not the step's result. Resume makes the retries the playbook asked for, after the
# rest of the delay, instead of taking the failure as final (on_failure = "continue": silently
# skipped, run "succeeded"; abort: "stopped because step failed", exit 2). docs/actions.md,
# "Resume rules". Each step fails on its first try and succeeds on the next.
source "$(dirname "$0")/../support/itest.sh"

journal_of() { ls "$1"/.rollback/runs/*.jsonl | head -1; }

make_case() { # DIR ON_FAILURE
    mkdir -p "$1"
    cat >"$1/pb.toml" <<TOML
[playbook]
name = "retry-delay"
[[step]]
id = "flaky"
action = "exec"
argv = ["sh", "-c", "echo try >> tries; [ -e ok ] || { touch ok; exit 1; }"]
retries = 2
retry_delay = "3s"
idempotent = true
on_failure = "$2"
[[step]]
id = "after"
action = "exec"
argv = ["sh", "-c", "echo after >> tries"]
TOML
}

# interrupt_in_delay DIR SIGNAL: runs the playbook and sends SIGNAL once attempt 1 has failed.
interrupt_in_delay() {
    local d=$1 sig=$2 pid rc=0
    (cd "$d" && exec "$RB" run -p pb.toml --yes </dev/null >run.out 2>&1) &
    pid=$!
    stop_on_exit "$pid"
    for _ in $(seq 1 100); do
        j=$(ls "$d"/.rollback/runs/*.jsonl 2>/dev/null | head -1) || true
        if [ -n "$j" ] && grep -q '"type":"step_finished"' "$j"; then break; fi
        sleep 0.05
    done
    grep -q '"type":"step_finished"' "$(journal_of "$d")" || fail "$d: attempt 1 never finished"
    kill "-$sig" "$pid"
    { wait "$pid"; } 2>/dev/null || rc=$?
    [ "$(cat "$d/tries")" = "try" ] || fail "$d: more than one attempt before the $sig: $(cat "$d/tries")"
}

for on_failure in continue abort; do
    for sig in KILL TERM; do
        dir=$WORK/$on_failure-$sig
        make_case "$dir" "$on_failure"
        interrupt_in_delay "$dir" "$sig"
        start=$(date +%s%N)
        expect_rc 0 "$dir/resume.out" -- "$RB" resume --state-dir "$dir/.rollback" --yes
        took_ms=$((($(date +%s%N) - start) / 1000000))
        got=$(tr '\n' ' ' <"$dir/tries")
        [ "$got" = "try try after " ] ||
            fail "$on_failure/$sig: resume did not make the owed retry: tries = '$got'; $(cat "$dir/resume.out")"
        grep -q 'succeeded' "$dir/resume.out" || fail "$on_failure/$sig: $(cat "$dir/resume.out")"
        # The rest of the 3 s delay was waited out (the signal came within ~0.5 s of attempt 1).
        [ "$took_ms" -ge 1500 ] || fail "$on_failure/$sig: resume did not wait out the retry delay (${took_ms} ms)"
        python3 - "$(journal_of "$dir")" <<'PY' || fail "$on_failure/$sig: journal"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
att = [r["attempt"] for r in recs if r.get("type") == "step_started" and r.get("step") == "flaky"]
assert att == [1, 2], att
fin = [r["status"] for r in recs if r.get("type") == "step_finished" and r.get("step") == "flaky"]
assert fin == ["failed", "succeeded"], fin
PY
    done
done
echo "PASS"
