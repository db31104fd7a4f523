#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it round 23 through the real binary: what validate/plan say about a password in a URL
# (03), a --var without = (08), a URL path value that climbs (02), an env name that is not a name
# (07), a raw HTTP body (17) and a systemd unit name that begins with '-' (01).
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"

# --- 03: the refused user:password@ is masked in the echoed source line --------------------------
cat >pb.toml <<'EOF'
[[step]]
id = "h"
action = "http"
url = "http://deploy:HttpUserinfoSecret66@127.0.0.1:8000/health"
EOF
cat >c3.toml <<'EOF'
[target]
name = "shop"
[source.h]
kind = "http"
url = "https://ops:HealthUserinfoSecret77@127.0.0.1:1/health"
[[condition]]
name = "d"
signal = "h.up"
window = "10s"
below = 1
EOF
expect_rc 2 v.out -- "$RB" validate pb.toml
contains v.out 'user:password@ in the URL is not supported'
contains v.out 'url = "http://deploy:***@127.0.0.1:8000/health"'
lacks v.out HttpUserinfoSecret66
expect_rc 2 p.out -- "$RB" plan -p pb.toml
lacks p.out HttpUserinfoSecret66
expect_rc 2 c.out -- "$RB" validate -c c3.toml
contains c.out 'https://ops:***@127.0.0.1:1/health'
lacks c.out HealthUserinfoSecret77
pass "a URL's password is masked in the diagnostic's source line"

# --- 08: --var without = never echoes past the name -----------------------------------------------
cat >e.toml <<'EOF'
[vars]
token = { env = "TOK", secret = true }
[[step]]
id = "w"
action = "exec"
argv = ["true"]
env = { T = "{{token}}" }
EOF
unset TOK
expect_rc 2 var1.out -- "$RB" plan -p e.toml --var "token VarNoEqSecret02"
contains var1.out 'rollback: error: --var token ***: expected NAME=VALUE'
expect_rc 2 var2.out -- "$RB" run -p e.toml --yes --json --var "token:VarJsonSecret07"
contains var2.out '"message":"--var token***: expected NAME=VALUE"'
expect_rc 2 var3.out -- "$RB" plan -p e.toml --var "=VarEmptySecret03"
for f in var1.out var2.out var3.out; do
    lacks "$f" VarNoEqSecret02
    lacks "$f" VarJsonSecret07
    lacks "$f" VarEmptySecret03
done
pass "--var without = shows the name only, in text and --json"

# --- 02: a value that makes a URL path segment "..", "." or empty --------------------------------
cat >u.toml <<'EOF'
[vars]
user = { env = "U", default = "alice" }
[[step]]
id = "reset"
action = "http"
method = "POST"
url = "http://127.0.0.1:1/api/v1/users/{{user}}/admin-reset"
EOF
for value in .. . "" "../x" "a/../.."; do
    expect_rc 2 u.out -- env U="$value" "$RB" validate u.toml
    contains u.out 'u.toml:7:7: error: step "reset": the value of {{user}} makes'
    contains u.out 'the request would address another resource'
done
U=.alice. "$RB" validate u.toml >u.out 2>&1 || fail "a value with dots inside refused: $(cat u.out)"
pass "a URL path value that climbs (.. . empty ../x) is refused, located"

# --- 07: env names -----------------------------------------------------------------------------
cat >env.toml <<'EOF'
[[step]]
id = "e"
action = "exec"
argv = ["sh", "-c", "echo $PATH"]
env = { "A=B" = "x", "PATH=/tmp/evil:/usr/bin:/bin" = "", "" = "emptyname", "C\u0000D" = "nul" }
EOF
expect_rc 2 env.out -- "$RB" validate env.toml
[ "$(grep -c 'is not an environment variable name' env.out)" = 4 ] || fail "expected 4 env name errors: $(cat env.out)"
contains env.out 'env.toml:5:9: error: step "e": key "env": "A=B" is not an environment variable name'
pass "env names with = or NUL, or empty: located errors"

# --- 17: bodies ----------------------------------------------------------------------------------
cat >j.toml <<'EOF'
[vars]
v = { env = "V", default = "x" }
[[step]]
id = "ndjson-doc"
action = "http"
url = "http://127.0.0.1:1/_bulk"
headers = { Content-Type = "application/x-ndjson" }
body = '{"release": "{{v}}", "admin": false}'
[[step]]
id = "xml"
action = "http"
url = "http://127.0.0.1:1/x"
headers = { Content-Type = "application/xml" }
body = '<r>{{v}}</r>'
EOF
expect_rc 0 j.out -- "$RB" validate j.toml
contains j.out 'j.toml:14:8: warning: step "xml": key "body": a reference in a application/xml body goes in raw'
contains j.out '1 warning'
V='x", "admin": true, "y": "' "$RB" plan -p j.toml >jp.out 2>&1 || fail "plan: $(cat jp.out)"
pass "validate warns on a raw body; a JSON body is JSON whatever its Content-Type"

# --- 01: systemctl gets -- before the unit name ------------------------------------------------
mkdir bin
cat >bin/systemctl <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$WORK/calls.log"
[ "\$1" = cat ] && exit 0
[ "\$2" = -- ] || { echo "no -- before the unit" >&2; exit 1; }
exit 0
EOF
chmod +x bin/systemctl
cat >s.toml <<'EOF'
[vars]
unit = { env = "UNIT", default = "shop.service" }
[[step]]
id = "restart-shop"
phase = "code"
action = "service"
manager = "systemd"
op = "restart"
name = "{{unit}}"
EOF
for unit in --help -.mount; do
    : >calls.log
    UNIT=$unit PATH="$WORK/bin:$PATH" timeout 60 "$RB" run -p s.toml --yes --state-dir "$WORK/st" >s.out 2>&1 ||
        fail "run with unit $unit: $(cat s.out)"
    grep -qxF -- "restart -- $unit" calls.log || fail "systemctl got: $(cat calls.log)"
    grep -qxF -- "cat -- $unit" calls.log || fail "preflight systemctl got: $(cat calls.log)"
done
pass "systemctl OP -- NAME for a unit name that begins with -"
