#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hooks that fail are seen (hooks/README.md): the shipped notify with no destination records
# "nothing_sent" with its reason, a page that cannot go out records "failed" with its reason (not
# only "exit 1"); status and report list them and know every record of the run; plan lists the
# lifecycle hooks that will be called.
set -euo pipefail
: "${ROLLBACK:?path of the rollback binary}"
SRC=${ROLLBACK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ ! -x /usr/bin/python3 ]; then
    echo "SKIP: /usr/bin/python3 (Debian package python3) is missing"
    exit 125
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset NOTIFY_WEBHOOK_URL NOTIFY_FILE NOTIFY_EMAIL PAGE_WEBHOOK_URL ROLLBACK_STATE_DIR
cd "$work"
mkdir hooks
cp "$SRC/hooks/notify" "$SRC/hooks/page-oncall" hooks/
cat > pb.toml <<'TOML'
[playbook]
name = "hooked"
[playbook.hooks]
on-trigger = ["notify"]
on-failure = ["notify", "page-oncall"]
[[step]]
id = "tell"
phase = "immediate"
action = "hook"
hook = "notify"
[[step]]
id = "broken"
phase = "code"
action = "exec"
argv = ["false"]
TOML

"$ROLLBACK" plan -p pb.toml > plan.out 2>&1 || { cat plan.out; fail "plan failed"; }
grep -q "^Hooks ($work/hooks):" plan.out || { cat plan.out; fail "plan does not list the hooks"; }
grep -Eq "^  on-trigger +notify$" plan.out || { cat plan.out; fail "plan lacks on-trigger"; }
grep -Eq "^  on-failure +notify, page-oncall$" plan.out || { cat plan.out; fail "plan lacks on-failure"; }
"$ROLLBACK" plan -p pb.toml --json > plan.json
grep -q '"hooks":{"on-trigger":\["notify"\],"on-failure":\["notify","page-oncall"\]}' plan.json \
    || { cat plan.json; fail "plan --json lacks the hooks"; }

rc=0
"$ROLLBACK" run -p pb.toml --yes --reason "hooks test" > run.out 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat run.out; fail "the run exited $rc, expected 1 (step broken failed)"; }
id=$(basename "$(ls .rollback/runs/*.jsonl)" .jsonl)
"$ROLLBACK" report "$id" > report.out 2>&1 || { cat report.out; fail "report failed"; }
cat report.out
expect() { grep -qF -- "$1" report.out || fail "the report lacks: $1"; }
expect "hook notify (on-trigger): nothing_sent: notify: no destination configured (set NOTIFY_WEBHOOK_URL, NOTIFY_FILE or NOTIFY_EMAIL); event not sent:"
expect "hook page-oncall (on-failure broken): failed: page-oncall: PAGE_WEBHOOK_URL is not set: nobody was paged for:"
expect "step tell: succeeded"
expect "nothing was sent: notify: no destination configured"
if grep -q "unknown" report.out; then fail "the report has a record of an unknown type"; fi
"$ROLLBACK" status "$id" > status.out 2>&1
grep -qF "  hook: page-oncall (on-failure broken): failed: page-oncall: PAGE_WEBHOOK_URL is not set" status.out \
    || { cat status.out; fail "status does not list the failed page"; }
grep -qF "  hook: notify (on-trigger): nothing_sent: notify: no destination configured" status.out \
    || { cat status.out; fail "status does not list the notification that was not sent"; }
if grep -q "warning:" status.out; then cat status.out; fail "status warns about the journal"; fi
"$ROLLBACK" status "$id" --json > status.json
grep -q '"hook_problems":\["notify (on-trigger): nothing_sent: ' status.json \
    || { cat status.json; fail "status --json lacks hook_problems"; }
echo ok
