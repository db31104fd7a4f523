#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# HTTPS in every place that speaks HTTP (the http action, service wait_healthy, http and
# prometheus sources): a test CA made here with openssl, Python TLS servers on 127.0.0.1.
# Verification is on by default: a good certificate passes (by name and by IP address, SNI
# sent); one from an unknown CA, for another name, or expired fails the check with that reason;
# `insecure = true` passes and `validate` warns; ca_file/insecure on an http:// URL are errors.
source "$(dirname "$0")/../support/itest.sh"

command -v openssl >/dev/null || { echo "skip: openssl is not installed"; exit 125; }
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 125; }
cd "$WORK"

# --- a CA, and server certificates: good, wrong name, expired, self-signed ---------------------
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj "/CN=rollback test CA" 2>/dev/null
mkdir -p ca/new && : >ca/index.txt && echo 1000 >ca/serial
cat >ca.cnf <<'CNF'
[ca]
default_ca = test
[test]
dir = ca
database = ca/index.txt
new_certs_dir = ca/new
serial = ca/serial
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
CNF
# sign NAME SAN [START END]: NAME.key/NAME.pem, signed by the CA
sign() {
    local name=$1 san=$2
    openssl req "${ec[@]}" -keyout "$name.key" -out "$name.csr" -subj "/CN=${san#*:}" \
        -addext "subjectAltName=$san" 2>/dev/null
    local dates=(-days 1)
    [ $# -lt 4 ] || dates=(-startdate "$3" -enddate "$4")
    openssl ca -batch -config ca.cnf -in "$name.csr" -out "$name.pem" -notext "${dates[@]}" \
        >/dev/null 2>&1 || fail "openssl ca could not sign $name"
}
sign good "DNS:localhost,IP:127.0.0.1"
sign wrong "DNS:other.example"
sign expired "DNS:localhost,IP:127.0.0.1" 20200101000000Z 20200102000000Z
openssl req -x509 "${ec[@]}" -keyout self.key -out self.pem -days 1 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null

cat >server.py <<'PY'
import http.server, os, ssl, sys
name = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"0.25"]}]}}' \
            if self.path.startswith("/api/v1/query") else b"ok " + (self.headers.get("Host") or "").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(name + ".pem", name + ".key")
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(name + ".port.tmp", "w").write(str(srv.server_address[1]))
os.rename(name + ".port.tmp", name + ".port")
srv.serve_forever()
PY
for n in good wrong expired self; do
    python3 server.py $n 2>"$n.err" &
    stop_on_exit $!
done
for n in good wrong expired self; do
    for _ in $(seq 100); do [ -f $n.port ] && break; sleep 0.05; done
    [ -f $n.port ] || { cat $n.err >&2; fail "TLS server $n did not start"; }
    eval "port_$n=$(cat $n.port)"
done

# --- the http action --------------------------------------------------------------------------
step() { # ID URL [EXTRA-LINE]
    printf '[[step]]\nid = "%s"\naction = "http"\nurl = "%s"\non_failure = "continue"\n%s\n' "$1" "$2" "${3:-}"
}
{
    echo '[playbook]'
    echo 'name = "https"'
    step by-name "https://localhost:$port_good/" 'ca_file = "ca.pem"'
    step by-ip "https://127.0.0.1:$port_good/" 'ca_file = "ca.pem"'
    step system-store "https://localhost:$port_good/"
    step wrong-name "https://localhost:$port_wrong/" 'ca_file = "ca.pem"'
    step expired "https://localhost:$port_expired/" 'ca_file = "ca.pem"'
    step unknown-ca "https://localhost:$port_self/" 'ca_file = "ca.pem"'
    step insecure "https://localhost:$port_self/" 'insecure = true'
    printf '[[step]]\nid = "restart"\naction = "service"\nname = "web"\nmanager = "command"\n'
    printf 'start = ["true"]\nstop = ["true"]\nop = "restart"\n'
    printf 'wait_healthy = { url = "https://localhost:%s/", ca_file = "ca.pem", timeout = "5s" }\n' "$port_good"
} >pb.toml

expect_rc 0 validate.out -- "$RB" validate pb.toml
contains validate.out 'pb.toml:44:1: warning: step "insecure": insecure = true: the server'"'"'s certificate and name are not verified'
contains validate.out "ok (8 steps, 0 finally), 1 warning"
expect_rc 3 run.out -- "$RB" run -p pb.toml --yes # failed checks: verification_failed
"$RB" status --state-dir .rollback --json >status.json 2>/dev/null || true
python3 - status.json <<'PY' || fail "step states"
import json, sys
run = json.load(open(sys.argv[1]))
steps = {s["id"]: s for s in (run.get("steps") or run["runs"][0]["steps"])}
def check(step, state, text=""):
    s = steps[step]
    detail = json.dumps(s)
    assert s["state"] == state, (step, s["state"], detail)
    assert text in detail, (step, text, detail)
check("by-name", "succeeded", "200")
check("by-ip", "succeeded", "200")
check("system-store", "verification_failed", "unable to get local issuer certificate")
check("wrong-name", "verification_failed", "hostname mismatch")
check("expired", "verification_failed", "certificate has expired")
check("unknown-ca", "verification_failed", "self-signed certificate")
check("insecure", "succeeded", "200")
check("restart", "succeeded", "healthy after")
PY
pass "http action and wait_healthy over https: verified by name and IP; wrong name, expired, unknown CA fail with the reason; insecure passes"

# ca_file or insecure on an http:// URL: a located error
printf '[[step]]\nid = "x"\naction = "http"\nurl = "http://127.0.0.1:1/"\nca_file = "ca.pem"\n' >plain.toml
expect_rc 2 plain.out -- "$RB" validate plain.toml
contains plain.out 'key "ca_file": only for an https:// url'

# --- sources: an http probe and a Prometheus query over https --------------------------------
cat >rollback.toml <<TOML
[target]
name = "shop"
[source.site]
kind = "http"
url = "https://localhost:$port_good/"
ca_file = "ca.pem"
[source.prom]
kind = "prometheus"
url = "https://127.0.0.1:$port_good"
ca_file = "ca.pem"
query = "sum(rate(errors[5m]))"
[source.bad]
kind = "http"
url = "https://localhost:$port_expired/"
ca_file = "ca.pem"
[[condition]]
name = "down"
signal = "site.error_rate"
above = 0.5
[[condition]]
name = "errors"
signal = "prom.value"
above = 1
[[condition]]
name = "expired"
signal = "bad.error_rate"
above = 0.5
mode = "observe"
TOML
expect_rc 5 check.out -- "$RB" check -c rollback.toml --json # 5: a trigger decision (observe)
python3 - check.out <<'PY' || fail "sources over https"
import json, sys
rec = next(json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"version"'))
c = {x["name"]: x for x in rec["conditions"]}
assert c["down"]["observed"] == 0, c["down"]
assert c["errors"]["observed"] == 0.25, c["errors"]
assert c["expired"]["observed"] == 1, c["expired"]
# The reason the probes failed is in the evidence (brk28 02).
assert "certificate has expired" in c["expired"]["detail"], c["expired"]
PY
"$RB" explain --last -c rollback.toml > explain.out 2>&1 || true
contains explain.out "certificate has expired"
"$RB" check -c rollback.toml > check_text.out 2>&1 || true
contains check_text.out "certificate has expired"
# (mode observe: validate -c refuses a config that can trigger without a playbook, 44/08)
{ sed 's/^ca_file = "ca.pem"$/insecure = true/' rollback.toml; printf '[decision]\nmode = "observe"\n'; } >insecure.toml
expect_rc 0 vc.out -- "$RB" validate -c insecure.toml
contains vc.out "warning: source \"site\": insecure = true"
pass "http and prometheus sources over https; an expired certificate is a failed probe; insecure warned"

# --- a ca_file without a certificate: an error before anything runs (brk28 08) ---------------
cp ca.key notacert.pem
sed 's/^ca_file = "ca.pem"$/ca_file = "notacert.pem"/' rollback.toml >badca.toml
expect_rc 2 vbad.out -- "$RB" validate -c badca.toml
contains vbad.out 'key "ca_file": '
contains vbad.out 'holds no CA certificate'
printf '[playbook]\nname = "v"\n[[step]]\nid = "verify-https"\naction = "http"\nurl = "https://localhost:%s/"\nca_file = "notacert.pem"\n' "$port_good" >badca_pb.toml
expect_rc 2 plan.out -- "$RB" plan badca_pb.toml
contains plan.out "holds no CA certificate"
pass "a ca_file holding no certificate is a validate -c / plan error"
