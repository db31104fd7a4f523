#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One state, one lock (DESIGN.md trust invariant 3): a person's `run -p` (from another directory,
# without -c), `monitor --once` on a config whose condition fires, and `trigger` start the same
# target at once: exactly one runs, the others exit 4 naming the holder (pid, host, user). Then
# status, history, report, explain, resume and audit — with -c, without, from elsewhere — all
# find that run by the one rule (docs/config.md "The state directory").
set -euo pipefail
: "${ROLLBACK:?path of the rollback binary}"
work=$(mktemp -d)
pids=()
cleanup() {
    touch "$work/go" 2>/dev/null || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset ROLLBACK_STATE_DIR
cd "$work"
mkdir -p playbooks elsewhere

# The step records who ran it, then holds the lock until the test says go (at most 60 s).
cat > playbooks/pb.toml <<TOML
[playbook]
name = "hold"
[[step]]
id = "hold"
action = "exec"
timeout = "90s"
argv = ["sh", "-c", "echo ran >> $work/ran.txt; i=0; while [ ! -e $work/go ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i+1)); done"]
TOML
cat > rollback.toml <<'TOML'
[target]
name = "shop"
[source.corrupt]
kind = "command"
argv = ["sh", "-c", "echo 9"]
[[condition]]
name = "corruption"
signal = "corrupt.value"
above = 5
severity = "critical"
[decision]
mode = "auto"
playbook = "playbooks/pb.toml"
interval = "1s"
cooldown = "1h"
TOML

# --- three starters at once ---------------------------------------------------------------------
(cd elsewhere && exec "$ROLLBACK" run -p ../playbooks/pb.toml --yes --reason "a person's run") \
    > person.out 2>&1 &
person=$!
"$ROLLBACK" monitor -c rollback.toml --once > monitor.out 2>&1 &
monitor=$!
"$ROLLBACK" trigger --condition security --reason "CVE-2026-7 in v2" --yes > trigger.out 2>&1 &
trigger=$!
pids=("$person" "$monitor" "$trigger")
declare -A name=(["$person"]=person ["$monitor"]=monitor ["$trigger"]=trigger)

# Two of them must give up while the third holds the lock (bounded: 30 s).
declare -A rc=()
for _ in $(seq 1 300); do
    for p in "${pids[@]}"; do
        if [ -z "${rc[$p]:-}" ] && ! kill -0 "$p" 2>/dev/null; then
            r=0; wait "$p" || r=$?; rc[$p]=$r
        fi
    done
    [ "${#rc[@]}" -ge 2 ] && break
    sleep 0.1
done
[ "${#rc[@]}" -eq 2 ] || { cat person.out monitor.out trigger.out; fail "${#rc[@]} starters ended while one should hold the lock"; }
winner=""
for p in "${pids[@]}"; do [ -n "${rc[$p]:-}" ] || winner=$p; done
# The losers may give up before the winner's step has written its line: wait for it (bounded).
for _ in $(seq 1 100); do [ -s ran.txt ] && break; sleep 0.1; done
[ "$(wc -l < ran.txt)" -eq 1 ] || fail "the playbook ran $(wc -l < ran.txt) times, expected once"
host=$(hostname)
for p in "${pids[@]}"; do
    [ "$p" = "$winner" ] && continue
    out="${name[$p]}.out"
    [ "${rc[$p]}" -eq 4 ] || { cat "$out"; fail "${name[$p]} exited ${rc[$p]}, expected 4"; }
    grep -q "another run holds the lock of $work/.rollback: run .* (pid $winner on $host, started .* by " "$out" \
        || { cat "$out"; fail "${name[$p]} does not name the holder (pid $winner on $host, by whom)"; }
done
touch go
r=0; wait "$winner" || r=$?
pids=()
[ "$r" -eq 0 ] || { cat "${name[$winner]}.out"; fail "the winner (${name[$winner]}) exited $r"; }
[ "$(wc -l < ran.txt)" -eq 1 ] || fail "the playbook ran $(wc -l < ran.txt) times in all, expected once"
echo "winner: ${name[$winner]}; the others exited 4 naming pid $winner"

# --- one state: every command sees the run ------------------------------------------------------
[ "$(ls .rollback/runs/*.jsonl | wc -l)" -eq 1 ] || fail "expected one journal in .rollback/runs"
[ ! -e playbooks/.rollback ] || fail "a second state directory appeared beside the playbook"
id=$(basename "$(ls .rollback/runs/*.jsonl)" .jsonl)
check() { # DESCRIPTION EXPECTED-RC PATTERN COMMAND...
    local what=$1 want=$2 pattern=$3; shift 3
    local got=0
    "$@" > cmd.out 2>&1 || got=$?
    [ "$got" -eq "$want" ] || { cat cmd.out; fail "$what: exit $got, expected $want"; }
    grep -q -- "$pattern" cmd.out || { cat cmd.out; fail "$what: no \"$pattern\""; }
}
check "status" 0 "run $id: succeeded" "$ROLLBACK" status
check "status -c" 0 "run $id: succeeded" "$ROLLBACK" status -c rollback.toml
check "status -p from elsewhere" 0 "run $id: succeeded" \
    sh -c "cd elsewhere && exec '$ROLLBACK' status -p ../playbooks/pb.toml"
check "status -c from elsewhere" 0 "run $id: succeeded" \
    sh -c "cd elsewhere && exec '$ROLLBACK' status -c ../rollback.toml"
check "history" 0 "$id" "$ROLLBACK" history
check "history -c" 0 "$id" "$ROLLBACK" history -c rollback.toml
check "report" 0 "run finished: succeeded" "$ROLLBACK" report "$id"
check "report -c from elsewhere" 0 "run finished: succeeded" \
    sh -c "cd elsewhere && exec '$ROLLBACK' report '$id' -c ../rollback.toml"
check "audit" 0 "journal $id: intact" "$ROLLBACK" audit verify "$id"
check "resume" 2 "run $id already succeeded" "$ROLLBACK" resume "$id" --yes
check "resume -c" 2 "run $id already succeeded" "$ROLLBACK" resume "$id" -c rollback.toml --yes
if [ "${name[$winner]}" = person ]; then
    explained="Run $id names no decision record: it was started by"
else
    explained="Run $id was caused by decision"
fi
check "explain" 0 "$explained" "$ROLLBACK" explain "$id"
check "explain -c" 0 "$explained" "$ROLLBACK" explain "$id" -c rollback.toml
# explain of a run needs no rollback.toml: the state directory alone is enough.
check "explain without a config" 0 "$explained" \
    env ROLLBACK_STATE_DIR="$work/.rollback" sh -c "cd / && exec '$ROLLBACK' explain '$id'"
check "status by ROLLBACK_STATE_DIR" 0 "run $id: succeeded" \
    env ROLLBACK_STATE_DIR="$work/.rollback" sh -c "cd / && exec '$ROLLBACK' status"
echo ok
