#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The example shop's operator script: a throwaway PostgreSQL cluster, Capistrano-style releases,
# Nginx terminating TLS (a test CA made here) in front of Gunicorn, a local SMTP sink for the shop's
# mail, all three under supervisord — all state under one directory, everything on 127.0.0.1/unix
# sockets, nothing needs root.
#
#   shop.sh [--root DIR] COMMAND [ARGS]        (or SHOP_ROOT=DIR; see `shop.sh help`)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RELEASES_SRC=${SHOP_RELEASES_SRC:-$HERE/releases-src}
CLIENT=$HERE/lib/shopclient.py
PYTHON=${SHOP_PYTHON:-/usr/bin/python3}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_OS_USER=${PG_OS_USER:-postgres}
NGINX=${NGINX:-/usr/sbin/nginx}
SHOP_ROOT=${SHOP_ROOT:-}

usage() {
    cat <<'EOF'
usage: shop.sh [--root DIR] COMMAND [ARGS]      state directory: --root or $SHOP_ROOT

  check            are the needed Debian packages installed? (exit 1 and the apt-get line if not)
  setup            create DIR, start a throwaway PostgreSQL 15 cluster, create database `shop`,
                   make a test CA and the server certificate, write the Nginx/Gunicorn/supervisord
                   configs
  deploy VERSION   copy releases-src/VERSION to releases/VERSION, migrate, switch `current`
                   atomically, log it in deploys.log, (re)start Gunicorn and wait until healthy
  seed             demo products with known prices, user demo/demo, operator switches on
  start | stop     start/stop PostgreSQL and supervisord (programs `shop` = Gunicorn, `nginx`,
                   `smtp` = the mail sink)
  restart          supervisorctl restart shop, then wait until healthy
  order N          place N orders over HTTP as demo; prints the ids of the orders created
  prices           SKU and price of every product, from the database
  switch NAME on|off   set an operator switch (logins_enabled, orders_enabled)
  status           current release, processes, /health/
  dsn | url        the database DSN (libpq key=value) | the shop's base URL
  env              shell assignments: SHOP_ROOT SHOP_URL SHOP_DSN SHOP_SUPERVISOR_CONF SHOP_CA_FILE
                   SHOP_MAILDIR
  psql [ARGS]      psql on the shop database
  destroy          stop everything, remove the cluster and DIR

environment: SHOP_PORT (setup: Nginx's HTTPS port; default 8443), SHOP_APP_PORT (Gunicorn) and
             SHOP_SMTP_PORT (the mail sink) (setup; default: free ports), SHOP_WORKERS (setup;
             default 2), SHOP_NGINX_USER (setup as root; default www-data), SHOP_RELEASES_SRC,
             SHOP_PYTHON, PG_BIN, PG_OS_USER, NGINX (default /usr/sbin/nginx)
EOF
}

die() {
    echo "shop.sh: error: $*" >&2
    exit 1
}
say() { echo "shop.sh: $*" >&2; }

as_pg() { # server-side PostgreSQL tools refuse to run as root
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$PG_OS_USER" -- "$@"; else "$@"; fi
}

# --- state ---------------------------------------------------------------------------------------

load_state() {
    [ -n "$SHOP_ROOT" ] || die "no state directory: pass --root DIR or set SHOP_ROOT"
    [ -f "$SHOP_ROOT/state.env" ] || die "$SHOP_ROOT is not set up (run: shop.sh --root $SHOP_ROOT setup)"
    # shellcheck source=/dev/null
    . "$SHOP_ROOT/state.env"
    PGDATA=$SHOP_ROOT/pg/data
    PGSOCK=$SHOP_RUN/pg
    SUPERVISOR_CONF=$SHOP_ROOT/supervisord.conf
    SHOP_URL=https://127.0.0.1:$SHOP_PORT
    CA_FILE=$SHOP_ROOT/tls/ca.pem
    MAILDIR=$SHOP_ROOT/mail
    DSN="host=$PGSOCK port=$SHOP_PG_PORT user=shop dbname=shop"
    export SHOP_CA_FILE=$CA_FILE # shopclient.py verifies the shop's certificate against it
}

psql_shop() { "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -q "$DSN" "$@"; }

current_release() { # the release `current` points to, or nothing
    local target
    target=$(readlink "$SHOP_ROOT/current" 2>/dev/null) || return 0
    basename "$target"
}

pg_running() { as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

pg_start() {
    pg_running && return 0
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$SHOP_ROOT/pg/server.log" -w -t 30 -o \
        "-c listen_addresses='' -c port=$SHOP_PG_PORT -c unix_socket_directories='$PGSOCK' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null || die "PostgreSQL did not start; see $SHOP_ROOT/pg/server.log"
}

supervisord_running() {
    local pid
    pid=$(cat "$SHOP_ROOT/supervisord.pid" 2>/dev/null) || return 1
    kill -0 "$pid" 2>/dev/null
}

ctl() { supervisorctl -c "$SUPERVISOR_CONF" "$@"; }

wait_healthy() { # [RELEASE]
    "$PYTHON" "$CLIENT" wait "$SHOP_URL" ${1:+--release "$1"} --timeout 30 >/dev/null ||
        die "the shop is not healthy at $SHOP_URL; see $SHOP_ROOT/log/shop.err.log, nginx.error.log and supervisord.log"
}

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A test CA and a server certificate for 127.0.0.1 and localhost signed by it (P-256, 30 days):
# clients trust tls/ca.pem (curl --cacert, the playbook's ca_file); only Nginx reads the key.
make_certificates() {
    local tls=$SHOP_ROOT/tls
    mkdir -p "$tls"
    (
        umask 077
        cd "$tls"
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
            -subj "/CN=Example shop test CA" -keyout ca.key -out ca.pem \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
        printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'basicConstraints=CA:FALSE' \
            'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth' \
            'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid' >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
            -extfile server.ext -out server.pem
        rm -f server.csr server.ext ca.srl
        chmod 644 ca.pem server.pem
    ) >"$SHOP_ROOT/log/openssl.log" 2>&1 || die "openssl failed; see $SHOP_ROOT/log/openssl.log"
}

# Nginx as the shop's own process: its prefix, config, pid, temp and log files under $SHOP_ROOT,
# TLS on 127.0.0.1:$SHOP_PORT, /static/ from the current release, the rest proxied to Gunicorn. Its
# access log (log/access.log) is what rollback's monitor reads: combined + $request_time +
# $upstream_response_time (docs/config.md, "access_log"). As root, it runs as $nginx_user.
write_nginx_conf() {
    local n=$SHOP_ROOT/nginx
    cat >"$n/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $n/nginx.pid;
error_log $SHOP_ROOT/log/nginx.error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    # Never Debian's /var/lib/nginx: an unprivileged nginx cannot write there.
    client_body_temp_path $n/tmp/body;
    proxy_temp_path $n/tmp/proxy;
    fastcgi_temp_path $n/tmp/fastcgi;
    uwsgi_temp_path $n/tmp/uwsgi;
    scgi_temp_path $n/tmp/scgi;
    log_format shop '\$remote_addr - \$remote_user [\$time_local] "\$request" \$status \$body_bytes_sent "\$http_referer" "\$http_user_agent" \$request_time \$upstream_response_time';
    access_log $SHOP_ROOT/log/access.log shop;
    server_tokens off;
    upstream gunicorn { server 127.0.0.1:$SHOP_APP_PORT; }
    server {
        listen 127.0.0.1:$SHOP_PORT ssl;
        server_name 127.0.0.1 localhost;
        ssl_certificate $SHOP_ROOT/tls/server.pem;
        ssl_certificate_key $SHOP_ROOT/tls/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        # The release \`current\` points to at each request: a rollback's switch switches these too.
        location /static/ {
            alias $SHOP_ROOT/current/static/;
            add_header X-Served-By nginx;
        }
        location / {
            proxy_pass http://gunicorn;
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_read_timeout 60s;
        }
    }
}
EOF
    : >>"$SHOP_ROOT/log/access.log"
    : >>"$SHOP_ROOT/log/nginx.error.log"
    if [ -n "$nginx_user" ]; then
        chown -R "$nginx_user:" "$n" "$SHOP_ROOT/log/access.log" "$SHOP_ROOT/log/nginx.error.log" \
            "$SHOP_ROOT/tls/server.key"
    fi
    local as=()
    [ -z "$nginx_user" ] || as=(runuser -u "$nginx_user" --) # the temp dirs it makes are its own
    "${as[@]}" "$NGINX" -t -q -p "$n" -c "$n/nginx.conf" -e "$SHOP_ROOT/log/nginx.error.log" 2>"$SHOP_ROOT/log/nginx.test.log" ||
        die "nginx -t refused $n/nginx.conf; see $SHOP_ROOT/log/nginx.test.log"
}

# --- commands ------------------------------------------------------------------------------------

cmd_check() {
    local missing=()
    [ -x "$PG_BIN/initdb" ] || missing+=(postgresql-15)
    command -v gunicorn >/dev/null || missing+=(gunicorn)
    command -v supervisord >/dev/null || missing+=(supervisor)
    [ -x "$NGINX" ] || missing+=(nginx)
    command -v openssl >/dev/null || missing+=(openssl)
    # One interpreter start (slow machines): prints the missing modules, exit 3 = not Django 3.2
    local out rc=0
    out=$("$PYTHON" -c '
import importlib.util, sys
missing = [m for m in ("django", "psycopg2", "aiosmtpd") if importlib.util.find_spec(m) is None]
print(" ".join("python3-" + m for m in missing))
if not missing:
    import django
    sys.exit(3 if django.VERSION[:2] != (3, 2) else 0)
' 2>/dev/null) || rc=$?
    if [ "$rc" -eq 3 ]; then
        say "warning: the shop is written for Django 3.2 (Debian 12's python3-django)"
    elif [ "$rc" -ne 0 ]; then
        missing+=(python3-django python3-psycopg2 python3-aiosmtpd) # no usable interpreter at $PYTHON
    fi
    # shellcheck disable=SC2206 # word splitting wanted: package names
    missing+=($out)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "shop.sh: missing packages: ${missing[*]}" >&2
        echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
        return 1
    fi
}

cmd_setup() {
    [ -n "$SHOP_ROOT" ] || die "no state directory: pass --root DIR or set SHOP_ROOT"
    [ ! -e "$SHOP_ROOT/state.env" ] || die "$SHOP_ROOT is already set up (destroy it first)"
    cmd_check || exit 1
    mkdir -p "$SHOP_ROOT"
    SHOP_ROOT=$(cd "$SHOP_ROOT" && pwd)
    if [ "$(id -u)" -eq 0 ]; then
        # The server runs as $PG_OS_USER: it must traverse every parent of $SHOP_ROOT/pg.
        runuser -u "$PG_OS_USER" -- test -x "$SHOP_ROOT" || chmod o+x "$SHOP_ROOT"
        runuser -u "$PG_OS_USER" -- test -x "$SHOP_ROOT" ||
            die "user $PG_OS_USER cannot reach $SHOP_ROOT: a parent directory is not world-traversable"
    fi
    date -u +%FT%TZ >"$SHOP_ROOT/.shop-root" # what `destroy` is allowed to remove
    local run port=${SHOP_PORT:-8443} app_port=${SHOP_APP_PORT:-} smtp_port=${SHOP_SMTP_PORT:-}
    [ -n "$app_port" ] || app_port=$(free_port)
    [ -n "$smtp_port" ] || smtp_port=$(free_port)
    # Unix socket paths are limited to 107 bytes: sockets live in a short directory under /tmp.
    run=$(mktemp -d /tmp/shop.XXXXXX)
    chmod 755 "$run"
    mkdir -p "$run/pg" "$SHOP_ROOT/pg" "$SHOP_ROOT/releases" "$SHOP_ROOT/shared/config" "$SHOP_ROOT/log" \
        "$SHOP_ROOT/nginx/tmp" "$SHOP_ROOT/mail/tmp" "$SHOP_ROOT/mail/new" "$SHOP_ROOT/mail/cur"
    [ "$(id -u)" -ne 0 ] || chown "$PG_OS_USER:" "$run/pg" "$SHOP_ROOT/pg"
    cat >"$SHOP_ROOT/state.env" <<EOF
SHOP_RUN=$run
SHOP_PORT=$port
SHOP_APP_PORT=$app_port
SHOP_SMTP_PORT=$smtp_port
SHOP_PG_PORT=5432
EOF
    load_state
    as_pg "$PG_BIN/initdb" -D "$PGDATA" -U shop -A trust -E UTF8 --locale=C -N >"$SHOP_ROOT/log/initdb.log" 2>&1 ||
        die "initdb failed; see $SHOP_ROOT/log/initdb.log"
    pg_start
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "host=$PGSOCK port=$SHOP_PG_PORT user=shop dbname=postgres" \
        -c 'CREATE DATABASE shop' >/dev/null
    local secret nginx_user=""
    if [ "$(id -u)" -eq 0 ]; then
        nginx_user=${SHOP_NGINX_USER:-www-data}
        id -u "$nginx_user" >/dev/null 2>&1 || die "no user $nginx_user to run nginx as (set SHOP_NGINX_USER)"
    fi
    secret=$(head -c 48 /dev/urandom | base64 -w0 | tr '+/' '-_')
    (
        umask 077
        cat >"$SHOP_ROOT/shared/config/shop.env" <<EOF
# Shared by every release (Capistrano's shared/): database and secret key.
SHOP_DB_NAME=shop
SHOP_DB_USER=shop
SHOP_DB_HOST=$PGSOCK
SHOP_DB_PORT=$SHOP_PG_PORT
SHOP_SECRET_KEY=$secret
SHOP_EMAIL_HOST=127.0.0.1
SHOP_EMAIL_PORT=$smtp_port
EOF
    )
    make_certificates
    write_nginx_conf
    cat >"$SHOP_ROOT/gunicorn.conf.py" <<EOF
bind = "127.0.0.1:$SHOP_APP_PORT"
workers = ${SHOP_WORKERS:-2}
timeout = 30
graceful_timeout = 3
# Behind Nginx, whose log/access.log is the one the monitor reads; this one is for debugging.
accesslog = "$SHOP_ROOT/log/gunicorn.access.log"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(L)s'
errorlog = "-"
forwarded_allow_ips = "127.0.0.1"
EOF
    cat >"$SUPERVISOR_CONF" <<EOF
[unix_http_server]
file=$run/supervisor.sock
chmod=0700

[supervisord]
logfile=$SHOP_ROOT/log/supervisord.log
pidfile=$SHOP_ROOT/supervisord.pid
childlogdir=$SHOP_ROOT/log
directory=$SHOP_ROOT

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://$run/supervisor.sock

[program:shop]
; --chdir through the \`current\` symlink: every (re)start serves the release it points to then.
command=$(command -v gunicorn) --config $SHOP_ROOT/gunicorn.conf.py --chdir $SHOP_ROOT/current shopsite.wsgi:application
environment=SHOP_SHARED_ENV="$SHOP_ROOT/shared/config/shop.env"
autostart=true
autorestart=true
startsecs=1
stopwaitsecs=10
stopasgroup=true
killasgroup=true
stdout_logfile=$SHOP_ROOT/log/shop.out.log
stderr_logfile=$SHOP_ROOT/log/shop.err.log

[program:nginx]
; daemon off (nginx.conf): supervisord keeps the master; -e: never /var/log/nginx, even at startup
command=$NGINX -p $SHOP_ROOT/nginx -c $SHOP_ROOT/nginx/nginx.conf -e $SHOP_ROOT/log/nginx.error.log
${nginx_user:+user=$nginx_user}
autostart=true
autorestart=true
startsecs=1
stopwaitsecs=10
stdout_logfile=$SHOP_ROOT/log/nginx.out.log
redirect_stderr=true

[program:smtp]
; the mail sink: every message the shop sends lands in $MAILDIR/new (a Maildir)
command=$PYTHON -m aiosmtpd -n -l 127.0.0.1:$SHOP_SMTP_PORT -c aiosmtpd.handlers.Mailbox $MAILDIR
autostart=true
autorestart=true
startsecs=1
stopwaitsecs=5
stdout_logfile=$SHOP_ROOT/log/smtp.log
redirect_stderr=true
EOF
    say "ready: $SHOP_ROOT (database: $DSN; shop will listen on $SHOP_URL)"
}

cmd_start() {
    load_state
    pg_start
    [ -n "$(current_release)" ] || die "nothing deployed yet (run: shop.sh deploy v1)"
    if supervisord_running; then
        ctl start shop >/dev/null || true
    else
        supervisord -c "$SUPERVISOR_CONF" || die "supervisord did not start; see $SHOP_ROOT/log/supervisord.log"
    fi
    wait_healthy
}

cmd_restart() {
    load_state
    supervisord_running || {
        cmd_start
        return
    }
    ctl restart shop >/dev/null || die "supervisorctl restart shop failed; see $SHOP_ROOT/log/shop.err.log"
    wait_healthy "${1:-}"
}

stop_supervisord() {
    supervisord_running || return 0
    local pid
    pid=$(cat "$SHOP_ROOT/supervisord.pid")
    kill "$pid" 2>/dev/null || true # SIGTERM = supervisorctl shutdown: stops `shop`, then exits
    for _ in $(seq 100); do
        # gone, or a zombie waiting for an init that may be slow to reap it
        case "$(ps -o stat= -p "$pid" 2>/dev/null)" in "" | Z*) return 0 ;; esac
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop() {
    load_state
    stop_supervisord
    if pg_running; then as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null; fi
}

cmd_deploy() {
    local version=${1:-}
    [ -n "$version" ] || die "usage: shop.sh deploy VERSION"
    load_state
    [ -d "$RELEASES_SRC/$version" ] || die "no release source $RELEASES_SRC/$version"
    local previous
    previous=$(current_release)
    if [ "$previous" = "$version" ]; then
        say "$version is already the current release"
        return 0
    fi
    pg_start
    local release=$SHOP_ROOT/releases/$version tmp=$SHOP_ROOT/releases/.$version.tmp
    # Complete or absent: copied under a temporary name, renamed into place.
    rm -rf "$tmp"
    cp -R "$RELEASES_SRC/$version" "$tmp"
    find "$tmp" -name __pycache__ -prune -exec rm -rf {} +
    # The shared config as this release was deployed with it, where release_switch's
    # `config_files = ["shared/config/shop.env"]` restores it from.
    mkdir -p "$tmp/.rollback-config/shared/config"
    cp -p "$SHOP_ROOT/shared/config/shop.env" "$tmp/.rollback-config/shared/config/shop.env"
    rm -rf "$release"
    mv "$tmp" "$release"
    # Capistrano order: migrate with the new code, collect its static files (Nginx serves them from
    # the release), then publish it. Both in one interpreter: Django starts once.
    (cd "$release" && SHOP_SHARED_ENV=$SHOP_ROOT/shared/config/shop.env "$PYTHON" -c '
import os, django
from django.core.management import call_command
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
django.setup()
call_command("migrate", interactive=False)
print("--- collectstatic", flush=True)
call_command("collectstatic", interactive=False)
') >"$SHOP_ROOT/log/migrate-$version.log" 2>&1 ||
        die "migrate or collectstatic of $version failed (current release unchanged); see $SHOP_ROOT/log/migrate-$version.log"
    ln -sfn "releases/$version" "$SHOP_ROOT/.current.tmp"
    mv -T "$SHOP_ROOT/.current.tmp" "$SHOP_ROOT/current"
    echo "$(date -u +%FT%TZ) deploy $version" >>"$SHOP_ROOT/deploys.log"
    if supervisord_running; then
        ctl restart shop >/dev/null || die "supervisorctl restart shop failed; see $SHOP_ROOT/log/shop.err.log"
    else
        supervisord -c "$SUPERVISOR_CONF" || die "supervisord did not start; see $SHOP_ROOT/log/supervisord.log"
    fi
    wait_healthy "$version"
    say "deployed $version${previous:+ (previous: $previous)}, serving on $SHOP_URL"
}

cmd_seed() {
    load_state
    local release
    release=$(current_release)
    [ -n "$release" ] || die "nothing deployed yet: the schema comes with the first deploy (shop.sh deploy v1)"
    (cd "$SHOP_ROOT/current" && SHOP_SHARED_ENV=$SHOP_ROOT/shared/config/shop.env "$PYTHON" manage.py seed) >&2
}

cmd_order() {
    local n=${1:-}
    [[ "$n" =~ ^[0-9]+$ ]] || die "usage: shop.sh order N"
    load_state
    "$PYTHON" "$CLIENT" order "$SHOP_URL" --count "$n"
}

cmd_prices() {
    load_state
    psql_shop -At -F ' ' -c 'SELECT sku, price FROM shop_product ORDER BY sku'
}

cmd_switch() {
    local name=${1:-} state=${2:-}
    case "$name" in logins_enabled | orders_enabled) ;; *) die "usage: shop.sh switch logins_enabled|orders_enabled on|off" ;; esac
    case "$state" in on) state=true ;; off) state=false ;; *) die "usage: shop.sh switch $name on|off" ;; esac
    load_state
    psql_shop -c "UPDATE shop_switch SET enabled = $state WHERE name = '$name'" >/dev/null
}

cmd_status() {
    load_state
    echo "root:      $SHOP_ROOT"
    echo "release:   $(current_release)"
    echo "database:  $(pg_running && echo running || echo stopped) ($DSN)"
    if supervisord_running; then
        echo "processes:"
        ctl status 2>&1 | tr -s ' ' | sed 's/^/  /'
    else
        echo "processes: supervisord not running"
    fi
    echo "health:    $("$PYTHON" "$CLIENT" wait "$SHOP_URL" --timeout 1 2>&1)"
}

cmd_env() { # single quotes: valid for `. file` in a shell and for rollback's .env files
    load_state
    local v
    for v in "$SHOP_ROOT" "$SHOP_URL" "$DSN" "$SUPERVISOR_CONF" "$CA_FILE" "$MAILDIR"; do
        case "$v" in *"'"*) die "cannot quote $v for a .env file" ;; esac
    done
    printf "SHOP_ROOT='%s'\nSHOP_URL='%s'\nSHOP_DSN='%s'\nSHOP_SUPERVISOR_CONF='%s'\nSHOP_CA_FILE='%s'\nSHOP_MAILDIR='%s'\n" \
        "$SHOP_ROOT" "$SHOP_URL" "$DSN" "$SUPERVISOR_CONF" "$CA_FILE" "$MAILDIR"
}

cmd_destroy() {
    [ -n "$SHOP_ROOT" ] || die "no state directory: pass --root DIR or set SHOP_ROOT"
    [ -e "$SHOP_ROOT" ] || return 0
    [ -f "$SHOP_ROOT/.shop-root" ] || die "$SHOP_ROOT was not created by shop.sh setup; not removing it"
    if [ -f "$SHOP_ROOT/state.env" ]; then
        load_state
        stop_supervisord
        if [ -d "$PGDATA" ] && pg_running; then as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null; fi
        case "$SHOP_RUN" in /tmp/shop.*) rm -rf "$SHOP_RUN" ;; esac
    fi
    rm -rf "$SHOP_ROOT"
}

# --- dispatch ------------------------------------------------------------------------------------

while [ $# -gt 0 ]; do
    case "$1" in
    --root)
        [ $# -ge 2 ] || die "--root needs a directory"
        SHOP_ROOT=$2
        shift 2
        ;;
    --root=*)
        SHOP_ROOT=${1#--root=}
        shift
        ;;
    -h | --help | help)
        usage
        exit 0
        ;;
    *) break ;;
    esac
done
[ $# -gt 0 ] || {
    usage >&2
    exit 2
}
if [ -n "$SHOP_ROOT" ] && [ -d "$SHOP_ROOT" ]; then SHOP_ROOT=$(cd "$SHOP_ROOT" && pwd); fi
command=$1
shift
case "$command" in
check) cmd_check ;;
setup) cmd_setup ;;
deploy) cmd_deploy "$@" ;;
seed) cmd_seed ;;
start) cmd_start ;;
stop) cmd_stop ;;
restart) cmd_restart "$@" ;;
order) cmd_order "$@" ;;
prices) cmd_prices ;;
switch) cmd_switch "$@" ;;
status) cmd_status ;;
dsn) load_state && echo "$DSN" ;;
url) load_state && echo "$SHOP_URL" ;;
env) cmd_env ;;
psql) load_state && psql_shop "$@" ;;
destroy) cmd_destroy ;;
*)
    echo "shop.sh: error: unknown command '$command' (see shop.sh help)" >&2
    exit 2
    ;;
esac
