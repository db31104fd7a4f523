#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A backup catalog holding `.json` files that are no readable manifest (a foreign file, a
# manifest cut short, newer than the good backup) — issue 13 break-it 01: the restore's
# preflight failed on them, so no rollback could run, while /metrics said the last good backup
# was fresh. One reading of the catalog for every reader: the entries are passed over and named,
# and the restore, its preflight, a rehearsal, `backup list` and /metrics all take the same
# verified good backup; `backup verify` fails on them (exit 3), and /metrics counts them.
# Real PostgreSQL 15 and the real binary; exit 125 without them.
source "$(dirname "$0")/../support/itest.sh"
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/initdb" ] || { echo "skip: PostgreSQL 15 missing"; exit 125; }
cd "$WORK"
source "$SRC/tests/support/monitor_server.sh"

export PG_BASE=$(mktemp -d /tmp/rbpgs.XXXXXX) PG_PORT=54381
on_exit 'cd / && bash "$SRC/tests/support/pg_throwaway.sh" destroy'
bash "$SRC/tests/support/pg_throwaway.sh" start
psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE" -p "$PG_PORT" -U rollback "$@"; }
DSN="host=$PG_BASE port=$PG_PORT user=rollback dbname=shop"
cat=$WORK/cat

psql -d postgres -c "CREATE DATABASE shop"
psql -d shop -c "CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g FROM generate_series(1, 50) g"
mkdir "$cat"
expect_rc 0 backup.out -- "$RB" backup --dsn "$DSN" --catalog "$cat" --mark-good --tables orders
good=$(basename "$(ls "$cat"/*.dump)" .dump)
psql -d shop -c "INSERT INTO orders SELECT g, g FROM generate_series(51, 60) g"
# Newer than the good backup by name and by content: a manifest cut short, a foreign file.
printf '{"format":1,"id":"shop-29991231T000000Z","file":"shop-29991231T000000Z.dump","time":"2999-12-31T00:00:00Z"' \
    > "$cat/shop-29991231T000000Z.json"
printf '{"hello":1}\n' > "$cat/notes.json"
cut_short="backup manifest $cat/shop-29991231T000000Z.json: invalid JSON"
foreign="backup manifest $cat/notes.json: missing \"format\""

expect_rc 0 list.out -- "$RB" backup list --catalog "$cat"
contains list.out "$good"
contains list.out "rollback: warning: passed over: $cut_short"
contains list.out "rollback: warning: passed over: $foreign"
pass "backup list: the good backup listed, the two entries passed over and named (exit 0)"

expect_rc 3 verify.out -- "$RB" backup verify --catalog "$cat"
contains verify.out "FAIL $cut_short"
contains verify.out "FAIL $foreign"
contains verify.out "$good: ok"
pass "backup verify: fails (exit 3) on the entries that are no manifest, the good backup ok"

cat > pb.toml <<TOML
[playbook]
name = "db"
[[step]]
id = "restore-db"
phase = "database"
action = "pg_restore"
dsn = "$DSN"
catalog = "$cat"
backup = "last_good"
assert = [ { sql = "SELECT count(*) FROM orders", expect = 50 } ]
TOML
expect_rc 0 plan.out -- "$RB" plan -p pb.toml --state-dir "$WORK/st"
contains plan.out "backup last_good = $good"
contains plan.out "backup catalog entry passed over: $cut_short"
contains plan.out "backup catalog entry passed over: $foreign"
lacks plan.out "FAIL"
pass "plan: the preflight picks $good and notes the entries passed over (exit 0)"

expect_rc 0 rehearse.out -- "$RB" rehearse -p pb.toml --state-dir "$WORK/st"
contains rehearse.out "step restore-db: ok (backup $good)"
contains rehearse.out "backup catalog entry passed over: $foreign"
pass "rehearse: the same backup"

# /metrics: the backup a restore picks, and the entries passed over counted.
alert_config 'alertname = "HighErrorRate"' 'mode = "observe"' 'playbook = "pb.toml"' 'interval = "1s"'
sed -i "s|^\[target\]|[target]\nstate_dir = \"$WORK/st\"|" rollback.toml
start_monitor mon.out
curl -s "$base/metrics" > metrics.txt
want=$(python3 -c 'import json,sys,datetime as d; t=json.load(open(sys.argv[1]))["time"]; print(d.datetime.strptime(t,"%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=d.timezone.utc).timestamp())' "$cat/$good.json")
got=$(sed -n "s|^rollback_last_good_backup_timestamp_seconds{catalog=\"$cat\",database=\"shop\"} ||p" metrics.txt)
[ -n "$got" ] || { cat metrics.txt; fail "no last good backup series"; }
python3 -c 'import sys; assert abs(float(sys.argv[1]) - float(sys.argv[2])) < 0.01, sys.argv' "$got" "$want" ||
    fail "the last good backup on /metrics is $got, the backup a restore picks was taken at $want"
contains metrics.txt "rollback_backup_catalog_unreadable_manifests{catalog=\"$cat\"} 2"
kill -TERM $mon; wait $mon 2>/dev/null || true
pass "/metrics: the last good backup is $good's time, 2 entries passed over"

expect_rc 0 run.out -- "$RB" run -p pb.toml --state-dir "$WORK/st" --yes
contains run.out "backup catalog entry passed over: $cut_short"
[ "$(psql -d shop -tAc "SELECT count(*) FROM orders")" = 50 ] || fail "production is not the backup's"
journal=$(ls -t "$WORK"/st/runs/*.jsonl | head -1)
contains "$journal" '"catalog_unreadable"'
contains "$journal" "\"backup\":\"$good\""
pass "run: the restore takes $good beside the entries passed over, recorded in its result"
