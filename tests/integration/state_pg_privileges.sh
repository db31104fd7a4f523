#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Least privilege on the shared state (real PostgreSQL 15, the real binary; docs/config.md
# "Privileges"; break-it 43/F7): an administrator's role creates the schema once (`rollback state
# init`); the monitors' and people's role has USAGE on the schema and DML on its tables, and no
# CREATE on the database. Reading commands (status, history, audit verify, state export, report)
# only read; a run, which writes, needs nothing more: no command issues DDL on a schema that is at
# this build's version. A reading command on a database without the schema creates nothing and
# says to run `rollback state init` (exit 2); a writer without CREATE says what it could not do.
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54391
source "$(dirname "$0")/../support/pg_shared.sh"

cat >"$WORK/pb.toml" <<'TOML'
[playbook]
name = "least"
[[step]]
id = "one"
phase = "immediate"
action = "exec"
argv = ["true"]
TOML
state_config() { # FILE ROLE SCHEMA
    cat >"$1" <<TOML
[target]
name = "shop"
state_dir = "$WORK/local"
[state]
dsn = "host=$PG_BASE port=$PG_PORT user=$2 dbname=postgres"
schema = "$3"
TOML
}
state_config "$WORK/admin.toml" rollback least
state_config "$WORK/app.toml" rb_app least
state_config "$WORK/none.toml" rb_app nowhere
expect_rc 0 "$WORK/init.out" -- "$RB" state init -c "$WORK/admin.toml"
contains "$WORK/init.out" "schema created"
q "CREATE ROLE rb_app LOGIN"
q "REVOKE CREATE ON DATABASE postgres FROM PUBLIC; REVOKE CREATE ON SCHEMA public FROM PUBLIC"
q "GRANT USAGE ON SCHEMA least TO rb_app; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA least TO rb_app; GRANT USAGE ON ALL SEQUENCES IN SCHEMA least TO rb_app"
ddl_before=$(q "SELECT count(*) FROM least.schema_version")

cd "$WORK"
expect_rc 0 run.out -- "$RB" run -p "$WORK/pb.toml" -c "$WORK/app.toml" --yes --reason least
run=$(q "SELECT run_id FROM least.journal WHERE seq = 0")
[ -n "$run" ] || fail "the run kept no journal"
for cmd in "status" "history" "status $run" "report $run" "audit verify $run" "state export $run" "approve --list"; do
    # shellcheck disable=SC2086
    expect_rc 0 read.out -- "$RB" $cmd -c "$WORK/app.toml"
    lacks read.out "permission denied"
done
expect_rc 0 check.out -- "$RB" status -c "$WORK/app.toml"
contains check.out "run $run: succeeded"
[ "$(q "SELECT count(*) FROM least.schema_version")" = "$ddl_before" ] || fail "a command migrated the schema"
pass "a role without CREATE runs and reads the shared state (no DDL on a current schema)"

# A reading command on a database without the schema: nothing created, the way out said.
for cmd in "status" "history" "audit verify $run"; do
    # shellcheck disable=SC2086
    expect_rc 2 none.out -- "$RB" $cmd -c "$WORK/none.toml"
    contains none.out "the shared state's schema nowhere does not exist"
    contains none.out "rollback state init"
done
[ "$(q "SELECT count(*) FROM pg_namespace WHERE nspname = 'nowhere'")" = 0 ] || fail "a reader created the schema"
# A writer may create it, but this role may not: said as such (exit 1), nothing half made.
expect_rc 1 w.out -- "$RB" run -p "$WORK/pb.toml" -c "$WORK/none.toml" --yes --reason w
contains w.out "cannot create the shared state's schema nowhere"
contains w.out "permission denied"
[ "$(q "SELECT count(*) FROM pg_namespace WHERE nspname = 'nowhere'")" = 0 ] || fail "a schema was half made"
contains w.out "needs CREATE on the database"
pass "a reader never creates the schema (exit 2: rollback state init); a writer without CREATE says so"

# A schema a DBA made for a role without CREATE on the database: its owner initializes it
# (break-it 46: CREATE SCHEMA IF NOT EXISTS was refused for the database).
q "CREATE ROLE rb_owner LOGIN; CREATE SCHEMA owned AUTHORIZATION rb_owner"
state_config "$WORK/owner.toml" rb_owner owned
expect_rc 0 owner.out -- "$RB" state init -c "$WORK/owner.toml"
lacks owner.out "permission denied"
[ "$(q "SELECT max(version) FROM owned.schema_version")" -ge 1 ] || fail "the owned schema was not migrated"
expect_rc 0 owner-run.out -- "$RB" run -p "$WORK/pb.toml" -c "$WORK/owner.toml" --yes --reason owned
pass "the owner of a schema a DBA made initializes it without CREATE on the database"
cd / # the cleanup runs psql as the server's user, who may not enter $WORK
