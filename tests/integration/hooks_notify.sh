#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hooks/notify and hooks/page-oncall against a real HTTP receiver on 127.0.0.1: webhook body,
# file lines, sendmail, several destinations at once, failures with bounded time, paging rules.
set -euo pipefail

SRC=${ROLLBACK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
NOTIFY=$SRC/hooks/notify
PAGE=$SRC/hooks/page-oncall
PY=/usr/bin/python3
[ -x "$PY" ] || {
    echo "SKIP: /usr/bin/python3 (Debian package python3) is missing"
    exit 125
}

WORK=$(mktemp -d /tmp/hooks_notify.XXXXXX)
RECEIVER_PID=
cleanup() {
    [ -z "$RECEIVER_PID" ] || kill "$RECEIVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
# The receiver is local: never send the test's requests through a proxy from the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
unset NOTIFY_WEBHOOK_URL NOTIFY_FILE NOTIFY_EMAIL PAGE_WEBHOOK_URL

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
pass() { echo "ok: $*"; }

for h in "$NOTIFY" "$PAGE"; do
    [ -x "$h" ] || fail "$h is not executable"
done

# --- a receiver: records each request as <n>.json (+ <n>.meta); /status/<code> answers that code;
#     /slow sleeps 5 s before answering -----------------------------------------------------------
cat >"$WORK/receiver.py" <<'EOF'
import http.server, json, os, sys, threading, time
out = sys.argv[1]
lock = threading.Lock()
count = [0]

class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            count[0] += 1
            n = count[0]
        with open(os.path.join(out, f"{n}.json"), "wb") as f:
            f.write(body)
        with open(os.path.join(out, f"{n}.meta"), "w") as f:
            json.dump({"path": self.path, "content_type": self.headers.get("Content-Type")}, f)
        code = 200
        if self.path.startswith("/status/"):
            code = int(self.path.rsplit("/", 1)[1])
        if self.path == "/slow":
            time.sleep(5)
        try:
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except BrokenPipeError:
            pass  # /slow: the client gave up, as it should

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(os.path.join(out, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
server.serve_forever()
EOF
mkdir "$WORK/got"
"$PY" "$WORK/receiver.py" "$WORK/got" &
RECEIVER_PID=$!
for _ in $(seq 100); do
    [ -f "$WORK/got/port" ] && break
    sleep 0.05
done
[ -f "$WORK/got/port" ] || fail "the receiver did not start"
PORT=$(cat "$WORK/got/port")
BASE=http://127.0.0.1:$PORT

received() { find "$WORK/got" -name '*.json' | wc -l; }

event() { # EVENT SEVERITY [STEP] [STATUS]
    printf '{"event":"%s","run_id":"20261126-150000-ab12","playbook":"ecommerce","step":"%s","status":"%s","reason":"checkout errors after v2","trigger":{"kind":"manual","condition":"","severity":"%s"},"time":"2026-11-26T15:00:00Z"}\n' \
        "$1" "${3:-}" "${4:-}" "$2"
}

# Asserts on a received JSON body with Python; $1 = file, $2 = Python expression over `b`.
assert_json() {
    "$PY" -c 'import json,sys; b=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" ||
        fail "$(basename "$1"): expected $2, got: $(cat "$1")"
}

# --- 1. webhook: Slack-compatible body, full event, JSON content type --------------------------
event after-step warning restore-db succeeded >"$WORK/ev1"
NOTIFY_WEBHOOK_URL=$BASE/services/T000/B000/s3cr3tt0ken "$NOTIFY" <"$WORK/ev1" >"$WORK/out" 2>"$WORK/err" ||
    fail "notify to a live webhook exited $?: $(cat "$WORK/err")"
[ "$(received)" -eq 1 ] || fail "expected 1 request, got $(received)"
assert_json "$WORK/got/1.json" 'b["event"] == json.load(open(sys.argv[1].replace("got/1.json", "ev1")))'
assert_json "$WORK/got/1.json" 'b["text"] == "[warning] rollback ecommerce: step restore-db succeeded — reason: checkout errors after v2 (run 20261126-150000-ab12)"'
assert_json "$WORK/got/1.meta" 'b["content_type"] == "application/json" and b["path"] == "/services/T000/B000/s3cr3tt0ken"'
if grep -q s3cr3tt0ken "$WORK/out" "$WORK/err"; then fail "the webhook token was printed"; fi
pass "webhook receives {text, event}"

# --- 2. file: one JSON line per event, appended --------------------------------------------------
event on-trigger critical >"$WORK/ev2"
event on-success critical >"$WORK/ev3"
NOTIFY_FILE=$WORK/events.jsonl "$NOTIFY" <"$WORK/ev2" >/dev/null
NOTIFY_FILE=$WORK/events.jsonl "$NOTIFY" <"$WORK/ev3" >/dev/null
[ "$(wc -l <"$WORK/events.jsonl")" -eq 2 ] || fail "expected 2 lines in NOTIFY_FILE: $(cat "$WORK/events.jsonl")"
"$PY" - "$WORK/events.jsonl" <<'EOF' || fail "NOTIFY_FILE lines are not the events in order"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["event"] for l in lines] == ["on-trigger", "on-success"], lines
assert lines[0]["trigger"]["severity"] == "critical" and lines[0]["run_id"] == "20261126-150000-ab12"
EOF
pass "file gets one JSON line per event"

# --- 3. several destinations at once, including sendmail -----------------------------------------
cat >"$WORK/sendmail" <<EOF
#!/bin/sh
echo "\$@" >"$WORK/sendmail.args"
cat >"$WORK/mail.txt"
EOF
chmod +x "$WORK/sendmail"
event on-failure critical restore-db failed >"$WORK/ev4"
NOTIFY_WEBHOOK_URL=$BASE/hook NOTIFY_FILE=$WORK/events.jsonl NOTIFY_EMAIL=oncall@example.com \
    NOTIFY_SENDMAIL=$WORK/sendmail NOTIFY_EMAIL_FROM=rollback@shop.example "$NOTIFY" <"$WORK/ev4" >/dev/null ||
    fail "notify to three destinations failed"
[ "$(received)" -eq 2 ] || fail "webhook not called with three destinations"
assert_json "$WORK/got/2.json" 'b["event"]["event"] == "on-failure" and "FAILED at step restore-db" in b["text"]'
[ "$(wc -l <"$WORK/events.jsonl")" -eq 3 ] || fail "NOTIFY_FILE not appended with three destinations"
grep -q '^To: oncall@example.com' "$WORK/mail.txt" || fail "mail has no To: $(cat "$WORK/mail.txt")"
grep -q '^Subject: \[critical\] rollback ecommerce: FAILED at step restore-db' "$WORK/mail.txt" || fail "mail subject: $(cat "$WORK/mail.txt")"
grep -q '"run_id": "20261126-150000-ab12"' "$WORK/mail.txt" || fail "mail body lacks the event"
[ "$(cat "$WORK/sendmail.args")" = "-t -oi" ] || fail "sendmail called with: $(cat "$WORK/sendmail.args")"
pass "webhook + file + email together"

# --- 4. failures: non-zero, a message without the secret, bounded time ----------------------------
closed=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start=$(date +%s%N)
if NOTIFY_WEBHOOK_URL=http://127.0.0.1:$closed/services/s3cr3tt0ken NOTIFY_RETRIES=0 "$NOTIFY" <"$WORK/ev1" 2>"$WORK/err" >/dev/null; then
    fail "notify to a closed port exited 0"
fi
ms=$((($(date +%s%N) - start) / 1000000))
grep -q "notify: webhook http://127.0.0.1:$closed/… is unreachable" "$WORK/err" || fail "message: $(cat "$WORK/err")"
if grep -q s3cr3tt0ken "$WORK/err"; then fail "the webhook token was printed: $(cat "$WORK/err")"; fi
[ "$ms" -lt 5000 ] || fail "unreachable webhook took ${ms} ms"
pass "unreachable webhook: exit 1 in ${ms} ms"

start=$(date +%s%N)
if NOTIFY_WEBHOOK_URL=$BASE/slow NOTIFY_TIMEOUT=1 NOTIFY_RETRIES=0 "$NOTIFY" <"$WORK/ev1" 2>"$WORK/err" >/dev/null; then
    fail "notify to a receiver that never answers exited 0"
fi
ms=$((($(date +%s%N) - start) / 1000000))
grep -q "did not answer within 1s" "$WORK/err" || fail "message: $(cat "$WORK/err")"
[ "$ms" -lt 4000 ] || fail "NOTIFY_TIMEOUT=1 took ${ms} ms"
pass "silent webhook: timeout after ${ms} ms"

before=$(received)
if NOTIFY_WEBHOOK_URL=$BASE/status/500 NOTIFY_FILE=$WORK/events.jsonl NOTIFY_TIMEOUT=2 "$NOTIFY" <"$WORK/ev1" 2>"$WORK/err" >/dev/null; then
    fail "notify exited 0 although the webhook answered 500"
fi
grep -q "answered HTTP 500 (2 attempts)" "$WORK/err" || fail "message: $(cat "$WORK/err")"
[ $(($(received) - before)) -eq 2 ] || fail "HTTP 500 should be retried once (NOTIFY_RETRIES=1)"
[ "$(wc -l <"$WORK/events.jsonl")" -eq 4 ] || fail "the file destination must still get the event"
before=$(received)
NOTIFY_WEBHOOK_URL=$BASE/status/404 "$NOTIFY" <"$WORK/ev1" 2>"$WORK/err" >/dev/null && fail "HTTP 404 exited 0"
[ $(($(received) - before)) -eq 1 ] || fail "HTTP 404 must not be retried"
pass "HTTP 500 retried, 404 not, other destinations still served"

if NOTIFY_EMAIL=oncall@example.com NOTIFY_SENDMAIL=$WORK/no-sendmail "$NOTIFY" <"$WORK/ev1" 2>"$WORK/err" >/dev/null; then
    fail "notify exited 0 without sendmail"
fi
grep -q "NOTIFY_EMAIL is set but $WORK/no-sendmail does not exist" "$WORK/err" || fail "message: $(cat "$WORK/err")"
pass "missing sendmail: exit 1 with a clear message"

# --- 5. not configured; malformed input; event from the environment -----------------------------
set +e
"$NOTIFY" <"$WORK/ev1" 2>"$WORK/err" >/dev/null
rc=$?
set -e
[ $rc -eq 3 ] || fail "unconfigured notify: exit $rc, expected 3 (nothing was sent)"
grep -q "no destination configured" "$WORK/err" || fail "unconfigured notify must warn: $(cat "$WORK/err")"
set +e
echo 'not json' | NOTIFY_FILE=$WORK/x "$NOTIFY" 2>"$WORK/err" >/dev/null
rc=$?
set -e
[ $rc -eq 2 ] || fail "malformed event: exit $rc, expected 2"
grep -q "stdin is not a JSON event" "$WORK/err" || fail "message: $(cat "$WORK/err")"
ROLLBACK_EVENT=on-success ROLLBACK_RUN_ID=run-from-env ROLLBACK_SEVERITY=warning NOTIFY_FILE=$WORK/env.jsonl \
    "$NOTIFY" </dev/null >/dev/null
assert_json "$WORK/env.jsonl" 'b["event"] == "on-success" and b["run_id"] == "run-from-env" and b["trigger"]["severity"] == "warning"'
pass "unconfigured warns, malformed exits 2, empty stdin uses ROLLBACK_*"

# --- 6. page-oncall: only on-failure, or critical triggers / hook steps ------------------------
before=$(received)
PAGE_WEBHOOK_URL=$BASE/page "$PAGE" <"$WORK/ev1" 2>"$WORK/err" >/dev/null || fail "page-oncall (no page due) failed"
grep -q "not paging for after-step" "$WORK/err" || fail "message: $(cat "$WORK/err")"
event on-trigger warning >"$WORK/ev5"
PAGE_WEBHOOK_URL=$BASE/page "$PAGE" <"$WORK/ev5" 2>/dev/null >/dev/null || fail "page-oncall (warning trigger) failed"
[ "$(received)" -eq "$before" ] || fail "page-oncall paged for a non-critical event"
PAGE_WEBHOOK_URL=$BASE/page "$PAGE" <"$WORK/ev2" >/dev/null || fail "page-oncall (critical trigger) failed"
event on-failure warning verify-health failed >"$WORK/ev6"
PAGE_WEBHOOK_URL=$BASE/page "$PAGE" <"$WORK/ev6" >/dev/null || fail "page-oncall (failure) failed"
[ $(($(received) - before)) -eq 2 ] || fail "page-oncall should have paged twice"
n=$(received)
assert_json "$WORK/got/$((n - 1)).json" 'b["event"]["event"] == "on-trigger" and b["severity"] == "critical" and b["dedup_key"] == "rollback-20261126-150000-ab12"'
assert_json "$WORK/got/$n.json" 'b["event"]["event"] == "on-failure" and "FAILED at step verify-health" in b["text"]'
if "$PAGE" <"$WORK/ev4" 2>"$WORK/err" >/dev/null; then fail "a due page without PAGE_WEBHOOK_URL exited 0"; fi
grep -q "PAGE_WEBHOOK_URL is not set: nobody was paged" "$WORK/err" || fail "message: $(cat "$WORK/err")"
pass "page-oncall pages on failure and critical triggers only"

# --- 7. monitor decisions: a critical approval request pages; a recurrence notice does not -------
decision_event() { # STATUS SEVERITY
    printf '{"event":"decision","run_id":"","playbook":"ecommerce","step":"","status":"%s","reason":"checkout errors","trigger":{"kind":"monitor","condition":"error-rate","severity":"%s"},"time":"2026-11-26T15:00:00Z","decision_id":"20261126T150000.000Z-1a2b3c4d","approve":"rollback approve 20261126T150000.000Z-1a2b3c4d -c rollback.toml"}\n' "$1" "$2"
}
before=$(received)
decision_event notify critical >"$WORK/ev7"
PAGE_WEBHOOK_URL=$BASE/page "$PAGE" <"$WORK/ev7" 2>/dev/null >/dev/null || fail "page-oncall (notice) failed"
[ "$(received)" -eq "$before" ] || fail "page-oncall paged for a notice"
decision_event request_approval critical >"$WORK/ev8"
PAGE_WEBHOOK_URL=$BASE/page "$PAGE" <"$WORK/ev8" >/dev/null || fail "page-oncall (approval) failed"
[ "$(received)" -eq $((before + 1)) ] || fail "page-oncall did not page for a critical approval request"
assert_json "$WORK/got/$(received).json" '"APPROVAL NEEDED" in b["text"] and "rollback approve 20261126T150000.000Z-1a2b3c4d" in b["text"] and b["dedup_key"] == "rollback-20261126T150000.000Z-1a2b3c4d"'
pass "page-oncall pages for a critical approval request, not for a notice"

# --- 8. a multi-line summary and reason (a PostgreSQL error with DETAIL/CONTEXT lines): every
#     destination still gets the event; Subject and chat text on one line, the mail body in full ----
"$PY" - "$WORK/ev9" <<'PYEOF'
import json, sys
summary = ('ERROR:  duplicate key value violates unique constraint "orders_pkey"\n'
           'DETAIL:  Key (id)=(42) already exists.\r\nCONTEXT:  SQL statement\tline 1\x1b[31m')
json.dump({"event": "on-failure", "run_id": "20261126-150000-ab12", "playbook": "ecommerce",
           "step": "stop-orders", "status": "failed", "reason": "manual\nsecond line\u2028third",
           "summary": summary, "trigger": {"kind": "manual", "condition": "", "severity": "critical"},
           "time": "2026-11-26T15:00:00Z"}, open(sys.argv[1], "w"))
PYEOF
before=$(received)
rm -f "$WORK/mail.txt"
NOTIFY_WEBHOOK_URL=$BASE/hook NOTIFY_FILE=$WORK/ml.jsonl NOTIFY_EMAIL=oncall@example.com \
    NOTIFY_SENDMAIL=$WORK/sendmail "$NOTIFY" <"$WORK/ev9" >"$WORK/out" 2>"$WORK/err" ||
    fail "notify with a multi-line summary exited $?: $(cat "$WORK/err")"
[ ! -s "$WORK/err" ] || fail "notify with a multi-line summary warned: $(cat "$WORK/err")"
[ $(($(received) - before)) -eq 1 ] || fail "webhook not called for a multi-line summary"
assert_json "$WORK/got/$(received).json" '"\n" not in b["text"] and "\r" not in b["text"] and "\x1b" not in b["text"] and "reason: manual / second line / third" in b["text"] and "orders_pkey\" / DETAIL: Key (id)=(42) already exists. / CONTEXT: SQL statement line 1" in b["text"] and "\nDETAIL" in b["event"]["summary"]'
[ -f "$WORK/mail.txt" ] || fail "no mail handed to sendmail for a multi-line summary"
"$PY" - "$WORK/mail.txt" <<'PYEOF' || fail "mail: $(cat "$WORK/mail.txt")"
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
subject = str(m["Subject"])
assert "\n" not in subject and "FAILED at step stop-orders" in subject, subject
assert "DETAIL: Key (id)=(42) already exists." in subject, subject
body = m.get_content()
assert "orders_pkey\"\nDETAIL:  Key (id)=(42) already exists." in body, body
assert "CONTEXT:  SQL statement" in body, body
PYEOF
[ "$(grep -c . "$WORK/out")" -eq 1 ] || fail "the sent line is not one line: $(cat "$WORK/out")"
PAGE_WEBHOOK_URL=$BASE/page "$PAGE" <"$WORK/ev9" >/dev/null 2>"$WORK/err" ||
    fail "page-oncall with a multi-line summary: $(cat "$WORK/err")"
assert_json "$WORK/got/$(received).json" '"\n" not in b["text"] and "DETAIL" in b["text"]'
pass "multi-line summary and reason: one-line Subject and text, full body, exit 0"

# A destination that raises (an address with a line break) is a failed delivery (exit 1, one
# line), and the other destinations are still served.
set +e
NOTIFY_FILE=$WORK/ml2.jsonl NOTIFY_EMAIL=$'oncall@example.com\nBcc: x@example.com' \
    NOTIFY_SENDMAIL=$WORK/sendmail "$NOTIFY" <"$WORK/ev9" >/dev/null 2>"$WORK/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "a failing mail delivery: exit $rc, expected 1: $(cat "$WORK/err")"
grep -q "^notify: cannot deliver to oncall@example.com" "$WORK/err" || fail "message: $(cat "$WORK/err")"
if grep -q Traceback "$WORK/err"; then fail "a traceback: $(cat "$WORK/err")"; fi
[ "$(wc -l <"$WORK/ml2.jsonl")" -eq 1 ] || fail "the file destination must still get the event"
pass "a destination that raises: exit 1 with one line, others served"

# --- 9. Slack mrkdwn: &, < and > in the reason and summary are escaped in the webhook's `text`
#     (`<!channel>` would notify everyone, `<URL|label>` show a disguised link: break-it 30/14);
#     the event keeps the raw values ------------------------------------------------------------
"$PY" - "$WORK/ev10" <<'PYEOF'
import json, sys
json.dump({"event": "on-trigger", "run_id": "20261126-150000-ab12", "playbook": "ecommerce",
           "step": "", "status": "", "summary": "ERROR: a < b && c > d",
           "reason": "<!channel> errors up <https://evil.example/approve|run rollback approve here> &amp;",
           "trigger": {"kind": "manual", "condition": "", "severity": "warning"},
           "time": "2026-11-26T15:00:00Z"}, open(sys.argv[1], "w"))
PYEOF
before=$(received)
NOTIFY_WEBHOOK_URL=$BASE/hook "$NOTIFY" <"$WORK/ev10" >/dev/null 2>"$WORK/err" ||
    fail "notify with mrkdwn characters: $(cat "$WORK/err")"
[ $(($(received) - before)) -eq 1 ] || fail "webhook not called for mrkdwn characters"
assert_json "$WORK/got/$(received).json" '"reason: &lt;!channel&gt; errors up &lt;https://evil.example/approve|run rollback approve here&gt; &amp;amp;" in b["text"] and "ERROR: a &lt; b &amp;&amp; c &gt; d" in b["text"] and "<" not in b["text"] and ">" not in b["text"]'
assert_json "$WORK/got/$(received).json" 'b["event"]["reason"].startswith("<!channel> errors up <https://evil.example/") and b["event"]["summary"] == "ERROR: a < b && c > d"'
pass "webhook text: & < > escaped for Slack mrkdwn, the event raw"

echo "hooks_notify: all passed"
