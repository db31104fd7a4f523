#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The shipped smoke test (examples/ecommerce/smoke-order.sh, run by the shipped playbooks with
# SHOP_DSN and SMOKE_PASSWORD from secret variables) puts no secret on a command line: every
# process's /proc/PID/cmdline is scanned while it runs (break-it 23/09). psql is a stand-in that
# records what it got and lingers; the shop is a local HTTP stand-in that answers slowly.
source "$(dirname "$0")/../support/itest.sh"
[ -x /usr/bin/python3 ] && command -v curl >/dev/null || {
    echo "SKIP: needs /usr/bin/python3 and curl"
    exit 125
}
SMOKE=$SRC/examples/ecommerce/smoke-order.sh
PG_CANARY=PgPwCanary4711
SMOKE_CANARY=SmokePwCanary0815

mkdir -p "$WORK/bin"
cat >"$WORK/bin/psql" <<EOF
#!/bin/sh
{ printf 'args:'; printf ' [%s]' "\$@"; printf '\npgpassword:[%s]\n' "\${PGPASSWORD:-}"; } >>"$WORK/psql.log"
sleep 1.5 # long enough for a scan of every /proc/PID on a loaded machine
EOF
chmod +x "$WORK/bin/psql"

cat >"$WORK/shop.py" <<'EOF'
import http.server, json, os, sys, time
out = sys.argv[1]

class Shop(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(os.path.join(out, "requests.log"), "ab") as f:
            f.write(self.path.encode() + b" " + body + b"\n")
        time.sleep(1.5)  # long enough for the scan to see curl on a loaded machine
        code, answer = 200, b'{"ok": true}'
        if self.path == "/api/checkout/":
            code, answer = 201, b'{"order": 7, "release": "v1", "total": "12.50"}'
        self.send_response(code)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("127.0.0.1", 0), Shop)
with open(os.path.join(out, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
server.serve_forever()
EOF
/usr/bin/python3 "$WORK/shop.py" "$WORK" &
stop_on_exit $!
for _ in $(seq 100); do
    [ -f "$WORK/port" ] && break
    sleep 0.05
done
[ -f "$WORK/port" ] || fail "the shop stand-in did not start"
PORT=$(cat "$WORK/port")

# scan_while PID: every distinct command line of every process, while PID runs, into
# $WORK/cmdlines (Python: a shell loop forks too slowly to see a process that lives 0.5 s).
scan_while() {
    /usr/bin/python3 - "$1" "$WORK/cmdlines" <<'EOF'
import glob, os, sys, time
pid, seen = int(sys.argv[1]), set()
while os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split()[2] != "Z":
    for f in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            seen.add(open(f, "rb").read().replace(b"\0", b" ").decode("utf-8", "replace"))
        except OSError:
            pass
    time.sleep(0.01)
open(sys.argv[2], "w").write("\n".join(sorted(seen)) + "\n")
EOF
}

for dsn in "postgresql://shop:$PG_CANARY@127.0.0.1:5432/shop?connect_timeout=3" \
    "host=127.0.0.1 port=5432 user=shop dbname=shop password='$PG_CANARY' connect_timeout=3"; do
    rm -f "$WORK/psql.log" "$WORK/requests.log"
    SHOP_URL=http://127.0.0.1:$PORT SHOP_DSN=$dsn SMOKE_USER=alice SMOKE_PASSWORD="$SMOKE_CANARY&x=y z" \
        SMOKE_PSQL=$WORK/bin/psql EXPECT_RELEASE=v1 bash "$SMOKE" >"$WORK/out" 2>&1 &
    pid=$!
    scan_while $pid
    rc=0
    wait $pid || rc=$?
    [ $rc -eq 0 ] || { cat "$WORK/out" >&2; fail "smoke-order.sh exited $rc with $dsn"; }
    grep -q "smoke-order.sh" "$WORK/cmdlines" || fail "the scan saw no process of the smoke test"
    grep -q "$WORK/bin/psql" "$WORK/cmdlines" || fail "the scan never saw psql running"
    grep -q "curl" "$WORK/cmdlines" || fail "the scan never saw curl running"
    if grep -e "$PG_CANARY" -e "$SMOKE_CANARY" "$WORK/cmdlines" | grep -v '^$' >"$WORK/leaks"; then
        fail "a secret on a command line: $(sort -u "$WORK/leaks" | head -3)"
    fi
    # ... and the secrets still reach their programs: psql's environment, the login form.
    grep -q "^pgpassword:\[$PG_CANARY\]$" "$WORK/psql.log" || fail "psql did not get PGPASSWORD: $(cat "$WORK/psql.log")"
    grep -q "127.0.0.1" "$WORK/psql.log" || fail "psql did not get the DSN: $(cat "$WORK/psql.log")"
    grep -q "connect_timeout" "$WORK/psql.log" || fail "psql lost a DSN parameter: $(cat "$WORK/psql.log")"
    grep -qF "/api/login/ username=alice&password=$SMOKE_CANARY%26x%3Dy+z" "$WORK/requests.log" ||
        fail "the login form: $(cat "$WORK/requests.log")"
    kind="key=value DSN"
    [ "${dsn#postgresql://}" = "$dsn" ] || kind="URI DSN"
    pass "no secret on any command line while smoke-order.sh ran ($kind)"
done
