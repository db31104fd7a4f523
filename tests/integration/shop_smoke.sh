#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The example shop (examples/ecommerce) end to end, without the engine: a throwaway cluster,
# Nginx terminating TLS (the shop's test CA verifies, an unknown CA does not) in front of Gunicorn,
# static files and the admin served, its access log with request and upstream times, order mail
# delivered to the SMTP sink, release v1 good (health, prices, orders, operator switches), release
# v2 bad (prices rewritten by its migration, every second checkout HTTP 500, slow), v1 code running
# again on v2's database after a symlink switch + supervisorctl restart, and a destroy that leaves
# nothing behind (no process listening, nothing under /var/log/nginx written).
set -euo pipefail

SRC=${ROLLBACK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SHOP=$SRC/examples/ecommerce/shop.sh
PY=/usr/bin/python3
if ! "$SHOP" check 2>/tmp/shop_smoke.check.$$; then
    echo "SKIP: $(cat /tmp/shop_smoke.check.$$)"
    rm -f /tmp/shop_smoke.check.$$
    exit 125
fi
rm -f /tmp/shop_smoke.check.$$

WORK=$(mktemp -d /tmp/shop_smoke.XXXXXX)
chmod 755 "$WORK" # the PostgreSQL server user must reach $WORK/shop/pg
export SHOP_ROOT=$WORK/shop
SHOP_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export SHOP_PORT
export SHOP_WORKERS=1 # each (re)start imports Django once per worker: one is enough here
cleanup() {
    "$SHOP" destroy >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

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

# GET/POST with a cookie jar shared by the calls of one test: prints "<status> <body>".
cat >"$WORK/req.py" <<'EOF'
import http.cookiejar, os, sys, urllib.error, urllib.parse, urllib.request
jar_file, method, url = sys.argv[1], sys.argv[2], sys.argv[3]
form = dict(a.split("=", 1) for a in sys.argv[4:])
jar = http.cookiejar.LWPCookieJar(jar_file)
if os.path.exists(jar_file):
    jar.load(ignore_discard=True)
import ssl
ctx = ssl.create_default_context(cafile=os.environ["SHOP_CA_FILE"])
op = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx),
                                 urllib.request.HTTPCookieProcessor(jar))
data = urllib.parse.urlencode(form).encode() if method == "POST" else None
try:
    with op.open(urllib.request.Request(url, data=data), timeout=20) as r:
        status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
jar.save(ignore_discard=True)
print(status, body.decode())
EOF
http() { "$PY" "$WORK/req.py" "$WORK/cookies" "$@"; }
URL=https://127.0.0.1:$SHOP_PORT
export SHOP_CA_FILE=$SHOP_ROOT/tls/ca.pem
var_log_before=$(ls -l --time-style=+%s.%N /var/log/nginx 2>/dev/null || true)

# --- v1: the good release --------------------------------------------------------------------
start=$SECONDS
"$SHOP" setup 2>/dev/null
"$SHOP" deploy v1 2>/dev/null
"$SHOP" seed >/dev/null 2>&1
pass "setup + deploy v1 + seed in $((SECONDS - start)) s"

# --- the stack: Nginx with TLS from the test CA, static files, admin, its access log, the mail sink
expect_eq "shop.sh url" "$("$SHOP" url)" "$URL"
expect_eq "TLS verified with the shop's CA" \
    "$(curl -sS --noproxy '*' --cacert "$SHOP_CA_FILE" -o /dev/null -w '%{http_code}' "$URL/health/")" 200
if curl -sS --noproxy '*' --cacert /etc/ssl/certs/ca-certificates.crt -o /dev/null "$URL/health/" 2>"$WORK/tls.err"; then
    fail "the shop's certificate verified without its CA"
fi
grep -qi 'certificate' "$WORK/tls.err" || fail "no certificate error: $(cat "$WORK/tls.err")"
expect_eq "certificate names" "$(openssl x509 -in "$SHOP_ROOT/tls/server.pem" -noout -ext subjectAltName | tail -n 1 | tr -d ' ')" \
    "IPAddress:127.0.0.1,DNS:localhost"
expect_eq "static file from Nginx" \
    "$(curl -sS --noproxy '*' --cacert "$SHOP_CA_FILE" -D - -o "$WORK/css" "$URL/static/shop/shop.css" | tr -d '\r' | grep -i '^x-served-by:')" \
    "X-Served-By: nginx"
grep -q 'shop stylesheet' "$WORK/css" || fail "shop.css: $(head -c 200 "$WORK/css")"
expect_eq "admin static (collectstatic)" \
    "$(curl -sS --noproxy '*' --cacert "$SHOP_CA_FILE" -o /dev/null -w '%{http_code}' "$URL/static/admin/css/base.css")" 200
http GET "$URL/admin/login/" >"$WORK/admin"
[ "$(head -c 4 "$WORK/admin")" = "200 " ] && grep -q 'Django administration' "$WORK/admin" ||
    fail "admin login page: $(head -c 200 "$WORK/admin")"
# Nginx runs the shop's own files, never Debian's: prefix, pid, logs under $SHOP_ROOT; unprivileged.
nginx_pid=$(cat "$SHOP_ROOT/nginx/nginx.pid")
kill -0 "$nginx_pid" || fail "no nginx at pid $nginx_pid"
[ "$(ps -o user= -p "$nginx_pid")" != root ] || fail "nginx runs as root"
expect_eq "Debian's /var/log/nginx untouched" "$(ls -l --time-style=+%s.%N /var/log/nginx 2>/dev/null || true)" "$var_log_before"
last=$(grep '"GET /admin/login/ HTTP/1.1" 200 ' "$SHOP_ROOT/log/access.log" | tail -n 1)
[[ "$last" =~ \ [0-9]+\.[0-9]{3}\ [0-9]+\.[0-9]{3}$ ]] || fail "access log: no request and upstream times: $last"
[[ "$(grep '"GET /static/shop/shop.css' "$SHOP_ROOT/log/access.log" | tail -n 1)" =~ \ [0-9]+\.[0-9]{3}\ -$ ]] ||
    fail "a static file has no upstream time: $(grep shop.css "$SHOP_ROOT/log/access.log")"
pass "Nginx: TLS from the test CA only, static files and the admin served, request + upstream times logged, not root"

expect_eq "health on v1" "$(http GET "$URL/health/")" \
    '200 {"status":"ok","release":"v1","database":"ok","products":3,"logins_enabled":true,"orders_enabled":true}'
expect_eq "current" "$(readlink "$SHOP_ROOT/current")" "releases/v1"
grep -qx 'SHOP_RELEASE=v1' "$SHOP_ROOT/releases/v1/config/settings.env" || fail "v1 has no config snapshot"
cmp -s "$SHOP_ROOT/shared/config/shop.env" "$SHOP_ROOT/releases/v1/.rollback-config/shared/config/shop.env" ||
    fail "v1 has no snapshot of shared/config/shop.env"
expect_eq "REVISION" "$(cat "$SHOP_ROOT/releases/v1/REVISION")" v1
grep -Eq '^[0-9-]+T[0-9:]+Z deploy v1$' "$SHOP_ROOT/deploys.log" || fail "deploys.log: $(cat "$SHOP_ROOT/deploys.log")"
expect_eq "dsn" "$("$SHOP" dsn)" "host=$(. "$SHOP_ROOT/state.env" && echo "$SHOP_RUN")/pg port=5432 user=shop dbname=shop"
V1_PRICES=$'MUG-1 12.50\nNOTE-1 4.75\nTEE-1 19.99'
expect_eq "v1 prices" "$("$SHOP" prices)" "$V1_PRICES"

ids=$("$SHOP" order 3 2>"$WORK/order.err") || fail "order 3 on v1: $(cat "$WORK/order.err")"
expect_eq "order ids on v1" "$(echo "$ids" | wc -l)" 3
expect_eq "orders in the database" "$(sql "SELECT count(*), min(release), max(release) FROM shop_order")" "3|v1|v1"
expect_eq "prices captured in the order items" \
    "$(sql "SELECT string_agg(unit_price::text, ' ' ORDER BY id) FROM shop_order_item")" "12.50 4.75 19.99"
expect_eq "order mails in the sink" "$(grep -h '^Subject: ' "$SHOP_ROOT"/mail/new/* | sort)" \
    $'Subject: Order 1 confirmed\nSubject: Order 2 confirmed\nSubject: Order 3 confirmed'
grep -q '^Total: 19.99$' "$(grep -l '^Subject: Order 3 confirmed' "$SHOP_ROOT"/mail/new/*)" || fail "order 3's mail has no total"
pass "v1 healthy, prices known, 3 orders placed, 3 order mails delivered"

# --- operator switches (what the playbook's first steps flip with SQL) ------------------------
sql "UPDATE shop_switch SET enabled = false WHERE name = 'logins_enabled'" >/dev/null
expect_eq "login while logins are disabled" "$(http POST "$URL/api/login/" username=demo password=demo)" \
    '503 {"error":"logins are temporarily disabled by the operator","switch":"logins_enabled"}'
"$SHOP" switch logins_enabled on
expect_eq "login" "$(http POST "$URL/api/login/" username=demo password=demo)" '200 {"user":"demo"}'
expect_eq "wrong password" "$(http POST "$URL/api/login/" username=demo password=nope | cut -c1-4)" "401 "
http POST "$URL/api/login/" username=demo password=demo >/dev/null
http POST "$URL/api/cart/add/" product=TEE-1 quantity=2 >/dev/null
"$SHOP" switch orders_enabled off
expect_eq "checkout while orders are disabled" "$(http POST "$URL/api/checkout/")" \
    '503 {"error":"new orders are temporarily disabled by the operator; nothing was charged","switch":"orders_enabled"}'
expect_eq "health shows the switch" "$(http GET "$URL/health/" | grep -o '"orders_enabled":[a-z]*')" '"orders_enabled":false'
sql "UPDATE shop_switch SET enabled = true WHERE name = 'orders_enabled'" >/dev/null
checkout=$(http POST "$URL/api/checkout/")
[[ "$checkout" =~ ^201\ \{\"order\":4,\"total\":\"39.98\",\"release\":\"v1\"\}$ ]] || fail "checkout: $checkout"
pass "logins_enabled and orders_enabled answer 503 when off, work when on"

# --- v2: the bad release ---------------------------------------------------------------------
"$SHOP" deploy v2 2>/dev/null
expect_eq "current" "$(readlink "$SHOP_ROOT/current")" "releases/v2"
[ -d "$SHOP_ROOT/releases/v1" ] || fail "v1 must be kept for a rollback"
expect_eq "deploy history" "$(awk '{print $2, $3}' "$SHOP_ROOT/deploys.log" | tr '\n' ,)" "deploy v1,deploy v2,"
http GET "$URL/health/" | grep -q '^200 {"status":"ok","release":"v2"' || fail "health on v2: $(http GET "$URL/health/")"
expect_eq "v2 prices (its migration rewrote them)" "$("$SHOP" prices)" $'MUG-1 1250.00\nNOTE-1 475.00\nTEE-1 1999.00'

set +e
ids=$("$SHOP" order 4 2>"$WORK/order.err")
rc=$?
set -e
expect_eq "order 4 on v2: exit code" "$rc" 1
expect_eq "orders created on v2" "$(echo "$ids" | grep -c .)" 2
expect_eq "HTTP 500s on v2" "$(grep -c 'failed: HTTP 500: Server Error (500)' "$WORK/order.err")" 2
slowest=$(sed -n 's/.*slowest checkout \([0-9.]*\)s.*/\1/p' "$WORK/order.err")
"$PY" -c "import sys; sys.exit(0 if float('$slowest') >= 0.55 else 1)" || fail "v2 checkout not slow: ${slowest}s"
expect_eq "v2 orders (a failed cart is kept and retried)" "$(sql "SELECT string_agg(total::text, ' ' ORDER BY id) FROM shop_order WHERE release = 'v2'")" "1725.00 3249.00"
[ "$(grep -c '"POST /api/checkout/ HTTP/1.1" 500 ' "$SHOP_ROOT/log/access.log")" -eq 2 ] ||
    fail "access log should hold two checkout 500s"
expect_eq "order mails after v2 (none for a failed checkout)" "$(ls "$SHOP_ROOT/mail/new" | wc -l)" 6
pass "v2: prices x100, 2 of 4 checkouts HTTP 500, slowest checkout ${slowest}s"

# --- code rollback by hand: v1 code on v2's database -------------------------------------------
ln -s releases/v1 "$SHOP_ROOT/current.tmp"
mv -T "$SHOP_ROOT/current.tmp" "$SHOP_ROOT/current"
supervisorctl -c "$SHOP_ROOT/supervisord.conf" restart shop >/dev/null
"$PY" "$SRC/examples/ecommerce/lib/shopclient.py" wait "$URL" --release v1 --timeout 30 >/dev/null ||
    fail "v1 did not come back after the switch"
ids=$("$SHOP" order 2 2>"$WORK/order.err") || fail "v1 on v2's database: $(cat "$WORK/order.err")"
expect_eq "v1 orders after the switch" "$(echo "$ids" | wc -l)" 2
expect_eq "prices stay wrong without a database restore" "$("$SHOP" prices | head -n 1)" "MUG-1 1250.00"
pass "v1 code serves again on v2's database (data still needs the restore)"

# --- destroy leaves nothing --------------------------------------------------------------------
run_dir=$(. "$SHOP_ROOT/state.env" && echo "$SHOP_RUN")
ports=$(. "$SHOP_ROOT/state.env" && echo "$SHOP_PORT $SHOP_APP_PORT $SHOP_SMTP_PORT")
"$SHOP" destroy
[ ! -e "$SHOP_ROOT" ] || fail "destroy left $SHOP_ROOT"
[ ! -e "$run_dir" ] || fail "destroy left $run_dir"
for port in $ports; do
    if "$PY" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $port)) != 0)"; then
        fail "something still listens on $port"
    fi
done
if running "$nginx_pid"; then fail "nginx (pid $nginx_pid) outlived destroy"; fi
pass "destroy removed everything (total $((SECONDS - start)) s)"
