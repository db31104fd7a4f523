#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's first command: a real Django shop breaks and `rollback` brings it back.
#
#   examples/ecommerce/demo.sh              install what is missing, build, break the shop, roll back
#   examples/ecommerce/demo.sh --dry-run    the same up to the rollback, then only its plan (preflight)
#   examples/ecommerce/demo.sh --rehearse   the same up to the rollback, then a restore rehearsal
#   examples/ecommerce/demo.sh --keep       keep the shop running and the files (prints how to look)
#
# On a fresh Debian 12 machine it installs the Debian packages it needs (scripts/install-deps.sh,
# through sudo when not root) and builds `rollback` (scripts/build.sh). ROLLBACK=/path/to/rollback
# skips the build; --no-install skips the package check.
#
# Everything else lives in one temp directory (/tmp/rollback-shop.XXXXXX): the shop's PostgreSQL
# cluster, its releases, supervisord with Nginx (TLS, a test CA), Gunicorn and a mail sink on
# 127.0.0.1, the backup catalog, the engine's state directory (journal, reconciliation CSVs) and the
# notifications the `notify` hook received. It is removed at the end, unless --keep.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
SHOP=$SRC/examples/ecommerce/shop.sh
PLAYBOOK=$SRC/playbooks/ecommerce.toml
MODE=run
KEEP=0
INSTALL=1

usage() { sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
    --dry-run) MODE=dry-run ;;
    --rehearse) MODE=rehearse ;;
    --keep) KEEP=1 ;;
    --no-install) INSTALL=0 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "demo.sh: unknown argument $1" >&2
        usage >&2
        exit 2
        ;;
    esac
    shift
done

STARTED=$(date +%s)
if [ -t 1 ]; then BOLD=$'\e[1m' DIM=$'\e[2m' OFF=$'\e[0m'; else BOLD='' DIM='' OFF=''; fi
SECTION=0
section() {
    SECTION=$((SECTION + 1))
    printf '\n%s==> %d. %s%s %s(+%ds)%s\n' "$BOLD" "$SECTION" "$*" "$OFF" "$DIM" "$(($(date +%s) - STARTED))" "$OFF"
}
say() { printf '    %s\n' "$*"; }
show() { # runs a command, echoing it first
    local quoted
    quoted=$(printf '%q ' "$@")
    printf '%s$ %s%s\n' "$DIM" "${quoted% }" "$OFF"
    "$@"
}

# --- 1. what the demo needs ------------------------------------------------------------------------
section "Debian packages and the rollback binary"
if [ "$INSTALL" = 1 ]; then
    show "$SRC/scripts/install-deps.sh"
fi
"$SHOP" check
if [ -z "${ROLLBACK:-}" ]; then
    say "building the binary (scripts/build.sh; several minutes the first time, seconds afterwards)"
    ROLLBACK=$(ROLLBACK_BUILD_TARGET=rollback "$SRC/scripts/build.sh")
fi
[ -x "$ROLLBACK" ] || {
    echo "demo.sh: $ROLLBACK is not an executable" >&2
    exit 1
}
say "rollback: $ROLLBACK"
RB() { show "$ROLLBACK" "$@"; }

# --- the temp directory -----------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/rollback-shop.XXXXXX)
chmod 755 "$WORK" # the PostgreSQL server user must reach the cluster under it
export SHOP_ROOT=$WORK/shop
SHOP_PORT=${SHOP_PORT:-$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
export SHOP_PORT
export SHOP_BACKUP_CATALOG=$WORK/backups
export NOTIFY_FILE=$WORK/notifications.jsonl
STATE=$WORK/state
mkdir -p "$SHOP_BACKUP_CATALOG"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

cleanup() {
    local rc=$?
    if [ "$KEEP" = 1 ]; then
        printf '\nKept: %s (shop at https://127.0.0.1:%s/, CA %s)\n' "$WORK" "$SHOP_PORT" "$SHOP_ROOT/tls/ca.pem"
        printf '  SHOP_ROOT=%s %s status\n' "$SHOP_ROOT" "$SHOP"
        printf '  %s status --state-dir %s\n' "$ROLLBACK" "$STATE"
        printf '  remove it: SHOP_ROOT=%s %s destroy && rm -rf %s\n' "$SHOP_ROOT" "$SHOP" "$WORK"
    else
        "$SHOP" destroy >/dev/null 2>&1 || true
        rm -rf "$WORK"
    fi
    if [ "$rc" -ne 0 ] && [ -f "$SHOP_ROOT/log/shop.err.log" ]; then
        echo "--- shop.err.log (tail)" >&2
        tail -n 20 "$SHOP_ROOT/log/shop.err.log" >&2 || true
    fi
    printf '\n%sdemo finished in %ds (exit %d)%s\n' "$BOLD" "$(($(date +%s) - STARTED))" "$rc" "$OFF"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 2. the good release ----------------------------------------------------------------------------
section "The shop on release v1 (PostgreSQL 15; Nginx with TLS, Gunicorn, a mail sink under supervisord) in $WORK"
show "$SHOP" setup
show "$SHOP" deploy v1
show "$SHOP" seed
set -a
# shellcheck disable=SC1090
. <("$SHOP" env) # SHOP_ROOT SHOP_URL SHOP_DSN SHOP_SUPERVISOR_CONF SHOP_CA_FILE SHOP_MAILDIR (playbook's [vars])
set +a
say "customers place orders:"
show "$SHOP" order 3
show "$SHOP" prices

# --- 3. the backup the deploy pipeline takes before deploying ------------------------------------------
section "A verified backup before deploying v2 (marked good)"
RB backup --dsn "$SHOP_DSN" --catalog "$SHOP_BACKUP_CATALOG" --release v1 --mark-good
RB backup verify --catalog "$SHOP_BACKUP_CATALOG" --restore-test --dsn "$SHOP_DSN"

# --- 4. the bad release -------------------------------------------------------------------------------
section "Deploy v2: its migration rewrites the prices, its checkout fails every second order"
show "$SHOP" deploy v2
# The monitor's configuration: Nginx's access log and the health page over HTTPS, the checklist's rule.
CONFIG=$WORK/rollback.toml
cat >"$CONFIG" <<TOML
[target]
name = "shop"
state_dir = "$STATE"

[source.web]
kind = "access_log"
path = "$SHOP_ROOT/log/access.log"
# Nginx's log_format (shop.sh writes it): combined, then \$request_time and \$upstream_response_time
format = '\$remote_addr - \$remote_user [\$time_local] "\$request" \$status \$body_bytes_sent "\$http_referer" "\$http_user_agent" \$request_time \$upstream_response_time'
interval = "1s"
# Nginx writes a line when the request ends, stamped at that moment: lines come in time order,
# so the conditions may judge up to now (a line that still came late would be reported).
max_lateness = "0s"

[source.health]
kind = "http"
url = "$SHOP_URL/health/"
ca_file = "$SHOP_CA_FILE"
timeout = "2s"

[[condition]]
name = "checkout-errors"
signal = "web.error_rate"
window = "5m"
above = 0.05
min_requests = 10
severity = "critical"

[[condition]]
name = "site-down"
signal = "health.downtime"
above = "15m"
severity = "critical"

[decision]
mode = "auto"
playbook = "$PLAYBOOK"
cooldown = "1h"
watch_after = "30m"
TOML
RB deployed -c "$CONFIG" --release v2
show "$SHOP" prices
# Enough of them for the rule's min_requests = 10: v2 is judged only on requests made after its
# deploy marker (docs/decision.md "A new release is judged on its own samples").
say "customers keep ordering (these orders are newer than the backup):"
set +e
show "$SHOP" order 12
order_rc=$?
set -e
say "shop.sh order exit code: $order_rc (some checkouts answered HTTP 500)"
say "Nginx's access log, last 4 checkouts (status, request time, upstream time in seconds):"
grep 'POST /api/checkout/' "$SHOP_ROOT/log/access.log" | tail -n 4 | awk '{print "      " $9, $(NF-1), $NF}'

case "$MODE" in
dry-run)
    section "Dry run: the rollback's plan and preflight (nothing changes)"
    RB run -p "$PLAYBOOK" --state-dir "$STATE" --dry-run --severity critical --reason "checkout errors after v2"
    section "The shop is still on v2 (a dry run changes nothing)"
    show curl -sS --noproxy '*' --cacert "$SHOP_CA_FILE" "$SHOP_URL/health/"
    echo
    exit 0
    ;;
rehearse)
    section "Rehearsal: restore the backup into a scratch database, verify it, drop it"
    RB rehearse -p "$PLAYBOOK" --state-dir "$STATE"
    section "Production was only read: still v2, prices still wrong"
    show curl -sS --noproxy '*' --cacert "$SHOP_CA_FILE" "$SHOP_URL/health/"
    echo
    show "$SHOP" prices
    exit 0
    ;;
esac

# --- 5. the decision and the rollback -------------------------------------------------------------------
section "rollback check: the conditions over the access log and the health page"
sleep 1.2 # the last second of log lines is complete
set +e
RB check -c "$CONFIG"
check_rc=$?
set -e
say "rollback check exit code: $check_rc (5 = a rollback is recommended)"
[ "$check_rc" -eq 5 ] || {
    echo "demo.sh: the check did not recommend a rollback (exit $check_rc)" >&2
    exit 1
}

section "rollback monitor --once: the decision starts playbooks/ecommerce.toml (mode auto)"
RB monitor -c "$CONFIG" --once
RUN_ID=$(basename "$(ls -t "$STATE"/runs/*.jsonl | head -n 1)" .jsonl)

# --- 6. what the on-call engineer checks -------------------------------------------------------------
section "v1 is serving again"
show curl -sS --noproxy '*' --cacert "$SHOP_CA_FILE" "$SHOP_URL/health/"
echo
show readlink "$SHOP_ROOT/current"

section "The checklist's verification, by hand: static files from Nginx, the admin, the order mail"
show curl -sS --noproxy '*' --cacert "$SHOP_CA_FILE" -o /dev/null -w '%{http_code} %{content_type}\n' "$SHOP_URL/static/shop/shop.css"
show curl -sS --noproxy '*' --cacert "$SHOP_CA_FILE" -o /dev/null -w '%{http_code} %{content_type}\n' "$SHOP_URL/admin/login/"
say "the smoke order's confirmation, as the mail sink received it:"
grep -h '^Subject: ' "$(ls -t "$SHOP_MAILDIR"/new/* | head -n 1)" | sed 's/^/      /'

section "The price data is back"
show "$SHOP" prices

section "Orders placed after the backup (reconciliation export, to re-enter or refund)"
for f in "$STATE/runs/$RUN_ID/reconcile/shop_order.missing.csv" \
    "$STATE/runs/$RUN_ID/reconcile/shop_order_item.missing.csv"; do
    show cat "$f"
done
say "the v2 database is kept as shop_rolledback_* until someone drops it:"
show "$SHOP" psql -At -c "SELECT datname FROM pg_database WHERE datname LIKE 'shop%' ORDER BY 1"

section "What the notify hook sent (NOTIFY_FILE)"
/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    print("    %-12s %-14s %-10s %s" % (e["event"], e["step"] or "-", e["status"], e.get("summary", "")))
' "$NOTIFY_FILE"

section "The run report (from the journal)"
RB report "$RUN_ID" --state-dir "$STATE"

section "Why it ran: the decision behind the run, with its numbers"
RB explain -c "$CONFIG" "$RUN_ID"
