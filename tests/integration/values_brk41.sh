#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 41, on the real binary and the real bash:
# - 01: a value passed the documented way (env = { N = "{{v}}" }, read as "$N") ran as code in
#   eleven bash constructs (command/builtin before read, mapfile, printf -v, declare -i, test -v;
#   an array-literal subscript; an array slice; a bare name in let; BASH_REMATCH; $_) and their
#   siblings (printenv in a command substitution, a pipe into one, a function's output, an
#   interpreter's script). Each script runs the value when bash is given it directly; the same
#   scripts as steps are refused by `validate` (exit 2, one located error per step) and by `run`,
#   and nothing runs. The safe form (a case check, then [ -gt ], the value as an argument)
#   validates and runs.
# - 02: a value chose the script bash, python3, perl and node run: refused like awk -f {{v}},
#   behind env and sudo too; a fixed script with the value as its argument runs.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"

# --- 01: the reproduction's steps, and siblings of each kind.
scripts=(
    'builtin read x <<< "$N"; echo $(( x ))'
    'command read x <<< "$N"; echo $(( x ))'
    'builtin mapfile -t a <<< "$N"; echo $(( a ))'
    'command printf -v x %s "$N"; echo $(( x ))'
    'command declare -i x; x=$N; echo $x'
    'command test -v "$N" && echo set'
    'declare -a arr=([$N]=on); echo "${arr[*]}"'
    'hosts=(a b c); echo "${hosts[@]:$N}"'
    'let "y = N + 1"; echo $y'
    '[[ $N =~ (.*) ]] && echo $(( BASH_REMATCH[1] ))'
    'test -n "$N"; echo $(( _ ))'
    'arr=(x); arr+=([$N]=1)'
    'f() { local -a arr=([$N]=1); }; f'
    'x=$(printenv N); (( x ))'
    'x=$(env | sed -n "s/^N=//p"); (( x ))'
    'printf %s "$N" | { x=$(cat); (( x )); }'
    'printf %s "$N" > f.txt; x=$(cat f.txt); (( x ))'
    'f() { echo "$N"; }; x=$(f); (( x ))'
    'select x in a; do break; done <<< "$N"; (( REPLY ))'
    "[[ \$N -eq	1 ]]"
)
value='z[$(touch PWNED-$0)]'
# Each is a real hole: bash given the value runs it.
for i in "${!scripts[@]}"; do
    (cd "$WORK" && N="$value" bash -c "${scripts[$i]}" "direct$i" >/dev/null 2>&1 </dev/null) || true
    [ -e "PWNED-direct$i" ] || fail "bash did not run the value in: ${scripts[$i]}"
done
rm -f PWNED-*
pass "bash runs the value in each of the ${#scripts[@]} scripts"

{
    printf '[vars]\nv = "1"\n'
    for i in "${!scripts[@]}"; do
        printf '\n[[step]]\nid = "s%d"\naction = "exec"\non_failure = "continue"\n' "$i"
        printf "argv = [\"bash\", \"-c\", '''%s''', \"s%d\"]\n" "${scripts[$i]}" "$i"
        printf 'env = { N = "{{v}}" }\n'
    done
} >shellvals.toml
expect_rc 2 val.out -- "$RB" validate shellvals.toml
for i in "${!scripts[@]}"; do
    # Line 2 + 7 per step: the argv of step i is at line 8 + 7 i.
    contains val.out "shellvals.toml:$((8 + 7 * i)):"
done
[ "$(grep -c ': error: ' val.out)" = "${#scripts[@]}" ] || fail "not one error per step"
contains val.out 'a value handed to the shell (env.N ({{v}})) is evaluated as code in'
contains val.out 'an array subscript in a compound assignment'
contains val.out 'the value gets there as a command substitution prints it: printenv'
contains val.out 'the script writes it to a pipe and a command substitution may read it back'
expect_rc 2 run.out -- "$RB" run -p shellvals.toml --yes --var "v=$value" --state-dir st
sleep 0.3
[ -z "$(ls PWNED-* 2>/dev/null)" ] || fail "a refused step ran the value: $(ls PWNED-*)"
[ ! -d st/runs ] || [ -z "$(ls st/runs)" ] || fail "a refused playbook recorded a run"
pass "${#scripts[@]} steps refused at validate and run, each located, nothing run"

# The safe form: checked, compared with [ ], passed as an argument; a command substitution's
# number in arithmetic stays allowed while nothing writes the value to a pipe or a file.
cat >safe.toml <<'TOML'
[vars]
v = "1"
[[step]]
id = "s"
action = "exec"
argv = ["bash", "-c", '''case $N in ""|*[!0-9]*) echo not-a-number; exit 3;; esac; now=$(date +%s); (( now > 0 )) && [ "$N" -gt 0 ] && printf "positive %s\n" "$N"''']
env = { N = "{{v}}" }
TOML
expect_rc 0 safe.val -- "$RB" validate safe.toml
"$RB" run -p safe.toml --yes --var "v=$value" --state-dir st2 >safe.run 2>&1 || true
[ -z "$(ls PWNED-* 2>/dev/null)" ] || fail "the safe form ran the value"
contains safe.run "not-a-number"
"$RB" run -p safe.toml --yes --var v=7 --state-dir st3 >safe7.run 2>&1 || fail "the safe form failed on 7"
run_id=$(basename "$(ls st3/runs/*.jsonl)" .jsonl)
expect_rc 0 safe7.report -- "$RB" report --state-dir st3 "$run_id"
contains safe7.report "| positive 7"
pass "the safe form validates, refuses a hostile value itself and compares a number"

# --- 02: the script an interpreter runs.
printf 'touch %s/PWNED-bash\n' "$WORK" >evil.sh
printf 'open("%s/PWNED-python", "w")\n' "$WORK" >evil.py
n=0
script_refused() { # ARGV-TOML PROGRAM
    n=$((n + 1))
    printf '[vars]\nscript = "deploy/switch.sh"\n[[step]]\nid = "s"\naction = "exec"\non_failure = "continue"\nargv = %s\n' "$1" >s$n.toml
    expect_rc 2 s$n.val -- "$RB" validate s$n.toml
    contains s$n.val "s$n.toml:7:"
    contains s$n.val "{{script}} is the script $2 runs (its program file)"
    contains s$n.val "hint: name a fixed script"
    expect_rc 2 s$n.run -- "$RB" run -p s$n.toml --yes --var "script=$3" --state-dir st-s$n
}
script_refused '["bash", "{{script}}"]' bash "$WORK/evil.sh"
script_refused '["sh", "-x", "{{script}}"]' sh "$WORK/evil.sh"
script_refused '["env", "bash", "{{script}}"]' bash "$WORK/evil.sh"
script_refused '["sudo", "-u", "nobody", "bash", "{{script}}"]' bash "$WORK/evil.sh"
script_refused '["python3", "{{script}}"]' python3 "$WORK/evil.py"
script_refused '["python3", "-u", "{{script}}"]' python3 "$WORK/evil.py"
script_refused '["timeout", "5", "python3", "/tmp/{{script}}"]' python3 "$WORK/evil.py"
script_refused '["perl", "{{script}}"]' perl "$WORK/evil.py"
script_refused '["node", "{{script}}"]' node "$WORK/evil.py"
sleep 0.3
[ -z "$(ls PWNED-* 2>/dev/null)" ] || fail "a refused script ran: $(ls PWNED-*)"
pass "$n script operands taking a value refused, nothing run"
# A fixed script beside the playbook, the value its argument: data.
mkdir -p bin
printf '#!/bin/sh\nprintf "arg=%%s\\n" "$1" > "$(dirname "$0")/../got.txt"\n' >bin/step.sh
cat >fixed.toml <<'TOML'
[vars]
script = "x"
[[step]]
id = "s"
action = "exec"
argv = ["bash", "{{playbook_dir}}/bin/step.sh", "{{script}}"]
TOML
expect_rc 0 fixed.val -- "$RB" validate fixed.toml
expect_rc 0 fixed.run -- "$RB" run -p fixed.toml --yes --var "script=$value" --state-dir st4
[ "$(cat got.txt)" = "arg=$value" ] || fail "got.txt: $(cat got.txt)"
[ -z "$(ls PWNED-* 2>/dev/null)" ] || fail "the fixed script ran the value"
pass "a fixed script gets the value as data"
