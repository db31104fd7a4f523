#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A restarted or reloaded monitor is the same monitor (issue 10, "at most once per incident"):
# the cooldown, the recurrence watch, the open incidents (acted or paged, until resolved) and
# the escalation cooldown survive SIGTERM + restart,
# kill -9 + restart (systemd's Restart=on-failure) and SIGHUP; the previous release's baseline
# survives kill -9. Found by a break-it review: each case started a second rollback for one
# incident, or missed a bad release.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
cat > pb.toml <<'TOML'
[playbook]
name = "pb"
[[step]]
id = "s1"
phase = "code"
action = "exec"
argv = ["sh", "-c", "echo run >> runs.txt"]
TOML
write_config() { # cooldown watch_after
    cat > rollback.toml <<TOML
[target]
name = "t"
[source.s]
kind = "command"
argv = ["cat", "value"]
[[condition]]
name = "v"
signal = "s.value"
window = "5s"
above = 5.0
consecutive = 2
[decision]
mode = "auto"
playbook = "pb.toml"
interval = "1s"
cooldown = "$1"
watch_after = "$2"
TOML
}
runs() { [ -f runs.txt ] && wc -l < runs.txt || echo 0; }
mon_pid=""
start_monitor() { "$RB" monitor -c rollback.toml >> "monitor.out" 2>&1 & mon_pid=$!; }
on_exit 'kill $mon_pid 2>/dev/null || true'
wait_runs() { # n
    for _ in $(seq 100); do [ "$(runs)" -ge "$1" ] && return 0; sleep 0.1; done
    fail "expected $1 runs, have $(runs): $(cat monitor.out)"
}

# --- restart after SIGTERM, and after kill -9: still one run for the incident --------------------
for stop in TERM KILL; do
    rm -rf .rollback runs.txt monitor.out
    write_config 1h 30m
    echo 9 > value
    start_monitor
    wait_runs 1
    sleep 1
    kill -"$stop" "$mon_pid"; wait "$mon_pid" 2>/dev/null || true
    [ -f .rollback/monitor-policy.json ] || fail "no policy memory after SIG$stop"
    start_monitor
    sleep 4 # four ticks: enough for consecutive = 2 to fire again
    kill -TERM "$mon_pid"; wait "$mon_pid" 2>/dev/null || true
    [ "$(runs)" -eq 1 ] || fail "SIG$stop + restart: $(runs) runs for one incident: $(cat monitor.out)"
    grep -q '"acted":true' .rollback/monitor-policy.json ||
        fail "SIG$stop: the open incident is not in the policy memory: $(cat .rollback/monitor-policy.json)"
    pass "SIG$stop then restart: the open incident holds, one run for it"
done

# --- the incident outlives the cooldown and the watch (break-it issue 10, finding 03) -------------
# cooldown 5s, watch_after 5s, the value never recovers: one long-lived monitor acts once; so
# does one stopped after 10 s and started again, one killed -9, and one reloaded at 12 s.
for how in TERM KILL HUP; do
    rm -rf .rollback runs.txt monitor.out
    write_config 5s 5s
    echo 9 > value
    start_monitor
    wait_runs 1
    sleep 9
    if [ "$how" = HUP ]; then
        kill -HUP "$mon_pid"
        for _ in $(seq 50); do grep -q "reloaded" monitor.out && break; sleep 0.1; done
        grep -q "reloaded" monitor.out || fail "no reload: $(cat monitor.out)"
    else
        kill -"$how" "$mon_pid"; wait "$mon_pid" 2>/dev/null || true
        start_monitor
    fi
    sleep 5 # past the cooldown and the watch: a fresh incident would trigger
    kill -TERM "$mon_pid"; wait "$mon_pid" 2>/dev/null || true
    [ "$(runs)" -eq 1 ] || fail "SIG$how after cooldown and watch: $(runs) runs for one incident: $(cat monitor.out)"
    pass "SIG$how: one unresolved incident, one run, past its cooldown and watch"
done

# --- escalation: at most once per cooldown across reloads and restarts (finding 06) -------------
escalations() { grep -l '"action":"escalate"' .rollback/decisions/*.json 2>/dev/null | wc -l; }
for how in HUP TERM KILL; do
    rm -rf .rollback runs.txt monitor.out
    write_config 1h 30m
    sed -i 's/argv = \["cat", "value"\]/argv = ["false"]/' rollback.toml
    start_monitor
    for _ in $(seq 50); do [ "$(escalations)" -ge 1 ] && break; sleep 0.1; done
    [ "$(escalations)" -eq 1 ] || fail "SIG$how: the failing check was not paged: $(cat monitor.out)"
    sleep 1
    if [ "$how" = HUP ]; then
        kill -HUP "$mon_pid"
        for _ in $(seq 50); do grep -q "reloaded" monitor.out && break; sleep 0.1; done
        grep -q "reloaded" monitor.out || fail "no reload: $(cat monitor.out)"
    else
        kill -"$how" "$mon_pid"; wait "$mon_pid" 2>/dev/null || true
        start_monitor
    fi
    sleep 3
    kill -TERM "$mon_pid"; wait "$mon_pid" 2>/dev/null || true
    [ "$(escalations)" -eq 1 ] || fail "SIG$how: $(escalations) pages for one failing check within the cooldown: $(cat monitor.out)"
    pass "SIG$how: the failing check is paged once per cooldown"
done

# --- mode confirm: an approval request that expires unanswered pages once (finding 10) ----------
rm -rf .rollback runs.txt monitor.out
write_config 3s 5s
sed -i 's/mode = "auto"/mode = "confirm"\napproval_timeout = "2s"/' rollback.toml
echo 9 > value
start_monitor
sleep 5
kill -TERM "$mon_pid"; wait "$mon_pid" 2>/dev/null || true # a restart keeps what was paged
start_monitor
sleep 3
kill -TERM "$mon_pid"; wait "$mon_pid" 2>/dev/null || true
[ "$(grep -l '"action":"request_approval"' .rollback/decisions/*.json | wc -l)" -eq 1 ] ||
    fail "expected one approval request: $(cat monitor.out)"
[ "$(escalations)" -eq 1 ] || fail "the expired request was paged $(escalations) times: $(cat monitor.out)"
grep -l '"action":"escalate"' .rollback/decisions/*.json | xargs grep -q 'expired at .* unanswered' ||
    fail "the page does not name the expired request"
[ "$(runs)" -eq 0 ] || fail "an expired request ran the playbook"
pass "confirm: the expired approval request is paged once, with its expiry in the record"

# --- SIGHUP between a rollback and a recurrence: the recurrence is reported, not triggered --------
rm -rf .rollback runs.txt monitor.out
write_config 2s 1h
echo 9 > value
start_monitor
wait_runs 1
echo 1 > value
sleep 3
kill -HUP "$mon_pid"
for _ in $(seq 50); do grep -q "reloaded" monitor.out && break; sleep 0.1; done
echo 9 > value
sleep 4
kill -TERM "$mon_pid"; wait "$mon_pid" 2>/dev/null || true
[ "$(runs)" -eq 1 ] || fail "a reload turned a recurrence into a second run: $(cat monitor.out)"
grep -lq '"action":"notify"' .rollback/decisions/*.json || fail "the recurrence was not reported"
pass "SIGHUP: the recurrence watch holds across a reload (notify, no second run)"

# --- kill -9 keeps the previous release's baseline ----------------------------------------------
rm -rf .rollback runs.txt monitor.out
cat > rollback.toml <<'TOML'
[target]
name = "t"
[source.s]
kind = "command"
argv = ["cat", "value"]
[[condition]]
name = "v"
signal = "s.value"
window = "5s"
above_baseline = 2.0
baseline = "previous_release"
above = 15 # a floor under which v1's 10 is healthy (summarized as v1's baseline)
[decision]
mode = "observe"
interval = "1s"
TOML
echo 10 > value
"$RB" deployed -c rollback.toml --release v1 > /dev/null
start_monitor
sleep 4
"$RB" deployed -c rollback.toml --release v2 > /dev/null
sleep 3 # the marker is fed, the tick after it saves the book
kill -KILL "$mon_pid"; wait "$mon_pid" 2>/dev/null || true
echo 30 > value
: > monitor.out
start_monitor
sleep 4
kill -TERM "$mon_pid"; wait "$mon_pid" 2>/dev/null || true
grep -q "trigger" monitor.out || fail "after kill -9 nothing triggered: $(cat monitor.out)"
grep -q "30>20" monitor.out || fail "after kill -9 the previous release's baseline was lost: $(cat monitor.out)"
pass "kill -9: the previous release's baseline survives (30 > 2 x 10 is judged)"
