#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 21, findings 03 and 06, on the real binary:
# - a value reaching a shell the validator did not see (find -exec sh -c, watch, prlimit/setpriv
#   in front of sh -c, `... | sh`, git -c alias.x=!...) is refused by `validate` (exit 2, located)
#   and nothing runs;
# - generated: every wrapper x shell refuses `printf %s {{v}}` in its command string (no value in
#   shell text) and runs `printf %s "$1"` with the value after it as data;
# - a secret in a command line is refused (exit 2, nothing run); passed through `env`, it is in
#   no process's /proc/PID/cmdline while the step runs, and masked in output and journal;
# - the shipped playbooks and examples validate.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
export V='x$(touch PWNED)y`touch PWNED2`'"'"'; touch PWNED3'

# --- refused: located error, exit 2, nothing run ------------------------------------------------
n=0
for form in '["watch", "-n", "1", "-g", "echo {{v}}"]' \
    '["bash", "-c", "watch -n1 -g \"echo {{v}}\""]' \
    '["sh", "-c", "find . -maxdepth 0 -exec sh -c \"echo {{v}}\" \\;"]' \
    '["git", "-c", "alias.z=!echo {{v}}", "z"]' \
    '["sh", "-c", "printf %s {{v}} | sh"]' '["sh", "-c", "echo {{v}} | bash"]' \
    '["sh", "-c", "bash <<< {{v}}"]' '["sh", "-c", "echo {{v}} | sh -s"]' \
    '["sh", "-c", "source /dev/stdin <<< {{v}}"]' '["sh", "-c", "cat | sh", "sh", "{{v}}"]' \
    '["ssh", "localhost", "echo", "{{v}}"]' '["site-wrapper", "echo {{v}} > out"]'; do
    n=$((n + 1))
    printf '[vars]\nv = { env = "V" }\n[[step]]\nid = "s"\naction = "exec"\nargv = %s\ntimeout = "5s"\n' "$form" >r$n.toml
    expect_rc 2 r$n.out -- "$RB" validate r$n.toml
    contains r$n.out "r$n.toml:6:"
    contains r$n.out "{{v}}"
    expect_rc 2 r$n.run -- "$RB" run -p r$n.toml --yes --state-dir st
done
sleep 0.5
[ ! -e PWNED ] && [ ! -e PWNED2 ] && [ ! -e PWNED3 ] || fail "a refused form ran the value"
pass "$n forms where a value would reach an unseen shell are refused, nothing run"

# --- wrapper x shell, generated: in the command string refused; after it data, really run --------
generate() { # $1: spliced | argument
    echo '[vars]'
    echo 'v = { env = "V" }'
    i=0
    for wrapper in '"prlimit", "--nofile=100", ' '"setpriv", "--no-new-privs", ' \
        '"find", ".", "-maxdepth", "0", "-exec", ' '"timeout", "5", ' '"nice", "-n", "1", ' \
        '"stdbuf", "-oL", ' '"setsid", "-w", ' '"env", "A=1", ' '"flock", "lk", ' '' \
        '"timeout", "5", "prlimit", "--nofile=100", '; do
        for shell in sh bash dash; do
            i=$((i + 1))
            tail='' && case $wrapper in '"find"'*) tail=', ";"' ;; esac
            if [ "$1" = spliced ]; then
                printf '[[step]]\nid = "w%d"\naction = "exec"\nargv = [%s"%s", "-c", "printf %%s {{v}} > out-%d"%s]\n' \
                    "$i" "$wrapper" "$shell" "$i" "$tail"
            else
                printf '[[step]]\nid = "w%d"\naction = "exec"\nargv = [%s"%s", "-c", "printf %%s \\"$1\\" > out-%d", "sh", "{{v}}"%s]\n' \
                    "$i" "$wrapper" "$shell" "$i" "$tail"
            fi
        done
    done
}
generate spliced >spliced.toml
expect_rc 2 spliced.val -- "$RB" validate spliced.toml
[ "$(grep -c ': error: step "w[0-9]*": {{v}} in shell text' spliced.val)" = 33 ] || fail "expected 33 shell-text errors: $(cat spliced.val)"
generate argument >wrapped.toml
expect_rc 0 wrapped.val -- "$RB" validate wrapped.toml
expect_rc 0 wrapped.run -- "$RB" run -p wrapped.toml --yes --state-dir st
[ ! -e PWNED ] && [ ! -e PWNED2 ] && [ ! -e PWNED3 ] || fail "a wrapped shell ran the value"
count=0
for f in out-*; do
    [ "$(cat "$f")" = "$V" ] || fail "$f: $(cat "$f")"
    count=$((count + 1))
done
[ "$count" = 33 ] || fail "expected 33 outputs, got $count"
pass "33 wrapper x shell forms: in the command string refused; as \"\$1\" the value is data, never run"

# --- secrets: never on a command line -------------------------------------------------------------
export TOK=Tk9CanarySecretVal42
cat >argv-secret.toml <<'TOML'
[vars]
token = { env = "TOK", secret = true }
[[step]]
id = "e"
action = "exec"
argv = ["sh", "-c", "sleep 2; echo ok", "sh", "{{token}}"]
TOML
expect_rc 2 argv-secret.out -- "$RB" validate argv-secret.toml
contains argv-secret.out 'argv-secret.toml:6:47: error: step "e": key "argv": {{token}} is secret'
contains argv-secret.out 'env = { TOKEN = "{{token}}" }'
lacks argv-secret.out "$TOK"
expect_rc 2 argv-secret.run -- "$RB" run -p argv-secret.toml --yes --state-dir st2
[ ! -d st2/runs ] || [ -z "$(ls st2/runs)" ] || fail "a refused playbook started a run"
pass "a secret in argv is refused, located, unshown"

cat >env-secret.toml <<'TOML'
[vars]
token = { env = "TOK", secret = true }
[[step]]
id = "e"
action = "exec"
argv = ["sh", "-c", "sleep 3; echo \"got $TOKEN\""]
env = { TOKEN = "{{token}}" }
TOML
expect_rc 0 env-secret.val -- "$RB" validate env-secret.toml
"$RB" run -p env-secret.toml --yes --state-dir st3 >env-secret.run 2>&1 &
pid=$!
printf '%s\n' "$TOK" >tok.pat
printf 'TOKEN=%s\n' "$TOK" >env.pat
found_env=0
printf '%s\n' 'sleep 3; echo "got $TOKEN"' >step.pat
# Scan every process's command line for as long as the run lasts (the step sleeps 3 s).
while kill -0 "$pid" 2>/dev/null; do
    sleep 0.05
    if grep -lszF -f tok.pat /proc/[0-9]*/cmdline >leak.txt; then
        fail "the secret is on a command line: $(cat leak.txt)"
    fi
    for f in $(grep -lszxF -f step.pat /proc/[0-9]*/cmdline); do
        environ=${f%/cmdline}/environ
        if grep -qszxF -f env.pat "$environ" && mode=$(stat -c %a "$environ" 2>/dev/null); then
            found_env=1
            [ "$mode" = 400 ] || fail "environ of the step is mode $mode, not 0400"
        fi
    done
done
wait "$pid" || fail "the env-route run failed: $(cat env-secret.run)"
[ "$found_env" = 1 ] || fail "never saw the step's process with TOKEN in its environment"
run_id=$(basename st3/runs/*.jsonl .jsonl)
expect_rc 0 env-secret.report -- "$RB" report "$run_id" --state-dir st3
contains env-secret.report "got ***"
contains st3/runs/"$run_id".jsonl "got ***"
for f in env-secret.run env-secret.report st3/runs/*.jsonl st3/rollback.log; do lacks "$f" "$TOK"; done
pass "through env: in no /proc/PID/cmdline (only the step's own 0400 environ), masked in output and journal"

# --- shipped content validates --------------------------------------------------------------------
for pb in "$SRC"/examples/hello/hello.toml "$SRC"/playbooks/*.toml; do
    expect_rc 0 shipped.out -- env -u SHOP_ROOT "$RB" validate "$pb"
done
pass "examples/hello and playbooks/ validate"
