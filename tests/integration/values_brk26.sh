#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 26, on the real binary: the forms that ran a value as code — a shell under another
# name (rbash), a name beginning with '|' (psql -o, strace -o), node --import, scp -o, tar's
# abbreviated options and old form, sqlite3 after the database, python -m timeit, git grep -O,
# make --eval, and values handed to bash through env or "$1" that it evaluates (arithmetic, a
# name, the command position) — are refused by `validate` (exit 2, located) and by `run`, and
# nothing runs. The safe form ([ "$N" -gt 0 ] after a case check) runs.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"

n=0
refused() { # VALUE ARGV-TOML [EXTRA-LINE]
    n=$((n + 1))
    export V="$1"
    printf '[vars]\nv = { env = "V" }\n[[step]]\nid = "s"\naction = "exec"\ntimeout = "5s"\nargv = %s\n%s\n' \
        "$2" "${3:-}" >r$n.toml
    expect_rc 2 r$n.out -- "$RB" validate r$n.toml
    contains r$n.out "r$n.toml:7:"
    expect_rc 2 r$n.run -- "$RB" run -p r$n.toml --yes --state-dir st
}
refused '$(touch PWNED)' '["rbash", "-c", "echo {{v}}"]'
refused '|touch PWNED' '["strace", "-o", "{{v}}", "true"]'
refused '|touch PWNED' '["psql", "-X", "--output={{v}}", "-c", "select 1", "postgresql:///none?host=/nonexistent"]'
refused 'data:text/javascript,import("child_process").then(c=>c.execSync("touch PWNED"))' \
    '["node", "--import={{v}}", "-e", "1"]'
refused 'touch PWNED' '["scp", "-o", "ProxyCommand={{v}}", "a", "h:b"]'
refused 'touch PWNED' '["tar", "--use-compress-prog={{v}}", "-cf", "o.tar", "r1.toml"]'
refused 'touch PWNED' '["tar", "cIf", "{{v}}", "o.tar", "r1.toml"]'
refused '.shell touch PWNED' '["sqlite3", "-separator", ",", ":memory:", "{{v}}"]'
refused '__import__("os").system("touch PWNED")' '["python3", "-m", "timeit", "{{v}}"]'
refused 'touch PWNED;' '["git", "grep", "-O{{v}}", "x"]'
refused '$(shell touch PWNED)' '["make", "--eval={{v}}"]'
refused 'x[$(touch PWNED)]' '["bash", "-c", "[[ \"$N\" -gt 0 ]]"]' 'env = { N = "{{v}}" }'
refused 'x[$(touch PWNED)]' '["bash", "-c", "(( \"$1\" > 3 ))", "sh", "{{v}}"]'
refused 'x[$(touch PWNED)]' '["bash", "-c", "printf -v \"$1\" %s x", "sh", "{{v}}"]'
refused 'touch PWNED' '["sh", "-c", "set -e; $@", "sh", "{{v}}"]'
refused 'touch PWNED' '["sh", "-c", "$CMD"]' 'env = { CMD = "{{v}}" }'
refused 'touch PWNED' '["bash", "-c", "builtin eval \"$1\"", "sh", "{{v}}"]'
sleep 0.5
[ ! -e PWNED ] || fail "a refused form ran the value"
pass "$n forms that ran a value as code are refused, nothing run"

# The safe form: a number checked, then compared with [ ]; a hostile value is refused by the
# script itself and never evaluated.
cat >safe.toml <<'TOML'
[vars]
v = { env = "V" }
[[step]]
id = "s"
action = "exec"
timeout = "5s"
argv = ["bash", "-c", 'case $N in ""|*[!0-9]*) echo not-a-number; exit 3;; esac; [ "$N" -gt 0 ] && echo positive', "sh", "{{v}}"]
env = { N = "{{v}}" }
TOML
export V='x[$(touch PWNED)]'
expect_rc 0 safe.val -- "$RB" validate safe.toml
"$RB" run -p safe.toml --yes --state-dir st2 >safe.run 2>&1 || true
[ ! -e PWNED ] || fail "the safe form ran the value"
contains safe.run "not-a-number"
export V=7
"$RB" run -p safe.toml --yes --state-dir st3 >safe7.run 2>&1 || fail "the safe form failed on 7"
contains safe7.run "positive"
pass "the safe form validates, refuses a hostile value itself and compares a number"
