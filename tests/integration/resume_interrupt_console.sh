#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 41/03: Ctrl-C or SIGHUP while `resume --mark-done/--retry` waited for what an
# interrupted attempt left running printed "interrupted by SIGHUP; running finally steps", but
# none ran (as docs/actions.md says: they wait for the next resume). The console now says what
# happens — nothing else done, finally steps not run, the run resumable — and the journal's
# run_interrupted says it was during that wait. ~5 s.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
cat > pb.toml <<TOML
[[step]]
id = "bg"
action = "exec"
timeout = "30s"
argv = ["sh", "-c", "(sleep 25) & sleep 40"]
[[finally]]
id = "maintenance-off"
action = "exec"
argv = ["sh", "-c", "echo fin-ran >> $WORK/fin.log"]
TOML

for how in "HUP --retry" "INT --mark-done"; do
    set -- $how
    sig=$1 word=$2
    rm -rf .rollback fin.log
    setsid "$RB" run -p pb.toml --yes > run.out 2>&1 < /dev/null &
    p=$!
    for _ in $(seq 1 100); do grep -q '"type":"step_process"' .rollback/runs/*.jsonl 2>/dev/null && break; sleep 0.05; done
    kill -9 $p; wait $p 2>/dev/null || true
    run=$(basename "$(ls .rollback/runs/*.jsonl)" .jsonl)
    setsid "$RB" resume "$run" $word bg --yes > res.out 2>&1 < /dev/null &
    p=$!
    for _ in $(seq 1 100); do grep -q "still running from the interrupted run" res.out && break; sleep 0.05; done
    grep -q "still running from the interrupted run" res.out || { cat res.out; fail "resume did not wait"; }
    kill -$sig $p
    rc=0; wait $p || rc=$?
    [ "$rc" = 130 ] || { cat res.out; fail "SIG$sig: exit $rc"; }
    contains res.out "interrupted by SIG$sig while waiting for what an interrupted attempt left running: nothing else was done, finally steps NOT run (they run when the run is resumed: rollback resume)"
    lacks res.out "running finally steps"
    contains res.out "resume:  rollback resume $run"
    [ ! -e fin.log ] || fail "SIG$sig: a finally step ran"
    contains ".rollback/runs/$run.jsonl" '"type":"run_interrupted","signal":"SIG'"$sig"'","during":"survivors"'
    expect_rc 0 report.out -- "$RB" report "$run"
    contains report.out "run interrupted by SIG$sig while waiting for what an interrupted attempt left running"
    # The next resume runs the step again and then the finally steps.
    expect_rc 0 res2.out -- "$RB" resume "$run" --mark-done bg --yes
    contains fin.log "fin-ran"
    pass "resume $word, SIG$sig during the survivors' wait: said as it is, finally steps left for the next resume"
done
