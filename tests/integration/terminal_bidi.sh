#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bidi controls and invisible characters (the "Trojan Source" class, break-it 30/19) in a step's
# output and in --reason reach no terminal output raw: run, report, status and history show them
# as \u202e.
source "$(dirname "$0")/../support/itest.sh"

mkdir -p "$WORK/pb"
cd "$WORK/pb"
# The step prints RLO, LRI, PDI and a zero-width space around text that reads "OK" reordered.
cat >pb.toml <<'TOML'
[[step]]
id = "s"
action = "exec"
argv = ["printf", "restored release v1\u202e\u2066 2v esaeler derotser  OK\u2069\n\u200b\ufeff"]
TOML
expect_rc 0 "$WORK/run.out" -- "$RB" run -p pb.toml --yes --reason $'rollback \u202eKO\u200f'
R=$(ls .rollback/runs | sed 's/\.jsonl$//')
"$RB" report "$R" --state-dir .rollback >"$WORK/report.out" 2>&1
"$RB" status --state-dir .rollback >"$WORK/status.out" 2>&1
"$RB" history --state-dir .rollback >"$WORK/history.out" 2>&1
for f in run report status history; do
    for ch in $'\u202e' $'\u2066' $'\u2069' $'\u200b' $'\u200f' $'\ufeff'; do
        if grep -qF -- "$ch" "$WORK/$f.out"; then
            fail "$f shows a raw U+$(printf '%s' "$ch" | iconv -f utf-8 -t utf-16be | od -An -tx1 | tr -d ' \n'): $(cat "$WORK/$f.out")"
        fi
    done
done
contains "$WORK/run.out" 'reason: rollback \u202eKO\u200f'
contains "$WORK/report.out" 'v1\u202e\u2066 2v esaeler derotser  OK\u2069'
pass "run, report, status and history show bidi and zero-width characters as \\u escapes (\\u202e and its kin)"
