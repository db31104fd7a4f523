#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `rollback help CMD` reads well at 3 a.m. (issue 13): positional arguments shown as positionals
# (not --id/--file/--sub), only the shared options the command uses (and an unlisted one is
# refused), its exit codes, and an example that the command really accepts.
source "$(dirname "$0")/../support/itest.sh"

"$RB" help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } /^$/ && on { exit }' \
    > "$WORK/commands"
[ "$(wc -l < "$WORK/commands")" -ge 17 ] || fail "rollback help lists too few commands"
contains <("$RB" help) "rollback help COMMAND"

while read -r cmd; do
    out="$WORK/help.$cmd"
    expect_rc 0 "$out" -- "$RB" help "$cmd"
    contains "$out" "usage: rollback $cmd"
    contains "$out" "exit codes:"
    contains "$out" "example:"
    # The example parses: its options exist (an unknown one exits 2 before --help is seen).
    example=$(awk '/^example:/ { getline; sub(/^  rollback /, ""); print; exit }' "$out")
    [ -n "$example" ] || fail "$cmd: no example line"
    if [ "$cmd" != help ] && [ "$cmd" != version ]; then
        eval "set -- $example"
        expect_rc 0 "$WORK/example.$cmd" -- "$RB" "$@" --help
    fi
    # Every exit code listed is a documented one.
    awk '/^exit codes:/ { on = 1; next } on && /^  [0-9]/ { print $1 } /^$/ { on = 0 }' "$out" |
        while read -r code; do
            case " 0 1 2 3 4 5 6 7 130 " in *" $code "*) ;; *) fail "$cmd: exit code $code" ;; esac
        done
done < "$WORK/commands"
pass "every command's help has usage, exit codes and an example it accepts"

# Positionals are shown as positionals, not as the options they are bound to.
contains "$WORK/help.approve" "  DECISION_ID|RUN_ID "
contains "$WORK/help.approve" "  STEP "
lacks "$WORK/help.approve" "--id"
contains "$WORK/help.validate" "  FILE... "
lacks "$WORK/help.backup" "--sub"
contains "$WORK/help.backup" "  list|verify "
contains "$WORK/help.audit" "  RUN_ID "
pass "positional arguments are shown as positionals"

# Only the shared options a command uses; one it does not use is refused, naming the command.
lacks "$WORK/help.status" "--verbose"
lacks "$WORK/help.validate" "--state-dir"
lacks "$WORK/help.backup" "--config"
contains "$WORK/help.run" "--verbose"
contains "$WORK/help.monitor" "--state-dir"
expect_rc 2 "$WORK/status-v.out" -- "$RB" status -v
contains "$WORK/status-v.out" "status: unknown option"
pass "shared options shown and accepted only where the command uses them"

# The exit codes are the command's own: check lists 5, validate does not list 1.
contains "$WORK/help.check" "  5    "
lacks "$WORK/help.validate" "  1    "
contains "$WORK/help.resume" "  6    "
pass "each command lists its own exit codes"

# An unknown command is an error, not the general help.
expect_rc 2 "$WORK/nosuch.out" -- "$RB" help stauts
contains "$WORK/nosuch.out" "no command"
contains "$WORK/nosuch.out" "did you mean status"
pass "help of an unknown command: exit 2 with a guess"

# A reason is a sentence: a 5000-byte one is refused before anything runs.
expect_rc 2 "$WORK/reason.out" -- "$RB" trigger --condition x --reason "$(head -c 5000 /dev/zero | tr '\0' a)"
contains "$WORK/reason.out" "--reason is 5000 bytes, at most 4096"
pass "--reason is bounded"

# --json: the table as data, the same commands and options the text shows; version as an object.
expect_rc 0 "$WORK/help.json" -- "$RB" help --json
python3 - "$WORK/help.json" "$WORK/commands" <<'PY' || fail "help --json does not describe the commands"
import json, sys
doc = json.load(open(sys.argv[1]))
names = [c["name"] for c in doc["commands"]]
assert names == open(sys.argv[2]).read().split(), names
run = next(c for c in doc["commands"] if c["name"] == "run")
pb = next(o for o in run["options"] if o["long"] == "playbook")
assert (pb["short"], pb["value"]) == ("p", "FILE"), pb
assert {"code": 4, "meaning": next(e["meaning"] for e in doc["exit_codes"] if e["code"] == 4)} in run["exit_codes"]
assert sorted(e["code"] for e in doc["exit_codes"]) == [0, 1, 2, 3, 4, 5, 6, 7, 130]
assert all(c["example"].startswith("rollback " + c["name"]) for c in doc["commands"]), names
PY
expect_rc 0 "$WORK/help-status.json" -- "$RB" help status --json
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["name"] == "status" and not any(o["long"] == "verbose" for o in c["options"]), c' \
    "$WORK/help-status.json" || fail "help status --json"
expect_rc 0 "$WORK/help2.json" -- "$RB" --help --json
cmp -s "$WORK/help.json" "$WORK/help2.json" || fail "rollback --help --json differs from rollback help --json"
expect_rc 0 "$WORK/version.json" -- "$RB" version --json
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["name"] == "rollback" and v["version"], v' \
    "$WORK/version.json" || fail "version --json: $(cat "$WORK/version.json")"
expect_rc 2 "$WORK/help-bad.json" -- "$RB" help nosuch --json
python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e["code"] == 2 and "nosuch" in e["message"], e' \
    "$WORK/help-bad.json" || fail "help of an unknown command with --json: $(cat "$WORK/help-bad.json")"
expect_rc 2 "$WORK/version-bad.out" -- "$RB" version --frobnicate
contains "$WORK/version-bad.out" 'unexpected argument "--frobnicate"'
pass "help --json and version --json: the table as data; a wrong argument is a JSON error"
