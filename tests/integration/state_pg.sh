#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The shared state in PostgreSQL (real PostgreSQL 15, the real binary; docs/config.md "Shared
# state in PostgreSQL"): `state init` creates the schema once; a run whose rollback.toml names
# the shared state journals into it (nothing in the local directory but the log), `history`,
# `status` and `audit verify` read it there; `state export` writes the same JSON Lines file,
# `state import` verifies one first and keeps it as it is; a person's second run gets exit 4
# naming the holder; the DSN's password never appears. Fencing: the holder is paused
# (SIGSTOP) past its lease, `resume` on another process takes the run over and finishes it; the
# old holder, continued, starts no further step and stops with exit 7 saying why. The server
# restarted mid-run: the run waits for it and goes on, nothing lost or written twice. A monitor
# alone on the shared state leads.
source "$(dirname "$0")/../support/itest.sh"
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/initdb" ] || { echo "PostgreSQL 15 (initdb) missing: skipped"; exit 125; }

export PG_BASE=$(mktemp -d /tmp/rbst.XXXXXX) PG_PORT=54341
on_exit 'bash "$SRC/tests/support/pg_throwaway.sh" destroy'
bash "$SRC/tests/support/pg_throwaway.sh" start
q() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE" -p "$PG_PORT" -U rollback -d postgres -tAc "$1"; }
q "GRANT CREATE ON DATABASE postgres TO rb_scram"
# The role with a password: the DSN's password is a secret from the moment the config loads.
DSN="postgresql://rb_scram:rb-scram-pw@/postgres?host=$PG_BASE&port=$PG_PORT"

site=$WORK/site
mkdir -p "$site/playbooks"
cat >"$site/rollback.toml" <<TOML
[target]
name = "shop"
[state]
dsn = "$DSN"
schema = "shop_state"
lease = "3s"
[source.q]
kind = "command"
argv = ["echo", "1"]
[[condition]]
name = "q-high"
signal = "q.value"
above = 5
TOML
cat >"$site/playbooks/pb.toml" <<TOML
[playbook]
name = "shared"
[[step]]
id = "one"
phase = "immediate"
action = "exec"
argv = ["sh", "-c", "echo one >> $WORK/effects"]
[[step]]
id = "pause"
phase = "code"
action = "exec"
argv = ["sh", "-c", "echo pause >> $WORK/effects; sleep \${PAUSE:-0}"]
idempotent = true
timeout = "60s"
[[step]]
id = "two"
phase = "verify"
action = "exec"
argv = ["sh", "-c", "echo two >> $WORK/effects"]
TOML
cd "$site"

expect_rc 0 "$WORK/init.out" -- "$RB" state init
contains "$WORK/init.out" "schema created (version 2)"
contains "$WORK/init.out" "rb_scram:***@"
lacks "$WORK/init.out" "rb-scram-pw"
expect_rc 0 "$WORK/init2.out" -- "$RB" state init
contains "$WORK/init2.out" "schema version 2, nothing to do"
[ "$(q "SELECT max(version) FROM shop_state.schema_version")" = 2 ] || fail "schema version"
pass "state init creates the schema once"

expect_rc 0 "$WORK/run.out" -- "$RB" run -p playbooks/pb.toml --yes --reason "shared state"
id=$(q "SELECT run_id FROM shop_state.journal WHERE seq = 0")
[ -n "$id" ] || fail "no run in the shared journal"
! ls "$site"/.rollback/runs/*.jsonl >/dev/null 2>&1 || fail "a journal file was written locally"
[ "$(q "SELECT count(DISTINCT generation) FROM shop_state.journal WHERE run_id = '$id'")" = 1 ] ||
    fail "one run, one lease generation"
expect_rc 0 "$WORK/history.out" -- "$RB" history
contains "$WORK/history.out" "$id"
expect_rc 0 "$WORK/status.out" -- "$RB" status "$id"
contains "$WORK/status.out" "succeeded"
expect_rc 0 "$WORK/audit.out" -- "$RB" audit verify "$id"
contains "$WORK/audit.out" "journal $id: intact"
pass "a run journals into PostgreSQL; history, status and audit verify read it there"

expect_rc 0 "$WORK/export.out" -- "$RB" state export "$id" -o "$WORK/run.jsonl"
q "SELECT line FROM shop_state.journal WHERE run_id = '$id' ORDER BY seq" >"$WORK/table.jsonl"
cmp -s "$WORK/run.jsonl" "$WORK/table.jsonl" || fail "the export is not the table's lines"
expect_rc 0 "$WORK/import.out" -- "$RB" state import "$WORK/run.jsonl" --state-dir "$WORK/local"
contains "$WORK/import.out" "run $id:"
cmp -s "$WORK/run.jsonl" "$WORK/local/runs/$id.jsonl" || fail "the import changed the bytes"
expect_rc 0 "$WORK/audit2.out" -- "$RB" audit verify "$id" --state-dir "$WORK/local"
expect_rc 2 "$WORK/import2.out" -- "$RB" state import "$WORK/run.jsonl" --state-dir "$WORK/local"
contains "$WORK/import2.out" "exists already"
sed '3s/"one"/"ONE"/; 3s/immediate/Immediate/' "$WORK/run.jsonl" >"$WORK/tampered.jsonl"
expect_rc 2 "$WORK/import3.out" -- "$RB" state import "$WORK/tampered.jsonl" --state-dir "$WORK/other"
contains "$WORK/import3.out" "tampered.jsonl:3: hash mismatch"
[ ! -e "$WORK/other/runs" ] || fail "a tampered journal was imported"
pass "state export writes the JSON Lines file; import verifies first and keeps it as it is"

# Fencing. A holds the lease (3 s, renewed every second) and is paused inside step "pause".
: >"$WORK/effects"
PAUSE=4 "$RB" run -p playbooks/pb.toml --yes --reason "paused holder" </dev/null >"$WORK/a.out" 2>&1 &
a=$!
a_id=
for _ in $(seq 1 100); do
    a_id=$(q "SELECT run_id FROM shop_state.journal WHERE run_id <> '$id' AND line LIKE '%\"step_started\",\"step\":\"pause\"%'")
    [ -n "$a_id" ] && break
    sleep 0.1
done
[ -n "$a_id" ] || { cat "$WORK/a.out" >&2; fail "run A did not start step pause"; }
expect_rc 4 "$WORK/second.out" -- "$RB" run -p playbooks/pb.toml --yes --reason "second"
contains "$WORK/second.out" "another run holds the lock"
contains "$WORK/second.out" "$a_id"
lacks "$WORK/second.out" "rb-scram-pw"
pass "a person's second run against the shared state gets exit 4 naming the holder"

kill -STOP "$a"
sleep 4.5 # past A's lease: nobody renewed it
expect_rc 0 "$WORK/b.out" -- env PAUSE=0 "$RB" resume "$a_id" --yes
kill -CONT "$a"
rc=0
wait "$a" || rc=$?
[ "$rc" = 7 ] || { cat "$WORK/a.out" >&2; fail "the deposed holder exited $rc, not 7"; }
contains "$WORK/a.out" "lost the run lock of generation"
[ "$(grep -c '^two$' "$WORK/effects")" = 1 ] || { cat "$WORK/effects" >&2; fail "step two ran $(grep -c '^two$' "$WORK/effects") times"; }
[ "$(grep -c '^one$' "$WORK/effects")" = 1 ] || fail "step one ran twice"
gens=$(q "SELECT string_agg(DISTINCT generation::text, ',') FROM shop_state.journal WHERE run_id = '$a_id'")
[ "$(echo "$gens" | tr ',' '\n' | wc -l)" = 2 ] || fail "generations of the run: $gens"
# After the takeover every record is the new holder's: no line of the old generation follows one
# of the new.
late=$(q "SELECT count(*) FROM shop_state.journal o WHERE run_id = '$a_id' AND generation < (SELECT max(generation) FROM shop_state.journal WHERE run_id = '$a_id') AND seq > (SELECT min(seq) FROM shop_state.journal WHERE run_id = '$a_id' AND generation = (SELECT max(generation) FROM shop_state.journal WHERE run_id = '$a_id'))")
[ "$late" = 0 ] || fail "$late records of the deposed holder after the takeover"
expect_rc 0 "$WORK/audit3.out" -- "$RB" audit verify "$a_id"
expect_rc 0 "$WORK/status3.out" -- "$RB" status "$a_id"
contains "$WORK/status3.out" "succeeded"
pass "a holder paused past its lease starts no further step; the run finished once, by the taker"

# The server restarted (stopped as by a crash, started again) in the middle of a run: the appends
# wait and retry (bounded: 30 s), nothing is lost or written twice.
: >"$WORK/effects"
PAUSE=3 "$RB" run -p playbooks/pb.toml --yes --reason "server restart" </dev/null >"$WORK/r.out" 2>&1 &
r=$!
r_id=
for _ in $(seq 1 100); do
    r_id=$(q "SELECT run_id FROM shop_state.journal WHERE run_id NOT IN ('$id', '$a_id') AND line LIKE '%\"step_started\",\"step\":\"pause\"%'")
    [ -n "$r_id" ] && break
    sleep 0.1
done
[ -n "$r_id" ] || { cat "$WORK/r.out" >&2; fail "the run did not start step pause"; }
bash "$SRC/tests/support/pg_throwaway.sh" stop
bash "$SRC/tests/support/pg_throwaway.sh" start
rc=0
wait "$r" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/r.out" >&2; fail "the run across the restart exited $rc"; }
for step in one pause two; do
    [ "$(grep -c "^$step$" "$WORK/effects")" = 1 ] || fail "step $step ran $(grep -c "^$step$" "$WORK/effects") times"
done
expect_rc 0 "$WORK/audit4.out" -- "$RB" audit verify "$r_id"
expect_rc 0 "$WORK/status4.out" -- "$RB" status "$r_id"
contains "$WORK/status4.out" "succeeded"
pass "a run outlives a restart of the server: no record lost or written twice"

# The monitor runs on the shared state: alone, it leads (generation 1 of the row "leader")
# and its clean exit hands the lease back (`status` shows nobody leads).
expect_rc 0 "$WORK/monitor.out" -- "$RB" monitor --once --json
contains "$WORK/monitor.out" "leading (generation 1)"
lacks "$WORK/monitor.out" "rb-scram-pw"
[ "$(q "SELECT generation FROM shop_state.lease WHERE name = 'leader'")" = 1 ] || fail "leader generation"
[ "$(q "SELECT held FROM shop_state.lease WHERE name = 'leader'")" = f ] || fail "the monitor kept the leader lease after its exit"
expect_rc 0 "$WORK/status5.out" -- "$RB" status
contains "$WORK/status5.out" "leader: none (no monitor leads now; last generation 1)"
pass "rollback monitor on the shared state leads alone and hands the lease back at its exit"

grep -rq "rb-scram-pw" "$site/.rollback" "$WORK"/*.out && fail "the DSN's password appeared"
pass "the password of the shared state's DSN appears nowhere"
