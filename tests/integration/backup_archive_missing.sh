#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 42/04: with the catalog's .dump archives gone (a retention script that prunes *.dump,
# the manifests kept) rollback_last_good_backup_timestamp_seconds stayed fresh while `plan` and
# `backup verify` said "archive ... is missing": the recommended alert stayed silent. "The last
# good backup" — on /metrics, in the restore's choice, its preflight and `rehearse` — is now only
# one whose archive is there with the recorded size; the others are passed over and named.
# Real PostgreSQL 15 and the real binary; exit 125 without them.
source "$(dirname "$0")/../support/itest.sh"
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/initdb" ] || { echo "skip: PostgreSQL 15 missing"; exit 125; }
cd "$WORK"
source "$SRC/tests/support/monitor_server.sh"

export PG_BASE=$(mktemp -d /tmp/rbpga.XXXXXX) PG_PORT=54385
on_exit 'cd / && bash "$SRC/tests/support/pg_throwaway.sh" destroy'
bash "$SRC/tests/support/pg_throwaway.sh" start
psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE" -p "$PG_PORT" -U rollback "$@"; }
DSN="host=$PG_BASE port=$PG_PORT user=rollback dbname=shop"
cat=$WORK/cat
# series: the value of the last good backup series of /metrics ("" when absent)
series() {
    curl -s "$base/metrics" > metrics.txt
    sed -n "s|^rollback_last_good_backup_timestamp_seconds{catalog=\"$cat\",database=\"shop\"} ||p" metrics.txt
}
taken() { python3 -c 'import json,sys,datetime as d; t=json.load(open(sys.argv[1]))["time"]; print(d.datetime.strptime(t,"%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=d.timezone.utc).timestamp())' "$cat/$1.json"; }
near() { python3 -c 'import sys; sys.exit(0 if abs(float(sys.argv[1]) - float(sys.argv[2])) < 0.01 else 1)' "$1" "$2"; }

psql -d postgres -c "CREATE DATABASE shop"
psql -d shop -c "CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g FROM generate_series(1, 50) g"
mkdir "$cat"
expect_rc 0 b1.out -- "$RB" backup --dsn "$DSN" --catalog "$cat" --mark-good --release v1
old=$(basename "$(ls "$cat"/*.dump)" .dump)
sleep 1.1 # another second: another id
psql -d shop -c "INSERT INTO orders SELECT g, g FROM generate_series(51, 60) g"
expect_rc 0 b2.out -- "$RB" backup --dsn "$DSN" --catalog "$cat" --mark-good --release v2
new=$(basename "$(ls -t "$cat"/*.dump | head -1)" .dump)
[ "$old" != "$new" ] || fail "one backup only"
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
TOML
alert_config 'alertname = "HighErrorRate"' 'mode = "observe"' 'playbook = "pb.toml"' 'interval = "1s"'
sed -i "s|^\[target\]|[target]\nstate_dir = \"$WORK/st\"|" rollback.toml
start_monitor mon.out
near "$(series)" "$(taken "$new")" || fail "the series is not $new's time: $(series)"

# The newer archive pruned: the series, the plan and a rehearsal take the older good backup.
mkdir gone
mv "$cat/$new.dump" gone/
wait_for 'near "$(series)" "$(taken "$old")"' || fail "the series still says $new: $(series)"
missing="backup $new: archive $cat/$new.dump is missing"
expect_rc 0 plan.out -- "$RB" plan -p pb.toml -c rollback.toml
contains plan.out "backup last_good = $old"
contains plan.out "backup catalog entry passed over: $missing"
lacks plan.out "FAIL"
expect_rc 0 list.out -- "$RB" backup list --catalog "$cat"
contains list.out "rollback: warning: $missing: no restore takes it"
expect_rc 3 verify.out -- "$RB" backup verify --catalog "$cat"
contains verify.out "is missing"
pass "the newer archive gone: /metrics, plan and restore take $old; list warns, verify fails"

# A cut-short archive (the directory unchanged): passed over too.
cp "$cat/$old.dump" saved.dump
truncate -s 100 "$cat/$old.dump"
wait_for '[ -z "$(series)" ]' || fail "a cut-short archive is still the last good backup: $(series)"
expect_rc 2 plan2.out -- "$RB" plan -p pb.toml -c rollback.toml
# (`backup verify` above unmarked the newer one: 1 verified.)
contains plan2.out "no good backup of database shop in catalog $cat (2 backups, 1 verified; passed over for its archive: backup $old: archive $cat/$old.dump has 100 bytes, its manifest records "
cp saved.dump "$cat/$old.dump"
wait_for 'near "$(series)" "$(taken "$old")"' || fail "the series did not come back: $(series)"
pass "a cut-short archive is no good backup; put back, it is again"

# Every archive gone (the break-it's case): no series at all — absent() alerts.
mv "$cat/$old.dump" gone/
wait_for '[ -z "$(series)" ]' || fail "the series stays fresh with every archive gone: $(series)"
contains metrics.txt '# TYPE rollback_last_good_backup_timestamp_seconds gauge'
contains metrics.txt "rollback_backup_catalog_unreadable_manifests{catalog=\"$cat\"} 0"
kill -TERM $mon; wait $mon 2>/dev/null || true
pass "every archive gone: the last good backup series is absent"
