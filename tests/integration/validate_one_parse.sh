#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `rollback validate FILE` reads and parses a playbook once: the parse that tells a playbook from
# a rollback.toml is the one the playbook is loaded from (issue 12 point 8; toml++'s parse is most
# of the cost of a long playbook). A syntax error is still reported once, located, exit 2.
source "$(dirname "$0")/../support/itest.sh"
command -v strace >/dev/null || { echo "skipped: strace is not installed"; exit 125; }

cat >"$WORK/pb.toml" <<'TOML'
[playbook]
name = "one-parse"
[[step]]
id = "first"
action = "wait"
duration = "0s"
[[step]]
id = "second"
action = "wait"
duration = "0s"
needs = ["first"]
TOML
# LeakSanitizer cannot run under ptrace (the sanitizer build, scripts/sanitize.sh): leaks off here.
expect_rc 0 "$WORK/validate.out" -- env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -qq -e trace=open,openat -o "$WORK/strace.out" "$RB" validate "$WORK/pb.toml"
contains "$WORK/validate.out" "pb.toml: ok (2 steps, 0 finally)"
# The loaders open an input with O_NONBLOCK (a FIFO is never waited on).
grep -F '/pb.toml"' "$WORK/strace.out" | grep -F O_NONBLOCK >"$WORK/opens.txt" || true
reads=$(wc -l <"$WORK/opens.txt")
[ "$reads" -eq 1 ] || { cat "$WORK/opens.txt" >&2; fail "validate read the playbook $reads times, not once"; }
pass "validate reads and parses a playbook once"

printf '[playbook]\nname = "broken"\n[[step]\nid = "a"\n' >"$WORK/broken.toml"
expect_rc 2 "$WORK/broken.out" -- "$RB" validate "$WORK/pb.toml" "$WORK/broken.toml"
contains "$WORK/broken.out" "pb.toml: ok (2 steps, 0 finally)"
contains "$WORK/broken.out" "broken.toml:3:"
contains "$WORK/broken.out" "broken.toml: 1 error"
pass "a playbook that does not parse is reported once, located, beside one that validates"
