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
# sharing SCHEMA (its own local state_dir): a command source reading FAULT_FILE each second,
# condition "corruption" above 5 (critical), mode auto with PLAYBOOK, interval 1s, cooldown 1h;
# EXTRA (TOML) appended.
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
argv = ["cat", "$4"]
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
