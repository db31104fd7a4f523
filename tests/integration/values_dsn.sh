#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Values stay values in a connection string (DESIGN.md, trust invariant 5; docs/playbook.md
# "Substitution", the DSN row), on the real binary and a real PostgreSQL 15: a {{variable}} in
# the `dsn` of sql_assert and sql is one parameter value. `shop dbname=other` reads the database
# literally named so (or fails when there is none), never `other`; host= and port= inside a value
# never send the connection (and the secret password in the DSN) anywhere else; the URI form the
# same with `shop?dbname=other`; a reference where no quoting keeps it one value (a parameter
# name) is a located validation error, exit 2, nothing run.
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54347
source "$(dirname "$0")/../support/pg_shared.sh"

qd() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE" -p "$PG_PORT" -U rollback -d "dbname='$1'" -tAc "$2"; }
for db in shop other 'shop dbname=other' 'shop?dbname=other'; do
    q "CREATE DATABASE \"$db\""
    qd "$db" "CREATE TABLE t (x text); INSERT INTO t VALUES ('in ' || current_database()); GRANT SELECT ON t TO rb_scram"
done

# A listener that records every connection made to it: where a redirected step would go.
FAKE_PORT=$((20000 + RANDOM % 20000))
python3 - "$FAKE_PORT" "$WORK/fake.log" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4); s.settimeout(60)
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    open(sys.argv[2], "a").write("connected\n"); c.close()
PY
stop_on_exit $!
sleep 0.3

cd "$WORK"
cat >kv.toml <<TOML
[vars]
db = "shop"
want = "in shop"
pw = { env = "DB_PASSWORD", secret = true }
[[step]]
id = "q"
action = "sql_assert"
dsn = "host=$PG_BASE port=$PG_PORT user=rb_scram password={{pw}} dbname={{db}}"
query = "SELECT x FROM t"
expect = "{{want}}"
TOML
sed -e 's|^dsn = .*|dsn = "postgresql://rb_scram:{{pw}}@/{{db}}?host='"$PG_BASE"'\&port='"$PG_PORT"'"|' kv.toml >uri.toml
export DB_PASSWORD=rb-scram-pw

for form in kv uri; do
    expect_rc 0 "$form-shop.out" -- "$RB" run -p $form.toml --yes
    pass "$form: the plain value reads shop"
done

# key=value: the value is the database's whole name.
expect_rc 0 kv-literal.out -- "$RB" run -p kv.toml --yes --var 'db=shop dbname=other' \
    --var 'want=in shop dbname=other'
pass "kv: 'shop dbname=other' reads the database of that name"
expect_rc 3 kv-other.out -- "$RB" run -p kv.toml --yes --var 'db=shop dbname=other' --var 'want=in other'
lacks kv-other.out 'got "in other"'
pass "kv: it never reads database other"
q 'DROP DATABASE "shop dbname=other"'
expect_rc 2 kv-missing.out -- "$RB" run -p kv.toml --yes --var 'db=shop dbname=other' --var 'want=in other'
contains kv-missing.out 'database "shop dbname=other" does not exist'
contains kv-missing.out 'nothing was run'
pass "kv: without a database of that name preflight refuses the run, other is not read"

# URI: the value is one percent-encoded path segment.
expect_rc 0 uri-literal.out -- "$RB" run -p uri.toml --yes --var 'db=shop?dbname=other' \
    --var 'want=in shop?dbname=other'
expect_rc 3 uri-other.out -- "$RB" run -p uri.toml --yes --var 'db=shop?dbname=other' --var 'want=in other'
pass "uri: 'shop?dbname=other' reads the database of that name, never other"

# host= / port= in a value never redirect the connection, nor send the password elsewhere.
for form in kv uri; do
    for v in "shop host=127.0.0.1 port=$FAKE_PORT" "shop?host=127.0.0.1&port=$FAKE_PORT" \
        "x' host='127.0.0.1' port='$FAKE_PORT"; do
        expect_rc 2 "$form-redirect.out" -- "$RB" run -p $form.toml --yes --var "db=$v"
        contains "$form-redirect.out" 'does not exist'
        lacks "$form-redirect.out" 'rb-scram-pw'
    done
done
[ ! -s fake.log ] || fail "a value redirected a connection to 127.0.0.1:$FAKE_PORT"
pass "host=/port= inside a value never redirect (no connection reached the listener)"

# plan shows the DSN as it will be used: the value quoted, the password masked.
expect_rc 2 plan.out -- "$RB" plan -p kv.toml --var 'db=shop dbname=other' # dropped above: preflight fails
contains plan.out "dbname='shop dbname=other'"
lacks plan.out 'rb-scram-pw'
pass "plan: the DSN with the value conninfo-quoted, the password masked"

# A reference in a parameter name's place cannot be one value: refused, located, nothing run.
sed -e 's|dbname={{db}}"|{{db}}"|' kv.toml >bad.toml
expect_rc 2 bad.out -- "$RB" validate bad.toml
contains bad.out 'bad.toml:8:7: error: step "q": {{db}} where a connection string takes a parameter name'
contains bad.out '{{db}} where a connection string takes a parameter name'
expect_rc 2 bad-run.out -- "$RB" run -p bad.toml --yes
pass "a reference where a parameter name stands: a located error, exit 2"
