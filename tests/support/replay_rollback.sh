# SPDX-License-Identifier: MIT
# Sourced by tests/integration/replay_rollback_runs*.sh (after itest.sh): `check --replay` feeds
# the rollbacks recorded in the state as the monitor noticed them (docs/decision.md "Commands").
# replay_rollback_scenario EXTRA_TARGET_TOML: a rollback run recorded at F (`rollback run`), and
# a log with an outage at F-50 s (the trigger) and another at F+2 s, within watch_after = 40s of
# the rollback (a recurrence: notify, not a second trigger). The replay is written to replay.out.
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 125; }
replay_rollback_scenario() {
    cd "$WORK"
    cat > pb.toml <<'TOML'
[playbook]
name = "rb"
description = "test rollback"
[[step]]
id = "switch"
phase = "code"
action = "exec"
argv = ["true"]
timeout = "10s"
TOML
    cat > rollback.toml <<TOML
[target]
name = "shop"
state_dir = "st"
$1
[source.web]
kind = "access_log"
path = "access.log"
format = "combined_request_time"
interval = "2s"
max_lateness = "2s"
[[condition]]
name = "err"
signal = "web.error_rate"
window = "10s"
above = 0.05
min_requests = 10
for = "6s"
resolve_after = "6s"
[decision]
mode = "auto"
playbook = "pb.toml"
watch_after = "40s"
interval = "2s"
cooldown = "10s"
TOML
    expect_rc 0 run.out -- "$RB" run -c rollback.toml -p pb.toml --yes --reason "test rollback"
    local f
    f=$(date +%s) # the run ended at most a second before
    # 10 lines a second from F-60 to F+16: 30 % 5xx in [F-50, F-35) and [F+2, F+16).
    python3 - "$f" > access.log <<'PY'
import datetime, sys
f = int(sys.argv[1])
for t in range(f - 60, f + 16):
    bad = f - 50 <= t < f - 35 or f + 2 <= t
    stamp = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000")
    for i in range(10):
        st = 500 if bad and i < 3 else 200
        print(f'127.0.0.1 - - [{stamp}] "GET /p HTTP/1.1" {st} 12 "-" "t" 0.020')
PY
    while [ "$(date +%s)" -le $((f + 17)) ]; do sleep 0.5; done # no line is in the future
    local to
    to=$(python3 -c "import datetime,sys; print(datetime.datetime.fromtimestamp($f + 24, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))")
    "$RB" check -c rollback.toml --replay access.log --to "$to" > replay.out 2>&1 </dev/null || true
}
# The replay: one trigger (the first outage), the second outage a recurrence (notify), and the
# summary counting the run it read.
check_replay_rollback() {
    local triggers
    triggers=$(grep -c ' trigger ' replay.out || true)
    [ "$triggers" -eq 1 ] || { cat replay.out >&2; fail "$1: $triggers triggers replayed, the monitor made 1 and then noticed the rollback"; }
    grep -q 'recurrence within watch_after' replay.out ||
        { cat replay.out >&2; fail "$1: the second outage is no recurrence in the replay"; }
    contains replay.out "1 rollback runs ($2)"
    pass "$1: the replay feeds the recorded rollback: one trigger, then a recurrence notified"
}
