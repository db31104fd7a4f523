#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `rollback trigger` (a person's decision) and `rollback monitor` (--once, cooldown over several
# ticks, SIGHUP with a broken config, SIGTERM).
set -euo pipefail
: "${ROLLBACK:?path of the rollback binary}"
work=$(mktemp -d)
mon_pid=""
cleanup() {
    if [ -n "$mon_pid" ]; then kill "$mon_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$work"

cat > pb.toml <<'TOML'
[playbook]
name = "tiny"
[[step]]
id = "mark"
action = "exec"
argv = ["sh", "-c", "echo ran >> runs.txt"]
TOML
write_config() { # $1 = interval, $2 = cooldown
    cat > rollback.toml <<TOML
[target]
name = "t"
[source.corrupt]
kind = "command"
argv = ["sh", "-c", "cat value"]
[[condition]]
name = "corruption"
signal = "corrupt.value"
above = 5
severity = "critical"
[decision]
mode = "auto"
playbook = "pb.toml"
interval = "$1"
cooldown = "$2"
TOML
}
runs() { if [ -f runs.txt ]; then wc -l < runs.txt; else echo 0; fi; }

# --- trigger: a decision record, then the run, whose journal names the manual trigger ----------
write_config 1s 1h
echo 1 > value
rc=0; "$ROLLBACK" trigger -c rollback.toml --condition security --reason "CVE-2026-1 in v2" \
    --yes > trig.out 2>&1 || rc=$?
cat trig.out
[ "$rc" -eq 0 ] || fail "trigger exited $rc"
[ "$(runs)" -eq 1 ] || fail "trigger did not run the playbook once"
rec=$(ls .rollback/decisions/*.json)
grep -q '"action":"trigger"' "$rec" || fail "decision record is not a trigger"
grep -q '"cause":"security"' "$rec" || fail "decision record does not name the condition"
id=$(basename "$rec" .json)
started=$(grep -rh '"type":"run_started"' .rollback --include='*.jsonl' | head -1)
echo "$started" | grep -q '"kind":"manual"' || fail "run_started trigger is not manual: $started"
echo "$started" | grep -q '"condition":"security"' || fail "run_started lacks the condition"
echo "$started" | grep -q "\"decision_id\":\"$id\"" || fail "run_started lacks decision $id"
rc=0; "$ROLLBACK" trigger -c rollback.toml --reason "no condition" --yes >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "trigger without --condition exited $rc, expected 2"

# --- monitor --once: healthy → nothing; breaching → the playbook runs once ----------------------
rc=0; "$ROLLBACK" monitor -c rollback.toml --once > once.out 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat once.out; fail "healthy monitor --once exited $rc"; }
[ "$(runs)" -eq 1 ] || fail "a healthy tick ran the playbook"
echo 9 > value
# The next interval boundary: a tick at the boundary the healthy --once already judged holds
# (docs/decision.md "Warm-up": a sample is evidence once, at one boundary).
sleep 1.1
rc=0; "$ROLLBACK" monitor -c rollback.toml --once > once.out 2>&1 || rc=$?
cat once.out
[ "$rc" -eq 0 ] || fail "breaching monitor --once exited $rc"
[ "$(runs)" -eq 2 ] || fail "breaching monitor --once did not run the playbook"
grep -rh '"type":"run_started"' .rollback --include='*.jsonl' | grep -q '"kind":"monitor","condition":"corruption"' \
    || fail "the monitor's run does not name its trigger"
# A second --once right after the rollback is the same monitor (policy memory): the incident that
# acted is still open, so it neither rolls back again nor counts as a new incident.
rc=0; "$ROLLBACK" monitor -c rollback.toml --once > again.out 2>&1 || rc=$?
[ "$rc" -eq 0 ] && [ "$(runs)" -eq 2 ] || { cat again.out; fail "a second --once rolled back again"; }
grep -q "  none  corruption=firing" again.out || { cat again.out; fail "the open incident acted again"; }
# observe mode: the decision is recorded, nothing runs, exit 5 (a new incident: the last
# rollback's watch and cooldown forgotten).
rm .rollback/monitor-policy.json
sed -i 's/mode = "auto"/mode = "observe"/' rollback.toml
rc=0; "$ROLLBACK" monitor -c rollback.toml --once > once.out 2>&1 || rc=$?
[ "$rc" -eq 5 ] || { cat once.out; fail "observe-mode monitor --once exited $rc, expected 5"; }
[ "$(runs)" -eq 2 ] || fail "observe mode ran the playbook"

# --- the loop: an always-breaching source over several ticks → exactly one run (cooldown) -------
rm -f runs.txt .rollback/monitor-policy.json # a new incident, after the earlier ones
write_config 1s 1h
"$ROLLBACK" monitor -c rollback.toml > loop.out 2>&1 &
mon_pid=$!
for _ in $(seq 1 50); do [ "$(runs)" -ge 1 ] && break; sleep 0.2; done
[ "$(runs)" -eq 1 ] || { cat loop.out; fail "the monitor did not run the playbook"; }
# A flapping source: healthy, breaching, healthy, breaching… still one run within the cooldown.
for v in 1 9 1 9; do echo "$v" > value; sleep 1.2; done
[ "$(runs)" -eq 1 ] || { cat loop.out; fail "$(runs) runs within one cooldown"; }

# --- SIGHUP with a broken config: rejected, the old config keeps running ------------------------
cp rollback.toml good.toml
echo 'this is = = not toml' >> rollback.toml
kill -HUP "$mon_pid"
sleep 2.5
kill -0 "$mon_pid" 2>/dev/null || { cat loop.out; fail "the monitor died on SIGHUP"; }
grep -q "reload rejected" loop.out || { cat loop.out; fail "a broken config was not rejected"; }
grep -q '"event":"reload_rejected"' .rollback/monitor.jsonl || fail "rejection not recorded"
ticks_before=$(ls .rollback/decisions | wc -l)
cp good.toml rollback.toml
echo 1 > value
kill -HUP "$mon_pid"
sleep 2.5
grep -q "^reloaded" loop.out || { cat loop.out; fail "a good config was not reloaded"; }
[ "$(ls .rollback/decisions | wc -l)" -gt "$ticks_before" ] || fail "no decisions after reload"

# --- SIGTERM: a prompt, clean exit 0 -----------------------------------------------------------
start=$(date +%s%N)
kill -TERM "$mon_pid"
rc=0; wait "$mon_pid" || rc=$?
mon_pid=""
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" -eq 0 ] || { cat loop.out; fail "SIGTERM: exit $rc"; }
[ "$elapsed_ms" -lt 3000 ] || fail "SIGTERM took ${elapsed_ms} ms"
grep -q "monitor stopped" loop.out || fail "no clean stop"
[ "$(runs)" -eq 1 ] || fail "$(runs) runs in total, expected 1"
echo ok
