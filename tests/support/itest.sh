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
# stop_on_exit PID: at exit, SIGTERM the process and wait (at most 5 s, then SIGKILL) until it is
# gone, so a daemon still flushing its data dir (Prometheus, Alertmanager) cannot race the removal.
# The process is named by its pid and its start time (field 22 of /proc/PID/stat, proc(5)): a pid
# the test already waited for may belong to another process by the time the cleanup runs.
stop_on_exit() { on_exit "_stop_process $1 $(_start_time "$1")"; }
_start_time() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo gone; return; }; s=${s##*) }; set -- $s; echo "${20}"; }
_stop_process() {
    [ "$(_start_time "$1")" = "$2" ] || return 0 # gone, or its pid reused
    kill "$1" 2>/dev/null || return 0
    local state
    for _ in $(seq 1 50); do
        state=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 0
        [ "$state" = Z ] && return 0 # exited, not yet reaped by this shell
        sleep 0.1
    done
    [ "$(_start_time "$1")" = "$2" ] && kill -9 "$1" 2>/dev/null
    return 0
}
# The test's verdict is its own exit status: nothing the cleanup does may change it.
_run_cleanups() {
    local rc=$?
    set +e
    for c in "${_cleanups[@]}"; do eval "$c"; done
    if [ $rc -ne 0 ] || [ -n "${ROLLBACK_KEEP_TEMP:-}" ]; then
        echo "work dir kept: $WORK" >&2
    else
        rm -rf "$WORK" 2>/dev/null || { sleep 1; rm -rf "$WORK"; }
    fi
    exit $rc
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
# running PID: the process exists and is not a zombie. An orphan killed by the engine is
# re-parented to PID 1, which may reap it late; `kill -0` still succeeds on a zombie.
running() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]; }
lacks() { ! grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 contains: $2"; }; }
# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
# A state directory owned by another user (the packaged layout): skips unless root with setpriv;
# sets `owner` (uid 65534) and `as_owner CMD...`, and opens $WORK to it.
need_other_owner() {
    [ "$(id -u)" = 0 ] || { echo "skip: needs root (a state directory owned by another user)"; exit 125; }
    command -v setpriv >/dev/null || { echo "skip: setpriv not installed"; exit 125; }
    owner=65534
    as_owner() { setpriv --reuid=$owner --regid=$owner --clear-groups "$@"; }
    as_owner test -x "$RB" || { echo "skip: $RB is not executable by uid $owner"; exit 125; }
    chmod 0755 "$WORK"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
