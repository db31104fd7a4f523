#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: the engine's restore (rollback rehearse: create + pg_restore, the same code path as the
# pg_restore step's restore phase) against raw `pg_restore` of the same dump into a fresh database,
# then a full `pg_restore` step (side_swap + verification + reconciliation) through `rollback run`,
# with each phase's time from the step's result. Not run by CTest.
#   ROLLBACK   path of the binary (default: build/rollback)
#   SCALE      1.0 ≈ 1 GB database (default 1.0); orders = 3e6 × SCALE
#   RUNS       repetitions, median reported (default 3)
#   JOBS       pg_restore --jobs for both sides (default 2)
set -euo pipefail

ROLLBACK=${ROLLBACK:-$(dirname "$0")/../../build/rollback}
SCALE=${SCALE:-1.0}
RUNS=${RUNS:-3}
JOBS=${JOBS:-2}
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/pg_restore" ] || { echo "PostgreSQL 15 missing" >&2; exit 125; }
SRC=$(cd "$(dirname "$0")/../.." && pwd)

export PG_BASE=$(mktemp -d /tmp/rbbench.XXXXXX) PG_PORT=54377
WORK=$(mktemp -d /tmp/rbbench-work.XXXXXX)
trap 'bash "$SRC/tests/support/pg_throwaway.sh" destroy; rm -rf "$WORK"' EXIT
bash "$SRC/tests/support/pg_throwaway.sh" start
DSN="host=$PG_BASE port=$PG_PORT user=rollback"
psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE" -p "$PG_PORT" -U rollback "$@"; }
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

n_orders=$(awk -v s="$SCALE" 'BEGIN {printf "%d", 3000000 * s}')
n_customers=$((n_orders / 3))
n_products=$((n_orders / 30 + 1))
echo "generating shop: $n_customers customers, $n_products products, $n_orders orders, $((n_orders * 3)) items"
t0=$(now)
psql -d postgres -c "CREATE DATABASE shop"
psql -d shop <<SQL
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, name text, created_at timestamptz NOT NULL);
CREATE TABLE products (id bigint PRIMARY KEY, sku text NOT NULL UNIQUE, title text, price numeric(10,2) NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers(id),
                     status text NOT NULL, total numeric(12,2), created_at timestamptz NOT NULL);
CREATE TABLE order_items (order_id bigint NOT NULL REFERENCES orders(id), line int NOT NULL,
                          product_id bigint NOT NULL REFERENCES products(id), qty int NOT NULL,
                          price numeric(10,2) NOT NULL, PRIMARY KEY (order_id, line));
INSERT INTO customers SELECT g, 'c' || g || '@example.com', 'Customer ' || g, '2025-01-01'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, $n_customers) g;
INSERT INTO products SELECT g, 'SKU-' || g, 'Product number ' || g, (g % 997) + 0.99 FROM generate_series(1, $n_products) g;
INSERT INTO orders SELECT g, 1 + (g * 7919) % $n_customers, (ARRAY['paid','shipped','delivered'])[1 + g % 3],
  (g % 5000) / 10.0, '2025-06-01'::timestamptz + g * interval '10 seconds' FROM generate_series(1::bigint, $n_orders) g;
INSERT INTO order_items SELECT o, l, 1 + (o * 31 + l) % $n_products, 1 + (o + l) % 4, ((o + l) % 997) + 0.99
  FROM generate_series(1::bigint, $n_orders) o, generate_series(1, 3) l;
CREATE INDEX ON orders (customer_id);
CREATE INDEX ON orders (created_at);
CREATE INDEX ON order_items (product_id);
VACUUM ANALYZE;
SQL
size=$(psql -d shop -tAc "SELECT pg_size_pretty(pg_database_size('shop'))")
echo "generated in $(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.0f", b - a}') s: $size"

mkdir -p "$WORK/catalog"
t0=$(now)
"$ROLLBACK" backup --dsn "$DSN dbname=shop" --catalog "$WORK/catalog" --mark-good --tables orders,customers
echo "backup (pg_dump + counts + checksums + sha256 + TOC): $(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}') s"
dump=$(ls "$WORK"/catalog/*.dump)
echo "dump: $(du -h "$dump" | cut -f1)"

cat >"$WORK/bench.toml" <<TOML
[playbook]
name = "bench"

[[step]]
id = "restore-db"
phase = "database"
action = "pg_restore"
dsn = "$DSN dbname=shop"
catalog = "$WORK/catalog"
jobs = $JOBS
reconcile = [ { table = "orders", key = "id" } ]
TOML

raw=() eng=()
for i in $(seq 1 "$RUNS"); do
    psql -d postgres -c "DROP DATABASE IF EXISTS raw_$i" -c "CHECKPOINT"
    t0=$(now)
    psql -d postgres -c "CREATE DATABASE raw_$i TEMPLATE template0"
    "$BIN/pg_restore" --exit-on-error --jobs="$JOBS" -h "$PG_BASE" -p "$PG_PORT" -U rollback -d "raw_$i" "$dump"
    raw+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')")
    psql -d postgres -c "DROP DATABASE raw_$i" -c "CHECKPOINT"
    "$ROLLBACK" rehearse -p "$WORK/bench.toml" --state-dir "$WORK/state" >"$WORK/rehearse_$i.txt"
    eng+=("$(awk '$1 == "restore" {sub("s", "", $2); print $2}' "$WORK/rehearse_$i.txt")")
    echo "run $i: raw ${raw[-1]} s, engine ${eng[-1]} s"
done
raw_med=$(printf '%s\n' "${raw[@]}" | median)
eng_med=$(printf '%s\n' "${eng[@]}" | median)
echo "median of $RUNS: raw pg_restore $raw_med s, engine restore $eng_med s, ratio $(awk -v a="$eng_med" -v b="$raw_med" 'BEGIN {printf "%.3f", a / b}')"
cat "$WORK/rehearse_$RUNS.txt"

# The whole step once: 1000 orders placed after the backup, then side_swap + verify + reconcile.
psql -d shop -c "INSERT INTO orders SELECT g, 1, 'paid', 1, now() FROM generate_series($((n_orders + 1)), $((n_orders + 1000))) g"
if "$ROLLBACK" run -p "$WORK/bench.toml" --state-dir "$WORK/state" --yes >"$WORK/run.txt" 2>&1; then
    echo "full step via rollback run:"; cat "$WORK/run.txt"
    find "$WORK/state" -name 'orders.missing.csv' -exec sh -c 'echo "missing.csv rows: $(($(wc -l <"$1") - 1))"' _ {} \;
    grep -rhoE '"timings":\{[^}]*\}' "$WORK/state" | tail -1 || true
else
    echo "rollback run not available or failed:"; tail -5 "$WORK/run.txt"
fi
