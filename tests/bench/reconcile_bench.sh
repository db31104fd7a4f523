#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: reconciliation after a side_swap restore, before vs after. Generates the shop of
# pg_restore_bench.sh (3 M orders at SCALE=1), backs it up, then changes it as clients would after a
# backup (1000 new orders, 100 changed, 10 deleted) and runs one pg_restore step with
# `reconcile = [{table = "orders", key = "id"}]` through `rollback run` under /usr/bin/time -v, once
# per binary given. Reports each phase's time (the step's `timings`), the reconciliation's share of
# the restore time, the peak resident memory of the rollback process (time -v: its own and its
# waited-for children's maximum; pg_restore's is a few MB) and checks the exported CSVs.
# Not run by CTest.
#   BINARIES   space-separated rollback binaries to compare (default: build/rollback)
#   SCALE      orders = 3e6 × SCALE (default 1.0)
#   JOBS       pg_restore --jobs (default 2)
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BINARIES=${BINARIES:-$SRC/build/rollback}
SCALE=${SCALE:-1.0}
JOBS=${JOBS:-2}
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/pg_restore" ] || { echo "PostgreSQL 15 missing" >&2; exit 125; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing" >&2; exit 125; }

export PG_BASE=$(mktemp -d /tmp/rbrec.XXXXXX) PG_PORT=54378
WORK=$(mktemp -d /tmp/rbrec-work.XXXXXX)
trap 'bash "$SRC/tests/support/pg_throwaway.sh" destroy; rm -rf "$WORK"' EXIT
bash "$SRC/tests/support/pg_throwaway.sh" start
DSN="host=$PG_BASE port=$PG_PORT user=rollback"
psql() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE" -p "$PG_PORT" -U rollback "$@"; }
now() { date +%s.%N; }

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
echo "generated in $(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.0f", b - a}') s: $(psql -d shop -tAc "SELECT pg_size_pretty(pg_database_size('shop'))")"

first=${BINARIES%% *}
mkdir -p "$WORK/catalog"
"$first" backup --dsn "$DSN dbname=shop" --catalog "$WORK/catalog" --mark-good --tables orders,customers >/dev/null

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

i=0
for bin in $BINARIES; do
    i=$((i + 1))
    # What clients did after the backup; the swap puts the backup back, so each run starts equal.
    psql -d shop -c "INSERT INTO orders SELECT g, 1, 'paid', 1, '2026-12-01T10:00:00Z' FROM generate_series($((n_orders + 1)), $((n_orders + 1000))) g" \
        -c "UPDATE orders SET status = 'refunded' WHERE id % $((n_orders / 100)) = 7" \
        -c "DELETE FROM order_items WHERE order_id IN (SELECT id FROM orders WHERE id % $((n_orders / 10)) = 3)" \
        -c "DELETE FROM orders WHERE id % $((n_orders / 10)) = 3" -c "CHECKPOINT"
    state="$WORK/state_$i"
    /usr/bin/time -v "$bin" run -p "$WORK/bench.toml" --state-dir "$state" --yes >"$WORK/run_$i.txt" 2>"$WORK/time_$i.txt" ||
        { echo "$bin: run failed"; cat "$WORK/run_$i.txt" "$WORK/time_$i.txt"; exit 1; }
    rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time_$i.txt")
    cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "user %.1f s, sys %.1f s", u, s}' "$WORK/time_$i.txt")
    timings=$(grep -rhoE '"timings":\{[^}]*\}' "$state" | tail -1)
    restore_s=$(grep -oE '"restore_s":[0-9.eE+-]+' <<<"$timings" | cut -d: -f2)
    reconcile_s=$(grep -oE '"reconcile_s":[0-9.eE+-]+' <<<"$timings" | cut -d: -f2)
    dir=$(dirname "$(find "$state" -name orders.missing.csv)")
    echo "== $bin"
    echo "   $timings"
    echo "   rollback process (whole run, its children included): $cpu"
    printf '   restore %.1f s, reconcile %.1f s (%.2f x restore), peak RSS %.0f MB\n' \
        "$restore_s" "$reconcile_s" "$(awk -v a="$reconcile_s" -v b="$restore_s" 'BEGIN {print a / b}')" \
        "$(awk -v k="$rss_kb" 'BEGIN {print k / 1024}')"
    echo "   missing.csv rows: $(($(wc -l <"$dir/orders.missing.csv") - 1)), changed.csv rows: $(($(wc -l <"$dir/orders.changed.csv") - 1))"
    sha256sum "$dir/orders.missing.csv" "$dir/orders.changed.csv" | sed 's|  .*/|  |; s|^|   |'
    # The rolled-back database is no longer needed.
    for db in $(psql -d postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'shop\\_rolledback\\_%'"); do
        psql -d postgres -c "DROP DATABASE $db"
    done
done
