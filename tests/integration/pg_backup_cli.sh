#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `rollback backup` / `backup list` / `backup verify` / `rehearse` against a real PostgreSQL 15:
# output, exit codes, masking. Starts its own throwaway cluster; exit 125 when PostgreSQL is missing.
set -euo pipefail
: "${ROLLBACK:?}" "${ROLLBACK_SOURCE_DIR:?}"
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/initdb" ] || { echo "PostgreSQL 15 missing: skipped"; exit 125; }

export PG_BASE=$(mktemp -d /tmp/rbpgi.XXXXXX) PG_PORT=54331
WORK=$(mktemp -d)
trap 'bash "$ROLLBACK_SOURCE_DIR/tests/support/pg_throwaway.sh" destroy; rm -rf "$WORK"' EXIT
bash "$ROLLBACK_SOURCE_DIR/tests/support/pg_throwaway.sh" start
psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE" -p "$PG_PORT" -U rollback "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() { # expected-rc command...
    local want=$1; shift
    set +e; "$@" >"$WORK/out" 2>"$WORK/err"; local rc=$?; set -e
    [ "$rc" -eq "$want" ] || { cat "$WORK/out" "$WORK/err" >&2; fail "$* exited $rc, expected $want"; }
}

psql -d postgres -c "CREATE DATABASE shop"
psql -d shop -c "CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g FROM generate_series(1, 50) g"
DSN="host=$PG_BASE port=$PG_PORT user=rollback dbname=shop"
mkdir "$WORK/cat"

# No catalog directory: exit 2, nothing dumped.
expect_rc 2 "$ROLLBACK" backup --dsn "$DSN" --catalog "$WORK/nope"
grep -q "backup catalog $WORK/nope does not exist" "$WORK/err" || fail "missing-catalog message: $(cat "$WORK/err")"

# Take a good backup.
expect_rc 0 "$ROLLBACK" backup --dsn "$DSN" --catalog "$WORK/cat" --release 2.0 --mark-good --tables orders
grep -qE '^backup shop-[0-9T]+Z: .*1 tables \(1 with checksums\), verified, marked good$' "$WORK/out" || fail "backup output: $(cat "$WORK/out")"
expect_rc 0 "$ROLLBACK" backup list --catalog "$WORK/cat"
grep -q " 2.0 " "$WORK/out" || fail "list: $(cat "$WORK/out")"
expect_rc 0 "$ROLLBACK" backup list --catalog "$WORK/cat" --json
grep -q '"rows":50' "$WORK/out" || fail "list --json: $(cat "$WORK/out")"
expect_rc 0 "$ROLLBACK" backup verify --catalog "$WORK/cat" --restore-test --dsn "$DSN"
grep -q "restore test: 1 tables restored" "$WORK/out" || fail "verify: $(cat "$WORK/out")"
[ "$(psql -d postgres -tAc "SELECT count(*) FROM pg_database WHERE datname LIKE 'shop_verify%'")" = 0 ] || fail "scratch db left"

# Wrong password (SCRAM role): exit 1, password masked.
expect_rc 1 "$ROLLBACK" backup --dsn "host=$PG_BASE port=$PG_PORT user=rb_scram password=S3cretXYZ dbname=shop" --catalog "$WORK/cat"
grep -q "password authentication failed" "$WORK/err" || fail "wrong password message: $(cat "$WORK/err")"
grep -q "S3cretXYZ" "$WORK/err" "$WORK/out" && fail "password printed"
# Unreachable server: exit 1.
expect_rc 1 "$ROLLBACK" backup --dsn "host=/nonexistent port=5999 user=rollback dbname=shop" --catalog "$WORK/cat"
grep -q "is the server running" "$WORK/err" || fail "unreachable hint: $(cat "$WORK/err")"

# Rehearse a playbook: production unchanged, rehearsal recorded.
cat >"$WORK/pb.toml" <<TOML
[playbook]
name = "db"

[[step]]
id = "restore-db"
phase = "database"
action = "pg_restore"
dsn = "$DSN"
catalog = "$WORK/cat"
assert = [ { sql = "SELECT count(*) FROM orders", expect = 50 } ]
TOML
psql -d shop -c "INSERT INTO orders VALUES (51, 1)"
before=$(psql -d postgres -tAc "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database")
expect_rc 0 "$ROLLBACK" rehearse -p "$WORK/pb.toml" --state-dir "$WORK/state"
grep -q "step restore-db: ok" "$WORK/out" || fail "rehearse: $(cat "$WORK/out")"
ls "$WORK"/state/rehearsals/*-restore-db.json >/dev/null || fail "no rehearsal record"
expect_rc 0 "$ROLLBACK" rehearse -p "$WORK/pb.toml" --state-dir "$WORK/state" --json
python3 - "$WORK/out" <<'PY' || fail "rehearse --json: $(cat "$WORK/out")"
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 1, rows
r = rows[0]
assert r["step"] == "restore-db" and r["ok"] is True and r["problems"] == [], r
assert r["restore_s"] > 0 and r["toc_entries"] > 0 and os.path.isfile(r["recorded"]), r
PY
[ "$(psql -d postgres -tAc "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database")" = "$before" ] || fail "databases changed"
# --only: a drill of a selection, recorded as one — never the playbook's drill on /metrics, even
# naming every step (issue 13 break-it 04: it counted); a name that is no pg_restore step of the
# playbook is exit 2 before anything is written (it rehearsed nothing and exited 0).
expect_rc 0 "$ROLLBACK" rehearse -p "$WORK/pb.toml" --state-dir "$WORK/state-only" --only restore-db --json
python3 - "$WORK/out" <<'PY' || fail "rehearse --only --json: $(cat "$WORK/out")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 1 and rows[0]["ok"] is True and rows[0]["only"] == ["restore-db"], rows
assert json.load(open(rows[0]["recorded"]))["only"] == ["restore-db"], rows
PY
cp "$WORK/pb.toml" "$WORK/pb2.toml"
printf '[[step]]\nid = "notify"\naction = "exec"\nargv = ["true"]\n' >> "$WORK/pb2.toml"
expect_rc 2 "$ROLLBACK" rehearse -p "$WORK/pb2.toml" --state-dir "$WORK/state-bad" --only restore-bd
grep -qF -- '--only: no pg_restore step "restore-bd" in '"$WORK/pb2.toml"' (did you mean "restore-db"?)' "$WORK/err" ||
    fail "--only misspelt: $(cat "$WORK/err")"
expect_rc 2 "$ROLLBACK" rehearse -p "$WORK/pb2.toml" --state-dir "$WORK/state-bad" --only notify
grep -qF -- '--only: step "notify" of '"$WORK/pb2.toml"' is no pg_restore step' "$WORK/err" ||
    fail "--only of an exec step: $(cat "$WORK/err")"
[ ! -e "$WORK/state-bad" ] || fail "a refused --only wrote $WORK/state-bad"
[ "$(psql -d shop -tAc "SELECT count(*) FROM orders")" = 51 ] || fail "production changed"

# Corrupt the archive: verify exits 3, and last_good finds nothing any more.
dump=$(ls "$WORK"/cat/*.dump)
printf 'garbage' | dd of="$dump" bs=1 seek=200 conv=notrunc status=none
expect_rc 3 "$ROLLBACK" backup verify --catalog "$WORK/cat"
grep -q "FAIL .*sha256" "$WORK/out" || fail "verify corrupted: $(cat "$WORK/out")"
expect_rc 1 "$ROLLBACK" rehearse -p "$WORK/pb.toml" --state-dir "$WORK/state"
grep -q "no good backup of database shop" "$WORK/out" || fail "no good backup: $(cat "$WORK/out")"
# A database name PostgreSQL allows but a path does not ("../sales"): the backup's files are in
# the catalog, under the encoded name, and `backup list` of that catalog shows it (finding 13 of
# break-it round 31: the dump went to the catalog's parent and the catalog stayed empty).
psql -d postgres -c 'CREATE DATABASE "../sales"'
psql -d "dbname='../sales'" -c "CREATE TABLE t (id int PRIMARY KEY)"
mkdir -p "$WORK/cat6/sub"
expect_rc 0 "$ROLLBACK" backup --dsn "host=$PG_BASE port=$PG_PORT user=rollback dbname='../sales'" \
    --catalog "$WORK/cat6/sub" --mark-good
grep -qE '^backup %2E\.%2Fsales-[0-9T]+Z: .*verified, marked good$' "$WORK/out" || fail "hostile name backup: $(cat "$WORK/out")"
[ -z "$(find "$WORK/cat6" -maxdepth 1 -type f)" ] || fail "files outside the catalog: $(ls -la "$WORK/cat6")"
[ "$(find "$WORK/cat6/sub" -name '*.dump' | wc -l)" = 1 ] || fail "no dump in the catalog: $(ls -la "$WORK/cat6/sub")"
expect_rc 0 "$ROLLBACK" backup list --catalog "$WORK/cat6/sub" --json
grep -q '"database":"../sales"' "$WORK/out" || fail "list of the hostile name: $(cat "$WORK/out")"
echo "ok"
