# Sourced after pg_shared.sh by the tests of monitors sharing a state that count effects:
# `playbook SCHEMA SLOW` writes $WORK/pb.SCHEMA.toml — steps one, slow (sleeps SLOW s), two and the
# finally step fin, none idempotent, each with a probe looking for its line in
# $WORK/effects.SCHEMA; `effects SCHEMA` prints "step:count " for each line there; `started
# SCHEMA STEP` succeeds once STEP's step_started is journaled; `two_monitors SCHEMA` starts
# monitors SCHEMA.a and SCHEMA.b (lease 3 s, fault file $WORK/fault.SCHEMA = 1) and waits for a
# leader; `leader_slot SCHEMA` prints the slot (SCHEMA.a or SCHEMA.b) of the one leading;
# `run_succeeded SCHEMA`: its last run_finished says succeeded.
playbook() {
    local e="$WORK/effects.$1"
    : >"$e"
    cat >"$WORK/pb.$1.toml" <<TOML
[playbook]
name = "pb-$1"
[[step]]
id = "one"
phase = "immediate"
action = "exec"
argv = ["sh", "-c", "echo one >> $e"]
probe = "grep -qx one $e"
[[step]]
id = "slow"
phase = "database"
action = "exec"
argv = ["sh", "-c", "sleep $2; echo slow >> $e"]
probe = "grep -qx slow $e"
timeout = "60s"
[[step]]
id = "two"
phase = "code"
action = "exec"
argv = ["sh", "-c", "echo two >> $e"]
probe = "grep -qx two $e"
[[finally]]
id = "fin"
action = "exec"
argv = ["sh", "-c", "echo fin >> $e"]
probe = "grep -qx fin $e"
TOML
}
effects() { sort "$WORK/effects.$1" | uniq -c | awk '{printf "%s:%s ", $2, $1}'; }
started() { [ "$(q "SELECT count(*) FROM $1.journal WHERE line::json->>'type' = 'step_started' AND line::json->>'step' = '$2'" 2>/dev/null)" -ge 1 ]; }
two_monitors() {
    echo 1 >"$WORK/fault.$1"
    local m
    for m in a b; do
        monitor_config "$WORK/$1.$m" "$1" 3s "$WORK/fault.$1" "$WORK/pb.$1.toml"
        start_monitor "$1.$m" "$WORK/$1.$m"
    done
    wait_for 20 has_leader "$1" || fail "nobody leads $1"
}
leader_slot() {
    local pid m
    pid=$(leader_pid "$1")
    for m in a b; do
        if [ "${PID_OF[$1.$m]}" = "$pid" ]; then echo "$1.$m"; fi
    done
}
# SCHEMA's last run_finished says succeeded (an interrupted run's comes before its resume's).
run_succeeded() { [ "$(finished_state "$1")" = succeeded ]; }
