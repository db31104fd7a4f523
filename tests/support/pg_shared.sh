# Sourced by the tests of a state shared in PostgreSQL (after itest.sh): a throwaway PostgreSQL 15
# cluster in a fresh directory (PG_PORT names its socket; set it before sourcing), destroyed at
# exit; `q SQL` runs one statement as the superuser; DSN names the store as the scram user with
# CREATE on the database. Skips the test (exit 125) without PostgreSQL 15.
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/initdb" ] || { echo "PostgreSQL 15 (initdb) missing: skipped"; exit 125; }
PG_BASE=$(mktemp -d /tmp/rbsh.XXXXXX)
export PG_BASE PG_PORT
on_exit 'bash "$SRC/tests/support/pg_throwaway.sh" destroy'
bash "$SRC/tests/support/pg_throwaway.sh" start
q() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE" -p "$PG_PORT" -U rollback -d postgres -tAc "$1"; }
q "GRANT CREATE ON DATABASE postgres TO rb_scram"
DSN="postgresql://rb_scram:rb-scram-pw@/postgres?host=$PG_BASE&port=$PG_PORT"
now_ms() { date +%s%3N; }
# The pid of the monitor holding the leader lease of SCHEMA now, "0" when nobody holds it (no
# row, an expired lease, or the server unreachable): never empty, so a test cannot take "no row"
# for a leader.
leader_pid() {
    local pid
    pid=$(q "SELECT holder::json->>'pid' FROM $1.lease WHERE name = 'leader' AND held AND expires_at > clock_timestamp()" 2>/dev/null) || pid=
    echo "${pid:-0}"
}
has_leader() { [ "$(leader_pid "$1")" != 0 ]; }
# monitor_config DIR SCHEMA LEASE FAULT_FILE PLAYBOOK [EXTRA]: DIR/rollback.toml of one monitor
# sharing SCHEMA (its own local state_dir): a command source running `$FAULT_READER FAULT_FILE`
# (FAULT_READER: `cat` unless the test names another program) each second, condition
# "corruption" above 5 (critical), mode auto with PLAYBOOK, interval 1s, cooldown 1h; EXTRA (TOML)
# appended.
monitor_config() {
    mkdir -p "$1"
    cat >"$1/rollback.toml" <<TOML
[target]
name = "shop"
state_dir = "$1/local"
[state]
dsn = "$DSN"
schema = "$2"
lease = "$3"
[source.fault]
kind = "command"
argv = ["${FAULT_READER:-cat}", "$4"]
interval = "1s"
[[condition]]
name = "corruption"
signal = "fault.value"
above = 5
severity = "critical"
[decision]
mode = "auto"
playbook = "$5"
interval = "1s"
cooldown = "1h"
${6:-}
TOML
}
# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds; fails after SECONDS.
wait_for() {
    local until=$(($(now_ms) + $1 * 1000)); shift
    until "$@"; do
        [ "$(now_ms)" -lt "$until" ] || return 1
        sleep 0.1
    done
}
# The state of SCHEMA's last finished run ("" while none finished).
finished_state() { q "SELECT line::json->>'state' FROM $1.journal WHERE line::json->>'type' = 'run_finished' ORDER BY seq DESC LIMIT 1" 2>/dev/null; }
run_done() { [ -n "$(finished_state "$1")" ]; }
# start_monitor SLOT DIR: `rollback monitor -c DIR/rollback.toml` in the background, its output in
# DIR/out, its pid in PID_OF[SLOT]; stopped at exit, so a failing test leaves no monitor behind.
declare -A PID_OF
start_monitor() {
    "$RB" monitor -c "$2/rollback.toml" </dev/null >"$2/out" 2>&1 &
    PID_OF[$1]=$!
    stop_on_exit "${PID_OF[$1]}"
}

# The tests of monitors sharing a state that count effects:
# `playbook SCHEMA [SLOW]` writes $WORK/pb.SCHEMA.toml — steps one, slow (sleeps SLOW s; no such
# step without SLOW), two and the finally step fin, none idempotent, each with a probe looking for
# its line in $WORK/effects.SCHEMA (emptied); `effects SCHEMA` prints "step:count " for each line
# there; `effects_once SCHEMA` fails the test unless each step of the playbook left its line once;
# `started SCHEMA STEP` succeeds once STEP's step_started is journaled.
playbook() {
    local e="$WORK/effects.$1" slow=
    : >"$e"
    if [ -n "${2:-}" ]; then
        slow="[[step]]
id = \"slow\"
phase = \"database\"
action = \"exec\"
argv = [\"sh\", \"-c\", \"sleep $2; echo slow >> $e\"]
probe = \"grep -qx slow $e\"
timeout = \"60s\""
    fi
    cat >"$WORK/pb.$1.toml" <<TOML
[playbook]
name = "pb-$1"
[[step]]
id = "one"
phase = "immediate"
action = "exec"
argv = ["sh", "-c", "echo one >> $e"]
probe = "grep -qx one $e"
$slow
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
effects_once() {
    local want
    want=$(sed -n 's/^id = "\(.*\)"$/\1/p' "$WORK/pb.$1.toml" | sort | awk '{printf "%s:1 ", $1}')
    [ "$(effects "$1")" = "$want" ] || fail "$1: effects $(effects "$1"), not $want (each step once)"
}
started() { [ "$(q "SELECT count(*) FROM $1.journal WHERE line::json->>'type' = 'step_started' AND line::json->>'step' = '$2'" 2>/dev/null)" -ge 1 ]; }
# two_monitors SCHEMA [LEASE]: starts monitors in slots SCHEMA.a and SCHEMA.b (dirs $WORK/SCHEMA.a
# and $WORK/SCHEMA.b; lease LEASE, 3s by default; fault file $WORK/fault.SCHEMA = 1, playbook
# $WORK/pb.SCHEMA.toml) and waits for a leader. `slot_of SCHEMA PID` prints the slot of PID,
# `leader_slot SCHEMA` the slot of the one leading ("" for none); `stop_monitors SCHEMA [KILLED]`:
# both monitors but the one of pid KILLED (one the test killed) are running; continued if paused,
# they end on SIGTERM with exit 0; the slots are emptied (their pids may be reused).
two_monitors() {
    echo 1 >"$WORK/fault.$1"
    local m
    for m in a b; do
        monitor_config "$WORK/$1.$m" "$1" "${2:-3s}" "$WORK/fault.$1" "$WORK/pb.$1.toml"
        start_monitor "$1.$m" "$WORK/$1.$m"
    done
    wait_for 20 has_leader "$1" || fail "nobody leads $1"
}
slot_of() {
    local m
    for m in a b; do
        if [ "${PID_OF[$1.$m]:-}" = "$2" ]; then echo "$1.$m"; fi
    done
}
leader_slot() { slot_of "$1" "$(leader_pid "$1")"; }
stop_monitors() {
    local m rc alive=()
    for m in "$1.a" "$1.b"; do
        [ "${PID_OF[$m]}" != "${2:-}" ] || continue
        kill -CONT "${PID_OF[$m]}" 2>/dev/null || true
        kill -TERM "${PID_OF[$m]}" 2>/dev/null || fail "monitor $m ended before it was stopped"
        alive+=("$m")
    done
    for m in "${alive[@]}"; do
        rc=0
        wait "${PID_OF[$m]}" || rc=$?
        [ "$rc" = 0 ] || fail "monitor $m exited $rc on SIGTERM"
    done
    unset "PID_OF[$1.a]" "PID_OF[$1.b]"
}
# SCHEMA's last run_finished says succeeded (an interrupted run's comes before its resume's).
run_succeeded() { [ "$(finished_state "$1")" = succeeded ]; }
