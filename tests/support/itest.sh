# SPDX-License-Identifier: MIT
# Sourced by integration tests: a work dir removed on exit (kept with ROLLBACK_KEEP_TEMP=1),
# and small assertions that name what a user would check.
set -euo pipefail
SRC=${ROLLBACK_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
RB=${ROLLBACK:-$SRC/build/rollback}
[ -x "$RB" ] || { echo "FAIL: rollback binary not found at $RB" >&2; exit 1; }
WORK=$(mktemp -d /tmp/rbit.XXXXXX)
_cleanups=()
on_exit() { _cleanups+=("$1"); }
_run_cleanups() {
    local rc=$?
    for c in "${_cleanups[@]}"; do eval "$c" || true; done
    if [ $rc -ne 0 ] || [ -n "${ROLLBACK_KEEP_TEMP:-}" ]; then
        echo "work dir kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap _run_cleanups EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# expect_rc CODE OUTFILE -- CMD...: runs CMD (stdin from /dev/null), stdout+stderr to OUTFILE.
expect_rc() {
    local want=$1 out=$2; shift 3
    local rc=0
    "$@" </dev/null >"$out" 2>&1 || rc=$?
    if [ "$rc" != "$want" ]; then
        echo "--- output of: $*" >&2; cat "$out" >&2
        fail "expected exit $want, got $rc: $*"
    fi
}
# contains FILE TEXT / lacks FILE TEXT
contains() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 does not contain: $2"; }; }
lacks() { ! grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 contains: $2"; }; }
