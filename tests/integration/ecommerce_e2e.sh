#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's scenario end to end, with assertions: the example shop (examples/ecommerce) on v1,
# a verified good backup, v2 deployed (prices rewritten, every second checkout HTTP 500), orders
# after the backup, then `rollback run -p playbooks/ecommerce.toml` must bring back v1 with the
# backed-up prices, export exactly the post-backup orders, tell the notify hook in order, and
# reopen the shop — verified as the checklist says: over HTTPS through Nginx (the shop's test CA),
# static files, the admin, a login, an order and its confirmation mail. Then the failure paths: a verification that fails ends with exit 3 and the shop
# still closed (logins and orders off); a failed smoke order closes the shop again (exit 3). Last,
# the partial rollbacks: playbooks/database-only.toml and playbooks/code-only.toml.
set -euo pipefail

SRC=${ROLLBACK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SHOP=$SRC/examples/ecommerce/shop.sh
PLAYBOOK=$SRC/playbooks/ecommerce.toml
PY=/usr/bin/python3
ROLLBACK=${ROLLBACK:-$SRC/build/rollback}
[ -x "$ROLLBACK" ] || {
    echo "FAIL: no rollback binary at $ROLLBACK (set ROLLBACK)" >&2
    exit 1
}
if ! missing=$("$SHOP" check 2>&1); then
    echo "SKIP: $missing"
    exit 125
fi
command -v curl >/dev/null || {
    echo "SKIP: curl is missing (apt-get install curl)"
    exit 125
}

WORK=$(mktemp -d /tmp/ecommerce_e2e.XXXXXX)
chmod 755 "$WORK" # the PostgreSQL server user must reach $WORK/shop/pg
export SHOP_ROOT=$WORK/shop
SHOP_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export SHOP_PORT
export SHOP_WORKERS=1 # each restart imports Django once per worker: one is enough here
export SHOP_BACKUP_CATALOG=$WORK/backups
export NOTIFY_FILE=$WORK/notify.jsonl
unset NOTIFY_WEBHOOK_URL NOTIFY_EMAIL PAGE_WEBHOOK_URL SHOP_EXPECT_RELEASE SHOP_EXPECT_PRICES
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
mkdir -p "$SHOP_BACKUP_CATALOG"
cleanup() {
    "$SHOP" destroy >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    if [ -f "$SHOP_ROOT/log/shop.err.log" ]; then
        echo "--- shop.err.log (tail)" >&2
        tail -n 20 "$SHOP_ROOT/log/shop.err.log" >&2
    fi
    exit 1
}
pass() { echo "ok: $*"; }
expect_eq() { # WHAT ACTUAL EXPECTED
    [ "$2" = "$3" ] || fail "$1: expected [$3], got [$2]"
}
sql() { "$SHOP" psql -At -c "$1"; }
switches() { sql "SELECT string_agg(name || '=' || enabled, ',' ORDER BY name) FROM shop_switch"; }
health() { curl -sS --noproxy '*' -m 10 --cacert "$SHOP_CA_FILE" "$SHOP_URL/health/"; }
# rollback with its exit code in $rc and its output in $WORK/<name>.out
rb() { # NAME ARGS...
    local name=$1
    shift
    set +e
    "$ROLLBACK" "$@" >"$WORK/$name.out" 2>&1
    rc=$?
    set -e
}
# "event/step/status" per line of the notify hook's file
notified() { "$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    print("%s/%s/%s" % (e["event"], e["step"], e["status"]))
' "$NOTIFY_FILE"; }

SEEDED="MUG-1=12.50,NOTE-1=4.75,TEE-1=19.99"
prices() { sql "SELECT string_agg(sku || '=' || price, ',' ORDER BY sku) FROM shop_product"; }

# --- the good release, its backup, the bad release ------------------------------------------------
"$SHOP" setup >/dev/null
"$SHOP" deploy v1 >/dev/null
"$SHOP" seed >/dev/null
set -a
# shellcheck disable=SC1090
. <("$SHOP" env) # SHOP_ROOT SHOP_URL SHOP_DSN SHOP_SUPERVISOR_CONF SHOP_CA_FILE SHOP_MAILDIR (playbooks)
set +a
before=$("$SHOP" order 3 2>/dev/null | tr '\n' ' ')
expect_eq "orders on v1" "$before" "1 2 3 "
expect_eq "seeded prices" "$(prices)" "$SEEDED"

rb backup backup --dsn "$SHOP_DSN" --catalog "$SHOP_BACKUP_CATALOG" --release v1 --mark-good
expect_eq "rollback backup exit code" "$rc" 0
grep -q 'verified, marked good' "$WORK/backup.out" || fail "backup not verified and good: $(cat "$WORK/backup.out")"
pass "v1 serving, 3 orders, verified good backup"

"$SHOP" deploy v2 >/dev/null
expect_eq "prices on v2" "$(prices)" "MUG-1=1250.00,NOTE-1=475.00,TEE-1=1999.00"
set +e
"$SHOP" order 4 >"$WORK/after.ids" 2>"$WORK/after.err"
order_rc=$?
set -e
expect_eq "shop.sh order 4 on v2 exit code" "$order_rc" 1
after=$(sort -n "$WORK/after.ids" | tr '\n' ' ')
expect_eq "orders placed after the backup" "$after" "4 6 "
expect_eq "HTTP 500s on v2" "$(grep -c 'HTTP 500' "$WORK/after.err")" 2
health | grep -q '"release":"v2"' || fail "v2 is not serving"
pass "v2 serving with rewritten prices, orders 4 and 6 placed after the backup, 2 checkouts failed"

# --- the dry run changes nothing ----------------------------------------------------------------------
STATE=$WORK/state
rb dry run -p "$PLAYBOOK" --state-dir "$STATE" --dry-run --severity critical --reason "checkout errors after v2"
expect_eq "dry run exit code" "$rc" 0
grep -q 'Runnable: yes' "$WORK/dry.out" || fail "dry run not runnable: $(cat "$WORK/dry.out")"
expect_eq "current after the dry run" "$(readlink "$SHOP_ROOT/current")" "releases/v2"
expect_eq "prices after the dry run" "$(prices)" "MUG-1=1250.00,NOTE-1=475.00,TEE-1=1999.00"
[ ! -s "$NOTIFY_FILE" ] || fail "the dry run notified: $(cat "$NOTIFY_FILE")"
pass "dry run: runnable, nothing changed, nobody notified"

# --- the rollback -----------------------------------------------------------------------------------
rb run run -p "$PLAYBOOK" --state-dir "$STATE" --yes --severity critical --reason "checkout errors after v2"
[ "$rc" = 0 ] || fail "rollback run exit code $rc: $(tail -n 40 "$WORK/run.out")"
run_id=$(sed -n 's/^run id: //p' "$WORK/run.out" | head -n 1)
[ -n "$run_id" ] || fail "no run id in the output"

body=$(health)
case $body in
*'"status":"ok","release":"v1","database":"ok"'*) ;;
*) fail "/health/ after the rollback: $body" ;;
esac
expect_eq "current after the rollback" "$(readlink "$SHOP_ROOT/current")" "releases/v1"
expect_eq "prices after the rollback" "$(prices)" "$SEEDED"
expect_eq "switches after the rollback" "$(switches)" "logins_enabled=true,orders_enabled=true"
pass "v1 serving (/health/ ok), seeded prices back, logins and orders open again"

# The restored database has the backup's orders plus the smoke test's one, taken by v1 at 12.50.
expect_eq "orders in the restored database" \
    "$(sql "SELECT string_agg(id || ':' || release || ':' || total, ' ' ORDER BY id) FROM shop_order")" \
    "1:v1:12.50 2:v1:4.75 3:v1:19.99 4:v1:12.50"

recon=$STATE/runs/$run_id/reconcile
[ -f "$recon/shop_order.missing.csv" ] || fail "no reconciliation export in $recon"
expect_eq "reconciliation header" "$(head -n 1 "$recon/shop_order.missing.csv")" "id,created_at,total,release,user_id"
expect_eq "orders in the reconciliation export" "$(tail -n +2 "$recon/shop_order.missing.csv" | cut -d, -f1 | tr '\n' ' ')" "$after"
expect_eq "their releases and totals" "$(tail -n +2 "$recon/shop_order.missing.csv" | cut -d, -f3,4 | tr '\n' ' ')" \
    "1250.00,v2 2474.00,v2 "
expect_eq "order items in the export (order ids)" \
    "$(tail -n +2 "$recon/shop_order_item.missing.csv" | cut -d, -f4 | sort -n | uniq | tr '\n' ' ')" "$after"
expect_eq "changed orders" "$(tail -n +2 "$recon/shop_order.changed.csv" | wc -l)" 0
rolled=$(sql "SELECT datname FROM pg_database WHERE datname LIKE 'shop_rolledback_%'")
[ -n "$rolled" ] || fail "the rolled-back database was not kept"
expect_eq "prices kept in $rolled" \
    "$(/usr/lib/postgresql/15/bin/psql -X -At "${SHOP_DSN/dbname=shop/dbname=$rolled}" \
        -c "SELECT string_agg(sku || '=' || price, ',' ORDER BY sku) FROM shop_product")" \
    "MUG-1=1250.00,NOTE-1=475.00,TEE-1=1999.00"
pass "reconciliation export lists exactly orders $after(and their items); v2's database kept as $rolled"

expect_eq "notify events" "$(notified | tr '\n' ' ')" \
    "step/notify-start/running step/notify-done/running on-success//succeeded "
grep -q '"severity": *"critical"' "$NOTIFY_FILE" || fail "the notify events do not carry the severity"
grep -q 'checkout errors after v2' "$NOTIFY_FILE" || fail "the notify events do not carry the reason"
pass "notify hook got: start, done, success (with reason and severity)"

rb report report "$run_id" --state-dir "$STATE"
expect_eq "report exit code" "$rc" 0
for step in notify-start disable-logins stop-orders restore-db logins-off-again orders-off-again revert-code \
    restart-gunicorn verify-health verify-static verify-admin verify-prices verify-closed verify-order \
    enable-logins-orders notify-done; do
    grep -Eq "^  $step +[a-z]+ +succeeded" "$WORK/report.out" || fail "report: step $step did not succeed: $(cat "$WORK/report.out")"
done
grep -q "run $run_id: succeeded" "$WORK/report.out" || fail "report: run not succeeded"
expect_eq "releases marked bad" "$("$PY" -c '
import json, sys
print(" ".join(b["release"] + ":" + b["run_id"] + ":" + b["switched_to"] for b in json.load(open(sys.argv[1]))["bad_releases"]))
' "$STATE/releases.json")" "v2:$run_id:v1"
if grep -qF "$SHOP_DSN" "$WORK/run.out" "$WORK/report.out" "$STATE/runs/$run_id.jsonl" "$NOTIFY_FILE"; then
    fail "the DSN (declared secret) appears unmasked"
fi
grep -q 'order mail received: Subject: Order 4 confirmed' "$STATE/runs/$run_id.jsonl" ||
    fail "verify-order did not see the order mail: $(grep verify-order "$STATE/runs/$run_id.jsonl" | tail -n 2)"
pass "report: every step succeeded (HTTPS, static, admin, login, order, mail); v2 marked bad by this run; the DSN is masked"

# --- a verification that fails: exit 3, the shop left closed ---------------------------------------------
# v2 again, then a rollback whose price check expects other prices than the backup's.
"$SHOP" deploy v2 >/dev/null
: >"$NOTIFY_FILE"
STATE2=$WORK/state2
rb bad run -p "$PLAYBOOK" --state-dir "$STATE2" --yes --severity critical --reason "v2 again" \
    --var "expect_prices=MUG-1=9.99,NOTE-1=4.75,TEE-1=19.99"
expect_eq "exit code of a run whose verification failed" "$rc" 3
grep -q 'verification_failed' "$WORK/bad.out" || fail "the run output does not say verification_failed: $(tail -n 30 "$WORK/bad.out")"
expect_eq "switches after the failed verification" "$(switches)" "logins_enabled=false,orders_enabled=false"
set +e
login=$(curl -sS --noproxy '*' -m 10 --cacert "$SHOP_CA_FILE" -o /dev/null -w '%{http_code}' -d username=demo -d password=demo "$SHOP_URL/api/login/")
set -e
expect_eq "a customer login while closed" "$login" 503
expect_eq "release serving after the failed verification" "$(readlink "$SHOP_ROOT/current")" "releases/v1"
expect_eq "prices after the failed verification (the backup's)" "$(prices)" "$SEEDED"
notified >"$WORK/bad.events"
expect_eq "notify events of the failed run" "$(tr '\n' ' ' <"$WORK/bad.events")" \
    "step/notify-start/running step/notify-done/running on-failure/verify-prices/verification_failed "
bad_id=$(sed -n 's/^run id: //p' "$WORK/bad.out" | head -n 1)
rb badreport report "$bad_id" --state-dir "$STATE2"
grep -Eq '^  verify-prices +verify +verification_failed' "$WORK/badreport.out" ||
    fail "report does not show verify-prices as verification_failed: $(cat "$WORK/badreport.out")"
if grep -Eq '^  enable-logins-orders +[a-z]+ +succeeded' "$WORK/badreport.out"; then
    fail "enable-logins-orders ran after a failed verification: $(cat "$WORK/badreport.out")"
fi
pass "failed verification: exit 3, logins and orders still off (login answers 503), reported"

# --- a smoke order that fails closes the shop again --------------------------------------------------
rb smoke run -p "$PLAYBOOK" --state-dir "$STATE2" --yes --only verify-order --reason "smoke" \
    --var smoke_total=99.99
expect_eq "exit code of a failed smoke order" "$rc" 3
grep -q 'logins and orders switched off again' "$WORK/smoke.out" "$STATE2"/runs/*.jsonl ||
    fail "the smoke test did not report closing the shop: $(tail -n 30 "$WORK/smoke.out")"
expect_eq "switches after the failed smoke order" "$(switches)" "logins_enabled=false,orders_enabled=false"
pass "failed smoke order: exit 3 (verification failed), logins and orders switched off again"

# --- the partial rollbacks ---------------------------------------------------------------------------
# v2 again: its migration rewrites the prices of the restored database.
"$SHOP" deploy v2 >/dev/null
expect_eq "prices on v2 again" "$(prices)" "MUG-1=1250.00,NOTE-1=475.00,TEE-1=1999.00"
STATE3=$WORK/state3
rb dbonly run -p "$SRC/playbooks/database-only.toml" --state-dir "$STATE3" --yes --severity critical \
    --reason "prices rewritten"
[ "$rc" = 0 ] || fail "database-only exit code $rc: $(tail -n 40 "$WORK/dbonly.out")"
expect_eq "prices after database-only" "$(prices)" "$SEEDED"
expect_eq "current after database-only (code untouched)" "$(readlink "$SHOP_ROOT/current")" "releases/v2"
health | grep -q '"release":"v2","database":"ok"' || fail "after database-only: $(health)"
expect_eq "switches after database-only" "$(switches)" "logins_enabled=true,orders_enabled=true"
pass "database-only: prices restored, v2 code still serving, shop open again"

rb codeonly run -p "$SRC/playbooks/code-only.toml" --state-dir "$STATE3" --yes --reason "checkout errors"
[ "$rc" = 0 ] || fail "code-only exit code $rc: $(tail -n 40 "$WORK/codeonly.out")"
expect_eq "current after code-only" "$(readlink "$SHOP_ROOT/current")" "releases/v1"
health | grep -q '"release":"v1","database":"ok"' || fail "after code-only: $(health)"
if grep -q 'pg_restore\|restore-db' "$WORK/codeonly.out"; then
    fail "code-only touched the database: $(cat "$WORK/codeonly.out")"
fi
pass "code-only: v1 serving again, database untouched"

echo "PASS: ecommerce end to end"
