#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Shell completion generated from the command table: `rollback completion bash|zsh`. The bash
# function is driven as bash would (COMP_WORDS/COMP_CWORD): commands, options, subcommands,
# file names; every command `rollback help` lists is offered. The build's installed copies are
# the same text.
source "$(dirname "$0")/../support/itest.sh"

"$RB" completion bash > "$WORK/rollback.bash"
"$RB" completion zsh > "$WORK/_rollback"
expect_rc 2 "$WORK/bad.out" -- "$RB" completion fish
contains "$WORK/bad.out" "completion: name the shell: bash or zsh"
expect_rc 0 "$WORK/usage.out" -- "$RB" help completion
contains "$WORK/usage.out" "usage: rollback completion bash|zsh"

# complete WORD...: the candidates bash offers for the last word, one per line, sorted.
complete_words() {
    bash -c 'source "$1"; shift
             COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
             _rollback; printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$WORK/rollback.bash" "$@"
}

[ "$(complete_words rollback re | tr '\n' ' ')" = "rehearse report resume " ] ||
    fail "rollback re<TAB>: $(complete_words rollback re | tr '\n' ' ')"
pass "rollback re<TAB> offers rehearse report resume"

# Every command of the table (rollback help lists them) and nothing hidden.
"$RB" help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } /^$/ && on { exit }' |
    sort > "$WORK/help.commands"
[ "$(wc -l < "$WORK/help.commands")" -ge 17 ] || fail "rollback help lists too few commands"
complete_words rollback "" > "$WORK/completed.commands"
diff "$WORK/help.commands" "$WORK/completed.commands" || fail "completed commands differ from rollback help"
lacks "$WORK/completed.commands" "completion"
pass "all $(wc -l < "$WORK/help.commands") commands of rollback help are completed"

# Options come from the command's own description (rollback run --help).
complete_words rollback run --d > "$WORK/run.opts"
contains "$WORK/run.opts" "--dry-run"
"$RB" resume --help | grep -oE -- '--[a-z][a-z-]+' | sort -u > "$WORK/resume.help"
complete_words rollback resume -- | sort -u > "$WORK/resume.completed"
comm -23 "$WORK/resume.help" "$WORK/resume.completed" > "$WORK/missing"
# --run-id is RESUME's positional RUN_ID: offered as a word, not an option.
grep -vx -- '--run-id' "$WORK/missing" > "$WORK/missing.opts" || true
[ ! -s "$WORK/missing.opts" ] || fail "resume options not completed: $(cat "$WORK/missing.opts")"
pass "options of rollback run and resume"

[ "$(complete_words rollback backup "" | tr '\n' ' ')" = "list verify " ] || fail "backup subcommands"
[ "$(complete_words rollback help reh)" = "rehearse" ] || fail "help COMMAND"
mkdir -p "$WORK/cwd/playdir"
touch "$WORK/cwd/playbook-a.toml"
( cd "$WORK/cwd" && complete_words rollback run -p play ) > "$WORK/files"
contains "$WORK/files" "playbook-a.toml"
contains "$WORK/files" "playdir"
( cd "$WORK/cwd" && complete_words rollback status --state-dir play ) > "$WORK/dirs"
[ "$(cat "$WORK/dirs")" = "playdir" ] || fail "--state-dir completes directories: $(cat "$WORK/dirs")"
[ -z "$(complete_words rollback backup --dsn "")" ] || fail "--dsn DSN offers no file names"
pass "subcommands, help COMMAND, file and directory values"

# A file name with spaces, or with glob characters, is one candidate, as it is (break-it round 33,
# finding 08: `COMPREPLY=($(compgen -f ...))` split "my playbook.toml" and globbed "a[1].toml").
mkdir -p "$WORK/sp" && touch "$WORK/sp/my playbook.toml" "$WORK/sp/a[1].toml" "$WORK/sp/a1.toml"
mkdir -p "$WORK/sp/my dir"
( cd "$WORK/sp" && complete_words rollback validate my ) > "$WORK/sp.pos"
{ [ "$(wc -l < "$WORK/sp.pos")" -eq 2 ] && grep -qFx 'my dir' "$WORK/sp.pos" &&
    grep -qFx 'my playbook.toml' "$WORK/sp.pos"; } ||
    fail "validate my<TAB>: $(tr '\n' '|' < "$WORK/sp.pos")"
( cd "$WORK/sp" && complete_words rollback run -p a ) > "$WORK/sp.opt"
{ [ "$(wc -l < "$WORK/sp.opt")" -eq 2 ] && grep -qFx 'a[1].toml' "$WORK/sp.opt" &&
    grep -qFx 'a1.toml' "$WORK/sp.opt"; } || fail "run -p a<TAB>: $(tr '\n' '|' < "$WORK/sp.opt")"
( cd "$WORK/sp" && complete_words rollback status --state-dir my ) > "$WORK/sp.dir"
[ "$(cat "$WORK/sp.dir")" = "my dir" ] || fail "--state-dir my<TAB>: $(tr '\n' '|' < "$WORK/sp.dir")"
pass "file and directory names with spaces or glob characters are one candidate each"

# The files the build generated (and cmake --install installs) are this output.
gen=$(dirname "$RB")/generated
if [ -f "$gen/rollback.bash" ]; then
    cmp "$gen/rollback.bash" "$WORK/rollback.bash" || fail "build/generated/rollback.bash is stale"
    cmp "$gen/_rollback" "$WORK/_rollback" || fail "build/generated/_rollback is stale"
fi
head -1 "$WORK/_rollback" | grep -qx '#compdef rollback' || fail "zsh script has no #compdef line"
if command -v zsh >/dev/null; then
    zsh -n "$WORK/_rollback" || fail "zsh -n: the zsh completion does not parse"
    # An interactive zsh on a pseudo-terminal (zpty) with the script in its fpath completes
    # LINE<TAB>; prints what the terminal showed, escape sequences removed. It reads until the
    # output holds WORD (at most 20 s: an interactive zsh with compinit starts slowly on a busy
    # machine), so the test waits for the completion, not for a fixed time.
    zsh_complete() { # LINE WORD
        mkdir -p "$WORK/zfunc" && cp "$WORK/_rollback" "$WORK/zfunc/"
        timeout 30 zsh -f -c '
            zmodload zsh/zpty
            zpty comp zsh -f -i
            zpty -w comp "PS1=\"> \"; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -d $1/dump"
            zpty -w comp "$2"$'"'"'\t'"'"'
            out=""
            for i in {1..100}; do
                while zpty -r -t comp line; do out+=$line; done
                [[ $out == *$3* ]] && break
                sleep 0.2
            done
            print -rn -- "$out"
            zpty -d comp' _ "$WORK/zfunc" "$1" "$2" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | tr -d '\r'
    }
    zsh_complete "rollback re" resume > "$WORK/zsh.re"
    for c in "rehearse  -- restore backups" "report    -- a run's full timeline" "resume    -- continue"; do
        contains "$WORK/zsh.re" "$c"
    done
    zsh_complete "rollback run --dry" dry-run > "$WORK/zsh.run"
    contains "$WORK/zsh.run" "rollback run --dry-run"
    zsh_complete "rollback backup " verify > "$WORK/zsh.backup"
    contains "$WORK/zsh.backup" "list    verify"
    for f in "$WORK"/zsh.*; do lacks "$f" "_arguments:"; done
    pass "zsh completes commands, options and subcommands (zpty)"
else
    echo "note: zsh not installed, the zsh script's syntax is not checked"
fi
pass "completion"
