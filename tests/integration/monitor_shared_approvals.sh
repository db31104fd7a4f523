#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two `rollback monitor`s in mode "confirm" sharing one state in PostgreSQL (real PostgreSQL 15,
# real processes; docs/config.md "Leadership", approval requests). The leader files an approval
# request and tells the [decision] hook `notify`, which records which monitor called it
# ($ROLLBACK_STATE_DIR) and the event. Break-it 05: the leader is killed -9 while its hook runs;
# the follower, leading, withdraws the request when the incident is over (`rollback approve`
# refuses it) and otherwise adopts it and tells the hook itself. Break-it 02: the leader is
# paused (SIGSTOP) right after its request committed, before any hook ran; the follower, leading,
# tells the hook once; the old leader, continued, tells nobody. ~45 s.
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54346
source "$(dirname "$0")/../support/pg_shared.sh"

# approvals SCHEMA: the playbook (one step) and the hook of SCHEMA in $WORK/SCHEMA/; the hook
# appends "<the calling monitor's state dir> <decision_id>" to $WORK/SCHEMA/told and, while
# $WORK/SCHEMA/slow exists, removes it and sleeps 20 s (its pid in $WORK/SCHEMA/hook.pid).
approvals() {
    local d="$WORK/$1"
    mkdir -p "$d/hooks"
    cat >"$d/pb.toml" <<TOML
[playbook]
name = "pb-$1"
hooks_dir = "hooks"
[[step]]
id = "one"
phase = "immediate"
action = "exec"
argv = ["sh", "-c", "echo one >> $d/effects"]
TOML
    cat >"$d/hooks/notify" <<HOOK
#!/bin/sh
id=\$(sed -n 's/.*"decision_id":"\\([^"]*\\)".*/\\1/p')
echo "\$ROLLBACK_STATE_DIR \$id" >> "$d/told"
if [ -e "$d/slow" ]; then
    rm -f "$d/slow"
    echo \$\$ > "$d/hook.pid"
    exec sleep 20
fi
HOOK
    chmod +x "$d/hooks/notify"
    : >"$d/told"
}
# confirm_monitors SCHEMA: monitors SCHEMA.a and SCHEMA.b (lease 3s, interval 1s, mode confirm,
# the hook notify), fault file $WORK/fault.SCHEMA = 1; waits for a leader.
confirm_monitors() {
    echo 1 >"$WORK/fault.$1"
    local m
    for m in a b; do
        monitor_config "$WORK/$1.$m" "$1" 3s "$WORK/fault.$1" "$WORK/$1/pb.toml"
        sed -i 's/^mode = "auto"$/mode = "confirm"\nhooks = ["notify"]\napproval_timeout = "10m"/' \
            "$WORK/$1.$m/rollback.toml"
        start_monitor "$1.$m" "$WORK/$1.$m"
    done
    wait_for 20 has_leader "$1" || fail "nobody leads $1"
}
request_field() { q "SELECT doc::json->>'$2' FROM $1.approvals ORDER BY decision_id LIMIT 1" 2>/dev/null; }
requests() { q "SELECT count(*) FROM $1.approvals"; }
filed() { [ "$(requests "$1")" -ge 1 ] 2>/dev/null; }
told_lines() { wc -l <"$WORK/$1/told"; }
hook_running() { [ "$(told_lines "$1")" -ge 1 ] && [ -s "$WORK/$1/hook.pid" ]; }
state_is() { [ "$(request_field "$1" state)" = "$2" ]; }
announced() { [ "$(request_field "$1" announced)" = true ]; }
kill_hook() { kill -9 "$(cat "$WORK/$1/hook.pid")" 2>/dev/null || true; }

# --- 05: the leader killed in its hook, the incident over when the follower leads -------------
approvals over
confirm_monitors over
dead=$(leader_pid over)
touch "$WORK/over/slow"
echo 9 >"$WORK/fault.over"
wait_for 20 hook_running over || fail "the leader did not call its hook"
id=$(request_field over decision_id)
[ "$(request_field over announced)" = false ] || fail "a request whose hook runs reads as announced"
echo 1 >"$WORK/fault.over"
kill -KILL "$dead"
kill_hook over
wait_for 20 state_is over withdrawn || fail "the request of an ended incident stayed $(request_field over state) after its leader died"
reason=$(request_field over withdrawn_reason)
case "$reason" in
*"is not open at the evaluation of the monitor that leads now"*"the evidence it asked about is stale") ;;
*) fail "withdrawn for: $reason" ;;
esac
[ "$(told_lines over)" = 1 ] || fail "a stale request was told again: $(cat "$WORK/over/told")"
live=$(leader_slot over)
[ -n "$live" ] || fail "nobody leads over after the kill"
contains "$WORK/$live/out" "approval request $id withdrawn: "
expect_rc 2 "$WORK/approve.out" -- "$RB" approve "$id" --yes -c "$WORK/$live/rollback.toml"
contains "$WORK/approve.out" "withdrawn"
[ ! -e "$WORK/over/effects" ] || fail "a withdrawn request started a run"
stop_monitors over "$dead"
pass "05: the leader killed in its hooks; the next leader withdrew the request of the ended incident and approve refuses it"

# --- 05: the leader killed in its hook, the incident still open ----------------------------------
approvals open
confirm_monitors open
dead=$(leader_pid open)
touch "$WORK/open/slow"
echo 9 >"$WORK/fault.open"
wait_for 20 hook_running open || fail "the leader did not call its hook (open)"
id=$(request_field open decision_id)
kill -KILL "$dead"
kill_hook open
wait_for 20 announced open || fail "the request of the open incident was never told after its leader died"
[ "$(told_lines open)" = 2 ] || fail "told $(told_lines open) times: $(cat "$WORK/open/told")"
live=$(leader_slot open)
[ -n "$live" ] || fail "nobody leads open after the kill"
[ "$(tail -n 1 "$WORK/open/told")" = "$WORK/$live/local $id" ] || fail "not told by the new leader: $(cat "$WORK/open/told")"
sleep 2 # a second request, or a second telling, would come within a tick
[ "$(requests open)" = 1 ] || fail "a second request for one incident"
[ "$(told_lines open)" = 2 ] || fail "told again: $(cat "$WORK/open/told")"
state_is open pending || fail "the adopted request is $(request_field open state)"
contains "$WORK/$live/out" "approval request $id of condition \"corruption\", filed by"
contains "$WORK/$live/out" "taken over: its incident is open here too; rollback approve $id"
lacks "$WORK/$live/out" "no approval request filed"
stop_monitors open "$dead"
pass "05: the leader killed in its hooks; the next leader adopted the open incident's request and told it"

# --- 02: the leader paused after its request committed, before its hooks -----------------------
approvals paused
confirm_monitors paused
# The request's commit takes 2 s (a deferred trigger): the leader is stopped in it, so the
# request commits while its process is paused and no hook has run.
q "CREATE FUNCTION paused.slow_commit() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_sleep(2); RETURN NULL; END \$\$"
q "CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON paused.approvals DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION paused.slow_commit()"
old=$(leader_pid paused)
committing() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query = 'COMMIT'")" -ge 1 ]; }
echo 9 >"$WORK/fault.paused"
wait_for 20 committing || fail "the leader did not file a request"
kill -STOP "$old"
wait_for 20 announced paused || { kill -CONT "$old"; fail "the request of the paused leader was never told"; }
id=$(request_field paused decision_id)
kill -CONT "$old"
sleep 3 # the old leader goes on from its commit: fenced before the hook
[ "$(told_lines paused)" = 1 ] || fail "told $(told_lines paused) times: $(cat "$WORK/paused/told")"
o=$(slot_of paused "$old")
new=$(leader_slot paused)
[ -n "$new" ] && [ "$new" != "$o" ] || fail "the paused monitor leads again"
[ "$(cat "$WORK/paused/told")" = "$WORK/$new/local $id" ] || fail "not told by the new leader: $(cat "$WORK/paused/told")"
kill -0 "$old" || fail "the paused leader exited; it should follow"
contains "$WORK/$o/out" "the [decision] hooks notify were not called for $id: this monitor no longer leads"
contains "$WORK/$new/out" "taken over: its incident is open here too; rollback approve $id"
[ "$(requests paused)" = 1 ] || fail "a second request for one incident (paused)"
stop_monitors paused
pass "02: a request filed by a leader paused before its hooks was told once, by the next leader"
