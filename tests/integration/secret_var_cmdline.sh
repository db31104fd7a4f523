#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A secret given with `--var NAME=VALUE` (break-it 30/11): the engine wipes it from its own command
# line once it has read it, so /proc/PID/cmdline (world-readable, what `ps` shows) of the engine
# while its steps run shows `tok=***`; the output drainer that outlives it is the binary executed
# again with a command line of its own, which carries nothing of the engine's; the run warns that
# --var put a secret on a command line, and says what to use instead.
source "$(dirname "$0")/../support/itest.sh"

CANARY=VarCanary4711x11b
mkdir -p "$WORK/pb"
cd "$WORK/pb"
cat >pb.toml <<'TOML'
[vars]
tok = { env = "X11B_TOK_UNSET", secret = true }
[[step]]
id = "look"
action = "exec"
# The engine is this step's parent. A process left running keeps the step's stdout: the step's
# drainer reads it once the engine let go.
argv = ["sh", "-c", "tr '\\000' ' ' </proc/$PPID/cmdline >engine.cmdline; sleep 60 & echo $! >left.pid; echo started"]
env = { TOK = "{{tok}}" }
TOML
unset X11B_TOK_UNSET
expect_rc 0 "$WORK/run.out" -- "$RB" run -p pb.toml --yes --var "tok=$CANARY"
stop_on_exit "$(cat left.pid)"
[ -s engine.cmdline ] || fail "the step did not read the engine's command line"
contains engine.cmdline "--var tok=***"
if grep -q "$CANARY" engine.cmdline; then
    fail "the engine's /proc/PID/cmdline shows the secret while its step runs: $(cat engine.cmdline)"
fi
contains "$WORK/run.out" 'warning: secret variable "tok" was given with --var'
contains "$WORK/run.out" "hint: give a secret through the environment"
if grep -q "$CANARY" "$WORK/run.out"; then fail "the run printed the secret"; fi
pass "the engine's command line shows tok=*** while its steps run; the run warns"

# The drainer (alive while `sleep 60` holds the pipe) shows its own command line, nothing of the
# engine's.
pipe=$(readlink "/proc/$(cat left.pid)/fd/1")
found=0
for p in $(pgrep -x rollback-drain || true); do
    ls -l "/proc/$p/fd" 2>/dev/null | grep -qF -- "-> $pipe" || continue
    line=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
    found=$((found + 1))
    [ "$line" = "rollback-drain --step-output " ] || fail "pid $p (the drainer) shows: $line"
done
[ "$found" -eq 1 ] || fail "$found drainers found while the left-running process holds the step's output"
pass "the drainer that outlives the engine shows a command line of its own, no secret"

# validate and plan warn too.
expect_rc 0 "$WORK/plan.out" -- "$RB" plan -p pb.toml --var "tok=$CANARY"
contains "$WORK/plan.out" 'warning: secret variable "tok" was given with --var'
# A secret from the environment: no warning.
X11B_TOK_UNSET=$CANARY expect_rc 0 "$WORK/plan-env.out" -- "$RB" plan -p pb.toml
if grep -q 'was given with --var' "$WORK/plan-env.out"; then fail "a secret from the environment warned"; fi
pass "plan warns of a secret on --var, not of one from the environment"
