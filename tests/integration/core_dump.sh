#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The engine holds secrets in memory: it keeps no core file and its core limit is 0, while the
# programs it starts get the limit it started with (docs/security.md; break-it 23/05).
# ROLLBACK_ALLOW_CORE_DUMP=1 opts out: then a crash does write a core file with the secret, which
# shows that this test can fail.
source "$(dirname "$0")/../support/itest.sh"
CANARY=DotEnvCoreCanary7777
cd "$WORK"
printf 'TOK=%s\n' "$CANARY" >.env
unset TOK
cat >c.toml <<'EOF'
[vars]
token = { env = "TOK", secret = true }
[[step]]
id = "w"
action = "exec"
argv = ["sh", "-c", "ulimit -c > limit.out; sleep 20"]
env = { T = "{{token}}" }
EOF

# Does a crash write ./core here? (kernel.core_pattern is the host's: a pipe to a handler or an
# absolute directory cannot be checked from here.)
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || echo '|')
case $pattern in
core | core.%p | core.*) file_cores=1 ;;
*) file_cores=0 ;;
esac

# start_run [ENV=VALUE...]: the engine in the background with an unlimited core limit; sets $pid
# once its step has written limit.out.
start_run() {
    rm -f limit.out $(cores)
    runs=$((${runs:-0} + 1)) # a state dir each: the run killed before is left unfinished
    (
        ulimit -c unlimited
        exec env "$@" "$RB" run -p c.toml --yes --state-dir "$WORK/st$runs" >run.out 2>&1
    ) &
    pid=$!
    for _ in $(seq 200); do
        [ -s limit.out ] && return 0
        sleep 0.05
    done
    cat run.out >&2
    fail "the step did not start"
}
# cores: the core files in the work dir, one a line (none: empty).
cores() { find . -maxdepth 1 -name 'core*' -type f; }
# core_limit PID: the soft "Max core file size" of PID.
core_limit() { awk '/^Max core file size/ {print $5}' "/proc/$1/limits"; }
quit_and_wait() {
    kill -QUIT "$pid"
    wait "$pid" 2>/dev/null || true
}

start_run ROLLBACK_ALLOW_CORE_DUMP=
[ "$(core_limit "$pid")" = 0 ] || fail "the engine's core limit is $(core_limit "$pid"), expected 0"
# A sanitized engine starts with ASan's own soft core limit of 0 (disable_coredump): its original
# limit, which the step gets back, is 0 there.
want=unlimited
grep -q __asan_init "$RB" && want=0
[ "$(cat limit.out)" = "$want" ] || fail "the step got core limit $(cat limit.out), expected the engine's original ($want)"
quit_and_wait
if [ "$file_cores" = 1 ]; then
    [ -z "$(cores)" ] || fail "a core file was written: $(cores)"
fi
pass "no core (limit 0, non-dumpable); the step keeps the original limit"

if [ "$want" = 0 ]; then
    pass "ROLLBACK_ALLOW_CORE_DUMP=1 not checked: ASan keeps a sanitized engine's cores off itself"
    exit 0
fi
start_run ROLLBACK_ALLOW_CORE_DUMP=1
[ "$(core_limit "$pid")" = unlimited ] || fail "opted out, the engine's core limit is $(core_limit "$pid")"
quit_and_wait
if [ "$file_cores" = 1 ]; then
    [ -n "$(cores)" ] || fail "opted out, a crash wrote no core file (pattern $pattern)"
    grep -qa "$CANARY" $(cores) || fail "the core file of the opted-out engine lacks the secret: the test cannot tell"
    rm -f $(cores)
    pass "ROLLBACK_ALLOW_CORE_DUMP=1: a crash writes a core file (with the secret)"
else
    pass "ROLLBACK_ALLOW_CORE_DUMP=1: core limit kept (core_pattern $pattern: no core file check)"
fi
