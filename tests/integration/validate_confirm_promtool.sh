#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The differential test of validate's PromQL reader (break-it 42/02: validate accepted confirming
# queries Prometheus refuses, and the alert then stayed no_data at every confirmation). Every query
# of tests/data/promql/confirm_queries.txt goes through `rollback validate -c` (an alert condition
# confirmed by it) and, when promtool is installed, through Prometheus' own parser: `promtool check
# rules` on a recording rule `timestamp(QUERY)` (what the confirmation asks). The verdicts pinned
# in the file hold for both: ok (both accept), refuse (both refuse), prom3 (validate accepts
# Prometheus 3's syntax; promtool 2 refuses it). Without promtool the binary's verdicts are still
# checked, then the test exits 125: the comparison did not run.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
data=$SRC/tests/data/promql/confirm_queries.txt

config() { # QUERY: rollback.toml whose alert condition is confirmed by QUERY
    cat > rollback.toml <<TOML
[source.errors]
kind = "prometheus"
url = "http://127.0.0.1:9090"
query = '''$1'''
[[condition]]
name = "shop-errors"
kind = "alert"
match = { alertname = "HighErrorRate" }
confirm = { source = "errors", above = 0.8 }
[server]
[decision]
mode = "observe" # no playbook: decides, runs nothing
TOML
}
rule() { # QUERY FILE: a rule group recording timestamp(QUERY); ")" on a line of its own (a comment)
    local q=${1//$'\n'/$'\n'          }
    printf 'groups:\n  - name: g\n    rules:\n      - record: confirm\n        expr: |\n          timestamp(%s\n          )\n' "$q" > "$2"
}

verdicts=() queries=() wrong=()
while IFS= read -r line; do
    [[ -z $line || $line == \#* ]] && continue
    verdict=${line%% *}
    query=${line#"$verdict"}
    query=${query#"${query%%[! ]*}"}
    case $verdict in ok | refuse | prom3) ;; *) fail "$data: unknown verdict in: $line" ;; esac
    config "$query"
    rc=0
    "$RB" validate -c rollback.toml < /dev/null > validate.out 2>&1 || rc=$?
    case $verdict:$rc in
        ok:0 | prom3:0) ;;
        refuse:2) grep -qF 'key "confirm": the query of source "errors" can never confirm: ' validate.out ||
            wrong+=("validate refuses for another reason: $query: $(head -1 validate.out)") ;;
        *) wrong+=("validate exits $rc, pinned $verdict: $query: $(head -1 validate.out)") ;;
    esac
    rule "$query" "rule_${#queries[@]}.yml"
    verdicts+=("$verdict")
    queries+=("$query")
done < "$data"
n=${#queries[@]}
[ "$n" -gt 450 ] || fail "$data: only $n queries"
if [ ${#wrong[@]} -gt 0 ]; then
    printf '%s\n' "${wrong[@]}" >&2
    fail "${#wrong[@]} of $n queries do not get their pinned verdict from validate"
fi
pass "$n queries: validate gives each the verdict pinned in tests/data/promql"

command -v promtool > /dev/null || { echo "skip: promtool not installed (Debian: prometheus): no comparison"; exit 125; }
version=$(promtool --version 2>&1 | sed -n 's/^promtool, version \([0-9][^ ]*\).*/\1/p')
[ -n "$version" ] || fail "cannot read promtool's version: $(promtool --version 2>&1 | head -1)"
# One promtool for every file: per file, "Checking FILE" and then "  SUCCESS: ..." on stdout, or
# its errors on stderr.
files=()
for ((i = 0; i < n; i++)); do files+=("rule_$i.yml"); done
promtool check rules "${files[@]}" > promtool.out 2> promtool.err || true
declare -A accepted=()
while IFS= read -r line; do
    case $line in
        "Checking "*) current=${line#Checking } ;;
        *SUCCESS*) accepted[$current]=1 ;;
    esac
done < promtool.out
agree=0 prom3=0 wrong=()
for ((i = 0; i < n; i++)); do
    says=refuse
    [ -n "${accepted[rule_$i.yml]:-}" ] && says=ok
    want=${verdicts[i]}
    if [ "$want" = prom3 ]; then
        prom3=$((prom3 + 1))
        [ "${version%%.*}" -ge 3 ] && continue # Prometheus 3 may take them: not asserted
        want=refuse
    fi
    if [ "$says" = "$want" ]; then
        agree=$((agree + 1))
    else
        wrong+=("promtool $version says $says, pinned ${verdicts[i]}: ${queries[i]}")
    fi
done
if [ ${#wrong[@]} -gt 0 ]; then
    printf '%s\n' "${wrong[@]}" >&2
    fail "promtool disagrees with ${#wrong[@]} pinned verdicts (its errors: $WORK/promtool.err)"
fi
pass "promtool $version agrees on $agree of $n queries: $((n - prom3)) as validate judges them, and the $prom3 of Prometheus 3's syntax refused$([ "${version%%.*}" -ge 3 ] && echo ' (not asserted: promtool 3)')"
