#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Smoke test of the example shop after a rollback: a real customer login and a full order
# (login, add to cart, checkout) over HTTPS, checking that the order is taken by the expected
# release at the expected price, and that its confirmation mail reached the mail server.
#
# The shop has no staff-only way in: while logins and orders are switched off, nobody can log in,
# including this test. So it opens both switches for the test, and closes them again if anything
# fails, which leaves the shop in its safe state (logins and orders off) for the engineer on call.
#
# Environment (set by the playbook's exec step):
#   SHOP_URL          base URL, e.g. https://127.0.0.1:8443
#   SHOP_CA_FILE      optional: the CA to verify the shop's certificate with (curl --cacert)
#   SHOP_DSN          libpq DSN of the shop database (for the switches); psql gets it without
#                     its password, which goes in PGPASSWORD (never on a command line)
#   SMOKE_USER, SMOKE_PASSWORD   the test customer (curl reads the password from a pipe)
#   SMOKE_PSQL        optional: the psql to run (default: PostgreSQL 15's, else psql in PATH)
#   SMOKE_PRODUCT     SKU to order (default MUG-1)
#   EXPECT_RELEASE    optional: the release that must take the order (e.g. v1)
#   EXPECT_TOTAL      optional: the order total the checkout must answer (e.g. 12.50)
#   SMOKE_MAILDIR     optional: the Maildir of the shop's mail server (shop.sh's SMTP sink): a new
#                     message "Order <id> confirmed" must arrive there within MAIL_WAIT seconds (10)
# Exit 0: logged in and the order was placed as expected; 1 otherwise (switches closed again).
set -uo pipefail

: "${SHOP_URL:?}" "${SHOP_DSN:?}" "${SMOKE_USER:?}" "${SMOKE_PASSWORD:?}"
product=${SMOKE_PRODUCT:-MUG-1}
base=${SHOP_URL%/}
PSQL=psql
[ -x /usr/lib/postgresql/15/bin/psql ] && PSQL=/usr/lib/postgresql/15/bin/psql
PSQL=${SMOKE_PSQL:-$PSQL}

# No secret on a command line (any local user reads them in ps): psql gets the DSN without its
# password and the password in PGPASSWORD, curl the smoke password from a pipe (below).
# dsn_part conninfo|password: SHOP_DSN (a URI or key=value pairs, as libpq reads them) in two.
dsn_part() {
    /usr/bin/python3 - "$1" <<'PY'
import os, re, sys, urllib.parse
dsn, want = os.environ["SHOP_DSN"], sys.argv[1]
password = ""
if re.match(r"postgres(ql)?://", dsn):
    parts = urllib.parse.urlsplit(dsn)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        if ":" in user:
            user, password = user.split(":", 1)
            password = urllib.parse.unquote(password)
        netloc = user + "@" + host
    query = []  # as written, but for password=...
    for item in parts.query.split("&") if parts.query else []:
        if urllib.parse.unquote(item.split("=", 1)[0]) == "password":
            password = urllib.parse.unquote(item.split("=", 1)[1] if "=" in item else "")
        else:
            query.append(item)
    rest = (parts.scheme + "://" + netloc + parts.path + ("?" + "&".join(query) if query else ""))
else:
    # key = value pairs; a value is 'quoted' (\\ and \' inside) or runs to the next blank.
    pairs, i, n = [], 0, len(dsn)
    while i < n:
        while i < n and dsn[i].isspace():
            i += 1
        if i >= n:
            break
        m = re.compile(r"([A-Za-z_]+)\s*=\s*").match(dsn, i)
        if not m:
            sys.exit("SHOP_DSN is not a libpq connection string")
        key, i, value = m.group(1), m.end(), ""
        quoted = i < n and dsn[i] == "'"
        i += 1 if quoted else 0
        while i < n and (dsn[i] != "'" if quoted else not dsn[i].isspace()):
            if dsn[i] == "\\" and i + 1 < n:
                i += 1
            value += dsn[i]
            i += 1
        i += 1 if quoted else 0
        if key == "password":
            password = value
        else:
            pairs.append((key, value))
    rest = " ".join(k + "='" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for k, v in pairs)
sys.stdout.write(rest if want == "conninfo" else password)
PY
}
conninfo=$(dsn_part conninfo) || {
    echo "smoke test failed: cannot read SHOP_DSN" >&2
    exit 1
}
dsn_password=$(dsn_part password) || exit 1
if [ -n "$dsn_password" ]; then
    export PGPASSWORD=$dsn_password # else libpq's own (~/.pgpass, an inherited PGPASSWORD)
fi

switches() { # on|off
    local value=true
    [ "$1" = off ] && value=false
    "$PSQL" -X -q -v ON_ERROR_STOP=1 "$conninfo" -c \
        "UPDATE shop_switch SET enabled = $value WHERE name IN ('logins_enabled', 'orders_enabled')"
}

fail() {
    echo "smoke test failed: $*" >&2
    if switches off >&2; then
        echo "logins and orders switched off again (safe state)" >&2
    else
        echo "COULD NOT switch logins and orders off again: do it by hand" >&2
    fi
    exit 1
}

jar=$(mktemp)
trap 'rm -f "$jar" "$jar.mail"' EXIT

# request NAME METHOD PATH [curl args...]: sets $status and $body
request() {
    local name=$1 path=$2
    shift 2
    local out
    if ! out=$(curl -sS --noproxy '*' -m 20 ${SHOP_CA_FILE:+--cacert "$SHOP_CA_FILE"} -b "$jar" -c "$jar" \
        -w '\n%{http_code}' "$@" "$base$path" 2>&1); then
        fail "$name: $out"
    fi
    status=${out##*$'\n'}
    body=${out%$'\n'*}
}

switches on || fail "cannot switch logins and orders on"
echo "logins and orders switched on for the smoke test"

# The password through a pipe (printf is a shell builtin: no process shows it); curl's command
# line only names /dev/fd/N.
request login /api/login/ --data-urlencode "username=$SMOKE_USER" \
    --data-urlencode "password@"<(printf '%s' "$SMOKE_PASSWORD")
[ "$status" = 200 ] || fail "POST /api/login/: expected 200, got $status: ${body:0:200}"
echo "login as $SMOKE_USER: HTTP $status $body"

request cart /api/cart/add/ --data-urlencode "product=$product" -d quantity=1
[ "$status" = 200 ] || fail "POST /api/cart/add/: expected 200, got $status: ${body:0:200}"

# The mail server's messages before the checkout: the confirmation must be a new one (order ids
# repeat after a database restore).
if [ -n "${SMOKE_MAILDIR:-}" ]; then
    [ -d "$SMOKE_MAILDIR/new" ] || fail "no Maildir at $SMOKE_MAILDIR"
    ls -1 "$SMOKE_MAILDIR/new" >"$jar.mail"
fi
request checkout /api/checkout/ -X POST
[ "$status" = 201 ] || fail "POST /api/checkout/: expected 201, got $status: ${body:0:200}"
if [ -n "${EXPECT_RELEASE:-}" ]; then
    case $body in
    *"\"release\":\"$EXPECT_RELEASE\""* | *"\"release\": \"$EXPECT_RELEASE\""*) ;;
    *) fail "checkout was not taken by release $EXPECT_RELEASE: $body" ;;
    esac
fi
if [ -n "${EXPECT_TOTAL:-}" ]; then
    case $body in
    *"\"total\":\"$EXPECT_TOTAL\""* | *"\"total\": \"$EXPECT_TOTAL\""*) ;;
    *) fail "checkout total is not $EXPECT_TOTAL: $body" ;;
    esac
fi
echo "order placed: HTTP $status $body"
if [ -n "${SMOKE_MAILDIR:-}" ]; then
    order=$(printf '%s' "$body" | sed -n 's/.*"order": *\([0-9][0-9]*\).*/\1/p')
    [ -n "$order" ] || fail "no order id in $body"
    mail=""
    for _ in $(seq $((${MAIL_WAIT:-10} * 5))); do
        for path in "$SMOKE_MAILDIR"/new/*; do
            f=${path##*/}
            [ -f "$path" ] && ! grep -qxF -- "$f" "$jar.mail" || continue
            if grep -qx "Subject: Order $order confirmed" "$path" &&
                grep -qx "To: $SMOKE_USER@.*" "$path"; then
                mail=$f
                break 2
            fi
        done
        sleep 0.2
    done
    [ -n "$mail" ] || fail "no confirmation mail for order $order in $SMOKE_MAILDIR/new within ${MAIL_WAIT:-10}s"
    echo "order mail received: $(grep -m1 '^Subject: ' "$SMOKE_MAILDIR/new/$mail") ($mail)"
fi
request logout /api/logout/ -X POST
exit 0
