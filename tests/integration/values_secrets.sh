#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Values stay values, secrets never leak (DESIGN.md, trust invariants 5 and 6), on the real binary:
# - shell: `shell = true` and ["sh", "-c", "... {{v}}"] are refused (located, exit 2, nothing
#   run); through env or "$1", v = `v1; touch PWNED; echo $(id -un)` is written exactly;
# - a secret canary printed by steps, a lifecycle hook, a hook step and a probe, in any letter
#   case and percent-encoded, at every offset around the kept tail (4096 bytes), the console's
#   line limit (800 bytes) and a read boundary: zero occurrences, whole or in part (8 characters
#   or more), in the run's output, the journal, report (text and --json), status (text and --json),
#   history and rollback.log;
# - escape sequences printed by a step reach no terminal output raw.
source "$(dirname "$0")/../support/itest.sh"

export CANARY='CnrySecretQ7x9z/AbCd+EfGh=28'
CANARY_URL='CnrySecretQ7x9z%2FAbCd%2BEfGh%3D28'
export CANARY_URL
# --- shell injection ----------------------------------------------------------------------------
mkdir -p "$WORK/shell" "$WORK/pb/hooks"
cd "$WORK/shell"
cat >shell.toml <<'TOML'
[vars]
release = "v1; touch PWNED; echo $(id -un)"
[[step]]
id = "shell-true"
action = "exec"
shell = true
argv = "printf '%s' {{release}} > a.txt; printf '%s' \"in quotes: {{release}}\" > b.txt"
[[step]]
id = "sh-c"
action = "exec"
argv = ["sh", "-c", "echo {{release}} > c.txt; echo '{{release}}' > d.txt"]
probe = "test -e never-{{release}}"
TOML
# No value in shell text: each reference is a located error with the env hint, nothing runs.
expect_rc 2 "$WORK/shell-plan.out" -- "$RB" plan -p shell.toml
# (A string written with escapes is located at its start, one written plainly at the reference.)
contains "$WORK/shell-plan.out" 'shell.toml:7:8: error: step "shell-true": {{release}} in shell text'
contains "$WORK/shell-plan.out" 'shell.toml:11:27: error: step "sh-c": {{release}} in shell text'
contains "$WORK/shell-plan.out" 'shell.toml:11:54: error: step "sh-c": {{release}} in shell text'
contains "$WORK/shell-plan.out" 'shell.toml:12:24: error: step "sh-c": {{release}} in shell text'
contains "$WORK/shell-plan.out" 'hint: pass it through the environment: env = { V = "{{release}}" } and "$V"'
[ "$(grep -c ': error: ' "$WORK/shell-plan.out")" = 5 ] || fail "expected 5 errors: $(cat "$WORK/shell-plan.out")"
expect_rc 2 "$WORK/shell.out" -- "$RB" run -p shell.toml --yes
[ ! -e PWNED ] && [ ! -e a.txt ] && [ ! -e c.txt ] || fail "a refused playbook ran"
cat >shell.toml <<'TOML'
[vars]
release = "v1; touch PWNED; echo $(id -un)"
[[step]]
id = "shell-true"
action = "exec"
shell = true
argv = "printf '%s' \"$RELEASE\" > a.txt; printf '%s' \"in quotes: $RELEASE\" > b.txt"
env = { RELEASE = "{{release}}" }
[[step]]
id = "sh-c"
action = "exec"
argv = ["sh", "-c", "echo \"$1\" > c.txt; echo \"$RELEASE\" > d.txt", "sh", "{{release}}"]
env = { RELEASE = "{{release}}" }
probe = "test -e \"never-$RELEASE\""
TOML
expect_rc 0 "$WORK/shell.out" -- "$RB" run -p shell.toml --yes
[ ! -e PWNED ] || fail "a value ran as a command: PWNED exists"
[ "$(cat a.txt)" = 'v1; touch PWNED; echo $(id -un)' ] || fail "a.txt: $(cat a.txt)"
[ "$(cat b.txt)" = 'in quotes: v1; touch PWNED; echo $(id -un)' ] || fail "b.txt: $(cat b.txt)"
[ "$(cat c.txt)" = 'v1; touch PWNED; echo $(id -un)' ] || fail "c.txt: $(cat c.txt)"
[ "$(cat d.txt)" = 'v1; touch PWNED; echo $(id -un)' ] || fail "d.txt: $(cat d.txt)"
pass "shell: a value in shell text is refused, located; through env or \"\$1\" it is data"

# The argument route behind wrappers and shell options (a break-it review ran $(...) through each).
cat >wrapped.toml <<'TOML'
[vars]
release = "v1; touch PWNED; echo $(touch PWNED2) `touch PWNED3`"
[[step]]
id = "env"
action = "exec"
argv = ["env", "sh", "-c", "echo \"$1\" > e1.txt", "sh", "{{release}}"]
[[step]]
id = "timeout"
action = "exec"
argv = ["timeout", "5", "bash", "--norc", "-c", "echo \"$1\" > e2.txt", "sh", "{{release}}"]
[[step]]
id = "options"
action = "exec"
argv = ["sh", "-o", "errexit", "-c", "--", "echo \"$1\" > e3.txt", "sh", "{{release}}"]
[[step]]
id = "setsid"
action = "exec"
argv = ["setsid", "-w", "sh", "-c", "echo \"$1\" > e4.txt", "sh", "{{release}}"]
TOML
expect_rc 0 "$WORK/wrapped.out" -- "$RB" run -p wrapped.toml --yes
for f in PWNED PWNED2 PWNED3; do [ ! -e "$f" ] || fail "a wrapped sh -c ran a value: $f exists"; done
for n in 1 2 3 4; do
    [ "$(cat e$n.txt)" = 'v1; touch PWNED; echo $(touch PWNED2) `touch PWNED3`' ] || fail "e$n.txt: $(cat e$n.txt)"
done
# Another language's code cannot hold a value safely: refused at validation, located.
cat >python.toml <<'TOML'
[vars]
release = "v1"
[[step]]
id = "py"
action = "exec"
argv = ["python3", "-c", "print('{{release}}')"]
TOML
expect_rc 2 "$WORK/python.out" -- "$RB" validate python.toml
contains "$WORK/python.out" "python.toml:6:26:"
contains "$WORK/python.out" "{{release}} inside python3 code"
pass "shell: behind wrappers, shell options and -c -- a value after the command string is data; other languages' code is refused"

# --- secret canary ------------------------------------------------------------------------------
cd "$WORK/pb"
cat >hooks/leak <<'SH'
#!/bin/sh
# A hook that prints the secret, then enough to put the kept tail's start inside it.
printf 'hook sees %s\n' "$CANARY"
head -c 4090 /dev/zero | tr '\0' 'h'
SH
chmod +x hooks/leak
{
    cat <<'TOML'
[playbook]
name = "canary"
hooks_dir = "hooks"
[playbook.hooks]
before-step = ["leak"]

[vars]
token = { env = "CANARY", secret = true }

[[step]]
id = "split-read"
action = "exec"
# The secret in two writes: the engine reads it in two chunks.
argv = ["sh", "-c", "printf 'part %s' \"$(echo \"$TOKEN\" | cut -c1-11)\"; sleep 0.1; printf '%s\\n' \"$(echo \"$TOKEN\" | cut -c12-)\""]
env = { TOKEN = "{{token}}" }

[[step]]
id = "hook-step"
action = "hook"
hook = "leak"
TOML
    # The kept tail (4096 bytes) begins 1..30 bytes before the secret's end, in three spellings.
    for back in $(seq 1 30); do
        for form in plain upper url; do
            case $form in
                plain) expr='$TOKEN' ;;
                upper) expr='$(printf %s $TOKEN | tr a-z A-Z)' ;;
                url) expr='$CANARY_URL' ;;
            esac
            cat <<TOML

[[step]]
id = "tail-$form-$back"
action = "exec"
argv = ["sh", "-c", "printf 'tok=%s' \"$expr\"; head -c \$((4096 - $back)) /dev/zero | tr '\\\\0' 'x'"]
env = { TOKEN = "{{token}}" }
TOML
        done
    done
    cat <<'TOML'

[[step]]
id = "killed"
action = "exec"
# Kills the engine mid-step: `resume` runs the probe, which prints the secret.
argv = ["sh", "-c", "kill -9 $PPID; sleep 5"]
probe = ["sh", "-c", "printf 'probe %s\\n' \"$TOKEN\"; head -c 2040 /dev/zero | tr '\\0' 'p'"]

[[step]]
id = "fails"
action = "exec"
# Fails: the console shows the last lines of its output (800 bytes) with the secret cut there.
argv = ["sh", "-c", "printf '\\033]0;pwned\\007\\033[2J'; printf 'lower %s\\n' \"$(printf %s \"$TOKEN\" | tr A-Z a-z)\"; yes fill | head -c 790; exit 3"]
env = { TOKEN = "{{token}}" }
TOML
} >canary.toml

expect_rc 0 "$WORK/validate.out" -- "$RB" validate canary.toml
rc=0
"$RB" run -p canary.toml --yes -v </dev/null >"$WORK/run1.out" 2>&1 || rc=$?
[ "$rc" = 137 ] || { cat "$WORK/run1.out" >&2; fail "expected the engine to be killed (137), got $rc"; }
expect_rc 1 "$WORK/resume.out" -- "$RB" resume --state-dir .rollback --yes -v
contains .rollback/runs/*.jsonl '"type":"step_probe"'
RUN=$(basename .rollback/runs/*.jsonl .jsonl)
expect_rc 0 "$WORK/report.out" -- "$RB" report "$RUN" --state-dir .rollback
expect_rc 0 "$WORK/report.json" -- "$RB" report "$RUN" --state-dir .rollback --json
expect_rc 0 "$WORK/status.out" -- "$RB" status --state-dir .rollback
expect_rc 0 "$WORK/status.json" -- "$RB" status --state-dir .rollback --json
expect_rc 0 "$WORK/history.out" -- "$RB" history --state-dir .rollback
contains "$WORK/report.out" "tok=***"
contains "$WORK/report.out" "lower ***"

# Occurrences of the canary, whole or any 8-character piece of it, in any case, plain or
# percent-encoded, per output place. The goal is 0 everywhere.
python3 - "$CANARY" "$WORK/run1.out" "$WORK/resume.out" .rollback/runs/*.jsonl \
    "$WORK/report.out" "$WORK/report.json" "$WORK/status.out" "$WORK/status.json" \
    "$WORK/history.out" .rollback/rollback.log <<'PY' >"$WORK/counts.txt"
import sys, urllib.parse
secret = sys.argv[1]
forms = {secret.lower(), urllib.parse.quote(secret, safe="").lower()}
pieces = {f[i:i + 8] for f in forms for i in range(len(f) - 7)}
total = 0
for path in sys.argv[2:]:
    text = open(path, "rb").read().decode("utf-8", "replace").lower()
    n = sum(text.count(p) for p in pieces)
    total += n
    print(f"{n:5d}  {path.split('/')[-1]}")
print(f"{total:5d}  total")
PY
cat "$WORK/counts.txt"
grep -q '^    0  total$' "$WORK/counts.txt" || fail "the secret canary leaked (counts above)"
pass "secret canary: 0 occurrences in run output, journal, report, status, history, log"

# Escape sequences from a step's output reach no terminal output raw.
for f in run1.out resume.out report.out status.out history.out; do
    if grep -q $'\033' "$WORK/$f"; then fail "$f carries a raw escape sequence"; fi
done
contains "$WORK/report.out" '\x1b]0;pwned\x07\x1b[2J'
pass "escape sequences are shown as text, never sent to the terminal"
