#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 42/01: one file in <state_dir>/rehearsals/ that cannot be read (a dangling link, a
# FIFO, another user's 0600 copy) failed the restore's preflight ("backup last_good available:
# cannot read ..."), so `plan` said not runnable, `run` exited 2 and the monitor's automatic
# rollback never started — one stderr line, no page, no count. The records only give an ETA:
# passed over and named, never blocking. And a rollback the preflight does refuse pages (the
# [decision] hooks are told), is counted on /metrics and retried.
# Real PostgreSQL 15 and the real binary; exit 125 without them.
source "$(dirname "$0")/../support/itest.sh"
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/initdb" ] || { echo "skip: PostgreSQL 15 missing"; exit 125; }
cd "$WORK"
source "$SRC/tests/support/monitor_server.sh"

export PG_BASE=$(mktemp -d /tmp/rbpgr.XXXXXX) PG_PORT=54383
on_exit 'cd / && bash "$SRC/tests/support/pg_throwaway.sh" destroy'
bash "$SRC/tests/support/pg_throwaway.sh" start
psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE" -p "$PG_PORT" -U rollback "$@"; }
DSN="host=$PG_BASE port=$PG_PORT user=rollback dbname=shop"
count() { psql -d shop -tAc "SELECT count(*) FROM orders"; }

psql -d postgres -c "CREATE DATABASE shop"
psql -d shop -c "CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g FROM generate_series(1, 50) g"
mkdir cat
expect_rc 0 backup.out -- "$RB" backup --dsn "$DSN" --catalog cat --mark-good --tables orders
recording_hook page
cat > pb.toml <<TOML
[playbook]
name = "db"
hooks_dir = "hooks"
[[step]]
id = "restore-db"
phase = "database"
action = "pg_restore"
dsn = "$DSN"
catalog = "cat"
backup = "last_good"
assert = [ { sql = "SELECT count(*) FROM orders", expect = 50 } ]
TOML
alert_config 'alertname = "HighErrorRate"' 'mode = "auto"' 'playbook = "pb.toml"' \
    'interval = "1s"' 'cooldown = "1h"' 'hooks = ["page"]'
sed -i "s|^\[target\]|[target]\nstate_dir = \"st\"|" rollback.toml
expect_rc 0 rehearse.out -- "$RB" rehearse -p pb.toml -c rollback.toml
ls st/rehearsals/*.json > /dev/null || fail "no rehearsal recorded"
# Newer by name than the good record; each unreadable in its own way.
ln -s /nonexistent/record.json st/rehearsals/9999-dangling.json
mkfifo st/rehearsals/9999-pipe.json
psql -d shop -c "INSERT INTO orders SELECT g, g FROM generate_series(51, 60) g"

expect_rc 0 plan.out -- "$RB" plan -p pb.toml -c rollback.toml
lacks plan.out "FAIL"
contains plan.out "Runnable: yes"
contains plan.out "ETA: restore took"
contains plan.out "rehearsal record passed over (no ETA from it): cannot read $WORK/st/rehearsals/9999-dangling.json: No such file or directory"
contains plan.out "rehearsal record passed over (no ETA from it): cannot read $WORK/st/rehearsals/9999-pipe.json: not a regular file"
contains plan.out "it only gives the restore's ETA, and blocks nothing"
pass "plan: runnable, the ETA from the good record, each unreadable record a note"

# The monitor's automatic rollback starts, and restores.
start_monitor mon.out
post_alert "$(am_alert firing a1)"
wait_for '[ "$(grep -c "\"event\":\"run_finished\"" st/monitor.jsonl 2>/dev/null)" -ge 1 ]' ||
    wait_for '[ "$(grep -c "\"event\":\"run_finished\"" st/monitor.jsonl 2>/dev/null)" -ge 1 ]' ||
    { cat mon.out; fail "the monitor's rollback did not run"; }
contains st/monitor.jsonl '"exit_code":0'
[ "$(count)" = 50 ] || fail "production is not the backup's: $(count) orders"
lacks mon.out "preflight found problems"
kill -TERM $mon; wait $mon 2>/dev/null || true
pass "monitor: the triggered rollback ran and restored (exit 0) beside the unreadable records"

# Another user's 0600 copy (root:root) read by the service's user: passed over the same way.
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
    rm -f st/rehearsals/9999-dangling.json st/rehearsals/9999-pipe.json
    cp "$(ls st/rehearsals/*.json | head -1)" st/rehearsals/9999-copy-by-root.json
    chmod 0600 st/rehearsals/9999-copy-by-root.json
    chmod 0755 "$WORK"
    chown -R 65534:65534 st cat
    chown 0:0 st/rehearsals/9999-copy-by-root.json
    expect_rc 0 plan2.out -- setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$RB" plan -p pb.toml -c rollback.toml
    lacks plan2.out "FAIL"
    contains plan2.out "rehearsal record passed over (no ETA from it): cannot read $WORK/st/rehearsals/9999-copy-by-root.json: Permission denied"
    chown -R 0:0 st cat
    rm -f st/rehearsals/9999-copy-by-root.json
    pass "a root-owned 0600 record read by another user: a note, runnable"
else
    echo "skip: the other-owner record needs root and setpriv"
fi

# A rollback the preflight refuses (the good backup's archive gone: no good backup left) pages,
# is counted and is retried while the alert fires; it starts once the archive is back.
rm -rf st/runs st/monitor.jsonl st/decisions st/monitor-policy.json st/alerts.json
mkdir gone
mv cat/*.dump gone/
start_monitor mon2.out
post_alert "$(am_alert firing a2)"
wait_for '[ "$(grep -c "\"event\":\"escalated\"" st/monitor.jsonl 2>/dev/null)" -ge 1 ]' ||
    { cat mon2.out; fail "the refused rollback was not escalated"; }
contains mon2.out "no run: its preflight found problems (preflight found problems; nothing was run: restore-db: backup last_good available: no good backup of database shop"
contains events.jsonl '"status":"escalate"'
curl -s "$base/metrics" > metrics.txt
contains metrics.txt 'rollback_runs_not_started_total{reason="preflight"} 1'
[ ! -d st/runs ] || [ -z "$(ls st/runs)" ] || fail "a run started without a backup"
mv gone/*.dump cat/
wait_for '[ "$(grep -c "\"event\":\"run_finished\"" st/monitor.jsonl 2>/dev/null)" -ge 1 ]' ||
    wait_for '[ "$(grep -c "\"event\":\"run_finished\"" st/monitor.jsonl 2>/dev/null)" -ge 1 ]' ||
    { cat mon2.out; fail "the retried rollback never ran"; }
[ "$(grep -c '"status":"escalate"' events.jsonl)" = 1 ] || fail "paged more than once"
kill -TERM $mon; wait $mon 2>/dev/null || true
pass "a rollback the preflight refused paged once, was counted, and ran once it could"
