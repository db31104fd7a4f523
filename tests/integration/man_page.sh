#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rollback(1), generated from the command table (`rollback help --man`): renders without a
# warning, names every command and every option the commands parse, and every exit code of
# engine/util/exit_code.hpp.
source "$(dirname "$0")/../support/itest.sh"
command -v groff >/dev/null || { echo "skip: groff not installed"; exit 125; }

"$RB" help --man > "$WORK/rollback.1"
groff -man -Tutf8 -ww -z "$WORK/rollback.1" 2> "$WORK/groff.err" || fail "groff failed"
[ ! -s "$WORK/groff.err" ] || { cat "$WORK/groff.err" >&2; fail "groff warns about rollback.1"; }
if command -v man >/dev/null; then
    MANWIDTH=80 man --warnings -l "$WORK/rollback.1" > "$WORK/man.txt" 2> "$WORK/man.err" ||
        fail "man -l failed"
    [ ! -s "$WORK/man.err" ] || { cat "$WORK/man.err" >&2; fail "man -l warns"; }
else
    groff -man -Tutf8 "$WORK/rollback.1" > "$WORK/man.txt"
fi
pass "renders without warnings"

for section in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS CONFIGURATION "EXIT STATUS" ENVIRONMENT FILES "SEE ALSO"; do
    contains "$WORK/rollback.1" ".SH $section"
done
# [server]: every key config/read_server.cpp reads, and the paths the monitor serves (it said
# nothing of [server] before: issue 13 break-it 10).
sed -n '/^\.SS "\[server\]"/,/^\.SH /p' "$WORK/rollback.1" > "$WORK/server"
grep -oE 'k_server_keys = \{[^}]*\}' "$SRC/engine/config/read_server.cpp" | grep -oE '"[a-z_]+"' | tr -d '"' > "$WORK/keys"
[ "$(wc -l < "$WORK/keys")" -ge 4 ] || fail "[server] keys not read from read_server.cpp"
while read -r key; do contains "$WORK/server" ".B $key"; done < "$WORK/keys"
for path in /api/v1/alertmanager /api/v1/webhook/ /metrics /healthz; do contains "$WORK/server" "$path"; done
pass "CONFIGURATION names [server]'s keys ($(tr '\n' ' ' < "$WORK/keys")) and its paths"

# Every command `rollback help` lists, and every option its --help shows.
"$RB" help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } /^$/ && on { exit }' \
    > "$WORK/commands"
n=0
while read -r cmd; do
    contains "$WORK/rollback.1" ".SS \"$cmd\""
    if [ "$cmd" != help ] && [ "$cmd" != version ]; then
        "$RB" "$cmd" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u > "$WORK/opts.$cmd"
        while read -r opt; do
            case "$cmd $opt" in
            # positionals, written as words in the usage line (validate FILE..., RUN_ID, ...)
            "validate --file" | *" --run-id" | "backup --sub" | "backup --id" | "audit --action" | \
                "approve --id" | "explain --id" | "state --action" | "state --argument") continue ;;
            esac
            grep -qF -- "${opt//-/\\-}" "$WORK/rollback.1" || fail "$cmd $opt is not in the man page"
        done < "$WORK/opts.$cmd"
    fi
    n=$((n + 1))
done < "$WORK/commands"
[ "$n" -ge 17 ] || fail "only $n commands"
lacks "$WORK/rollback.1" '.SS "completion"'
pass "all $n commands and their options"

# The exit codes of util::ExitCode, each under EXIT STATUS.
grep -oE '= [0-9]+,' "$SRC/engine/util/exit_code.hpp" | tr -dc '0-9\n' > "$WORK/codes"
[ "$(wc -l < "$WORK/codes")" -ge 9 ] || fail "exit codes not read from exit_code.hpp"
sed -n '/^\.SH EXIT STATUS/,/^\.SH ENVIRONMENT/p' "$WORK/rollback.1" > "$WORK/exit"
while read -r code; do
    contains "$WORK/exit" ".B $code"
done < "$WORK/codes"
pass "exit codes $(tr '\n' ' ' < "$WORK/codes")"

gen=$(dirname "$RB")/generated/rollback.1
if [ -f "$gen" ]; then
    cmp "$gen" "$WORK/rollback.1" || fail "build/generated/rollback.1 is stale"
fi
contains "$WORK/man.txt" "man 1 rollback"
pass "man page"
