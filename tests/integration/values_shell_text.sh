#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it round 23 (findings 10-16) on the real binary: every input is refused by `validate` and
# `run` (exit 2, located at file:line:col, the env hint), nothing runs and no run is recorded:
# - 10, 11, 12, 16: a {{v}} anywhere in a bash -c command string (test -v, wait -p, namerefs,
#   $[ ], backquotes, here-strings, ${...}, $'...', trap, pipes into code, command position);
# - 15: the command string after options that follow -c, and after a letter group ending in o;
# - 13, 14: node -pe, gdb -ex/--eval-command, vim/vi/ex -c/--cmd/+cmd, env -iS/-vS/-u N -S,
#   sed --line-length N, mawk -W V.
# The env route of the same scripts runs the hostile values as data.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
P="$WORK/PWNED"
n=0
refused() { # $1: argv (TOML); $2: the value; $3: what the error says
    n=$((n + 1))
    printf '[vars]\nv = { env = "V", default = "x" }\n[[step]]\nid = "s"\naction = "exec"\ntimeout = "10s"\nargv = %s\n' "$1" >c$n.toml
    V="$2" expect_rc 2 c$n.val -- "$RB" validate c$n.toml
    contains c$n.val "c$n.toml:7:"
    contains c$n.val "$3"
    V="$2" expect_rc 2 c$n.run -- "$RB" run -p c$n.toml --yes --state-dir st
    [ ! -e "$P" ] || fail "c$n.toml ran the value: $1"
}
shell_text="{{v}} in shell text"
while IFS= read -r script; do
    refused "[\"bash\", \"-c\", '''$script''']" "x[\$(touch $P)]\`;touch $P;\`;touch $P;\\';touch $P;'" "$shell_text"
    contains c$n.val 'hint: pass it through the environment: env = { V = "{{v}}" } and "$V"'
done <<'CASES'
if [ -v {{v}} ]; then echo set; fi
test -v {{v}}; echo done
sleep 0 & wait -n -p {{v}}; echo done
declare -n r={{v}}; echo $r
f() { local -n r={{v}}; echo $r; }; f
typeset -n r={{v}}; echo $r
echo $[ 1 + {{v}} ]
x={{v}}; test -v "$x"; echo done
echo `echo {{v}}`
x=`printf %s {{v}}`; echo "$x"
echo "$(echo {{v}})"
cat <<< "a {{v}}"
cat <<<"{{v}}"
echo "${x:-"{{v}}"}"
echo "${x-'{{v}}'}"
cat <<< {{v}}
cat <<< '{{v}}'
echo $'{{v}}'
trap "{{v}}" EXIT
trap {{v}} EXIT
trap -- {{v}} EXIT
trap {{v}} 0
echo {{v}} | awk '{system($0)}'
echo {{v}} | sed e
echo {{v}} | perl -ne 'system $_'
printf '%s\n' {{v}} | while read -r c; do $c; done
$(echo {{v}})
x={{v}}; $x
CASES
for argv in '["bash", "-c", "-x", "echo {{v}}"]' '["bash", "-ce", "-o", "pipefail", "echo {{v}}"]' \
    '["sh", "-eo", "errexit", "-c", "echo {{v}}"]'; do
    refused "$argv" "\$(touch $P)" "$shell_text"
done
pass "$n shell-text inputs of findings 10, 11, 12, 15, 16 refused, nothing run"
m=$n
N="require('fs').writeFileSync('$P','')"
refused '["node", "-pe", "{{v}}"]' "$N" "{{v}} inside node code"
refused '["gdb", "-batch", "-ex", "{{v}}"]' "shell touch $P" "{{v}} inside gdb code"
refused '["gdb", "-batch", "-ex={{v}}"]' "shell touch $P" "{{v}} inside gdb code"
refused '["gdb", "-batch", "--eval-command", "{{v}}"]' "shell touch $P" "{{v}} inside gdb code"
refused '["vim", "-es", "-c", "{{v}}", "-c", "q!"]' "!touch $P" "{{v}} inside vim code"
refused '["vi", "-es", "--cmd", "{{v}}", "-c", "q!"]' "silent !touch $P" "{{v}} inside vi code"
refused '["ex", "-s", "+{{v}}", "+q!"]' "!touch $P" "{{v}} inside ex code"
refused '["env", "-iS", "{{v}}"]' "touch $P" "{{v}} inside env -S code"
refused '["env", "-vS", "{{v}}"]' "touch $P" "{{v}} inside env -S code"
refused '["env", "-u", "X", "-S{{v}}"]' "touch $P" "{{v}} inside env -S code"
refused '["sed", "--line-length", "5", "{{v}}", "in.txt"]' "1e touch $P" "{{v}} inside sed code"
refused '["mawk", "-W", "interactive", "{{v}}", "/dev/null"]' "BEGIN{system(\"touch $P\")}" "{{v}} inside mawk code"
pass "$((n - m)) code inputs of findings 13, 14 refused, nothing run"
[ ! -d st/runs ] || [ -z "$(ls st/runs)" ] || fail "a refused playbook recorded a run"

# The env route: the same kind of scripts read "$V" and keep every value data.
cat >env.toml <<'TOML'
[vars]
v = { env = "V" }
[[step]]
id = "s"
action = "exec"
argv = ["bash", "-c", '''x="$V"; [ -n "$x" ] && echo "a $V" && echo "${x:-"$V"}" && cat <<< "$V" && printf '%s\n' "$V" > got.txt''']
env = { V = "{{v}}" }
TOML
V="x[\$(touch $P)]\`touch $P\`;touch $P" expect_rc 0 env.run -- "$RB" run -p env.toml --yes --state-dir st2
[ ! -e "$P" ] || fail "the env route ran the value"
[ "$(cat got.txt)" = "x[\$(touch $P)]\`touch $P\`;touch $P" ] || fail "got.txt: $(cat got.txt)"
pass "the env route keeps the value data"
