#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A deploy marker recorded after its time (`rollback deployed --time T`, T in the past, as a CI
# job records a rollout's start once it finished) reached the monitor only when it was written:
# `check --replay` of the same log with the recorded markers applies it there too, so the replay
# says what the monitor did — the same release, baseline, verdicts and actions at every tick
# (docs/decision.md "Commands"; issue 10, replay = live). ~35 s.
source "$(dirname "$0")/../support/itest.sh"
command -v python3 > /dev/null || exit 125
cd "$WORK"
# Processes still running at exit are stopped; one already waited for is not signalled again
# (its pid may belong to another process by then).
gen= mon=
on_exit '[ -z "$mon" ] || _stop_process "$mon"; [ -z "$gen" ] || _stop_process "$gen"'

cat > gen.py <<'PY'
import datetime, random, sys, time
# access-log lines (nginx combined + request time) at 10/s for argv[2] s; ctl holds the latency
log, dur = sys.argv[1], float(sys.argv[2])
rnd = random.Random(1); end = time.time() + dur
f = open(log, "a", buffering=1)
while time.time() < end:
    try: lat = float(open("ctl").read())
    except Exception: lat = 0.05
    now = datetime.datetime.now(datetime.timezone.utc)
    f.write(f'10.0.0.{rnd.randint(1, 9)} - - [{now.strftime("%d/%b/%Y:%H:%M:%S %z")}] '
            f'"GET /cart/ HTTP/1.1" 200 2048 "-" "curl" {lat * rnd.uniform(0.8, 1.2):.3f}\n')
    time.sleep(0.1)
PY
cat > rollback.toml <<'TOML'
[target]
name = "shop"
state_dir = "st"
[source.web]
kind = "access_log"
path = "access.log"
format = "combined_request_time"
interval = "2s"
max_lateness = "2s"
[[condition]]
name = "slow"
signal = "web.latency_p95"
window = "6s"
above_baseline = 2.0
baseline = "before_deploy"
baseline_window = "8s"
min_requests = 10
for = "4s"
[decision]
mode = "observe"
interval = "2s"
cooldown = "1h"
TOML
echo 0.05 > ctl
"$RB" deployed -c rollback.toml --release v1 > /dev/null
: > access.log # the monitor reads it from its first tick
python3 gen.py access.log 36 &
gen=$!
sleep 1
"$RB" monitor -c rollback.toml --json > live.jsonl 2> monitor.err &
mon=$!
sleep 12
T=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo 0.30 > ctl # v2 rolls out from T: six times slower
sleep 9
"$RB" deployed -c rollback.toml --release v2 --time "$T" > /dev/null # recorded once it finished
sleep 12
kill -TERM $mon; wait $mon || true
mon=
wait $gen 2> /dev/null || true # it stops by itself (36 s)
gen=
contains st/deploys.jsonl '"recorded_at":"20'
last=$(grep -h '"kind":"tick"' st/decisions/ticks-*.jsonl | tail -1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["time"])')
expect_rc 5 replay.jsonl -- "$RB" check -c rollback.toml --replay access.log --to "$last" --json
python3 - "$T" <<'PY' || fail "the replay does not say what the monitor decided"
import json, sys
def load(f):
    d = {}
    for l in open(f):
        try: r = json.loads(l)
        except Exception: continue
        if r.get("kind") != "decision": continue
        c = r["conditions"][0]
        d[r["time"]] = (r["action"], r["release"], c["verdict"], c["observed"],
                        c["baseline"]["value"])
    return d
live, replay = load("live.jsonl"), load("replay.jsonl")
# The release and its baseline at every record of either side: the marker applied at the same
# tick, with the same before_deploy baseline. (Verdicts of an access log under a loaded machine
# can differ by a late line; the full records are compared where both sides have one.)
def release_at(d, t):
    before = [v for s, v in sorted(d.items()) if s <= t]
    return before[-1][1] if before else None
first = max(min(live), min(replay))
times = sorted(t for t in set(live) | set(replay) if t > first)
diff = [(t, release_at(live, t), release_at(replay, t)) for t in times
        if release_at(live, t) != release_at(replay, t)]
diff += [(t, live[t], replay[t]) for t in times if t in live and t in replay and
         (live[t][1], live[t][4]) != (replay[t][1], replay[t][4])]
for d in diff: print("DIFF", *d)
assert not diff, "live and replay differ"
v2_live = min(t for t, a in live.items() if a[1] == "v2")
v2_replay = min(t for t, a in replay.items() if a[1] == "v2")
assert v2_live == v2_replay, (v2_live, v2_replay)
assert v2_live > sys.argv[1], (v2_live, sys.argv[1])
acts = [(t, a[0], a[1]) for t, a in sorted(live.items()) if a[0] != "none"]
print("live actions:", acts)
# the slow release was caught under v2 after its marker was written (not at T + `for`)
assert acts and acts[0][1] == "trigger" and acts[0][2] == "v2", acts
assert acts[0][0] > sys.argv[1], acts
PY
pass "a back-dated deploy marker: the replay applies it where the monitor did"
