#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 25/06 (issue 10, "never miss an outage"): an escalation made at the same tick as
# another condition's executed trigger reaches the [decision] hooks — the tick's decision is
# its heaviest action (the trigger, told by the run's own on-trigger hook), but the escalation
# is spent (its cooldown runs), so it must be told. ~3 s.
source "$(dirname "$0")/../support/itest.sh"
command -v python3 > /dev/null || exit 125
cd "$WORK"
source "$SRC/tests/support/monitor_server.sh"
recording_hook rec
cat > pb.toml <<'TOML'
[playbook]
name = "rb"
hooks_dir = "hooks"
[playbook.hooks]
on-trigger = ["rec"]
[[step]]
id = "switch"
phase = "code"
action = "exec"
argv = ["true"]
TOML
{ web_errors_config 2s; cat <<'TOML'; } > rollback.toml
[source.db]
kind = "command"
argv = ["sh", "-c", "exit 1"]
[[condition]]
name = "stuck-orders"
signal = "db.value"
window = "5s"
above = 100
[decision]
mode = "auto"
playbook = "pb.toml"
hooks = ["rec"]
interval = "1s"
cooldown = "1h"
TOML
# 20 s of checkout traffic ending now, 30 % 5xx: an outage under way when the monitor starts,
# and the database check broken (exit 1) at the same time.
python3 - <<'PY'
import time, datetime as dt
now = time.time()
with open("access.log", "w") as f:
    for i in range(400):
        d = dt.datetime.fromtimestamp(now - 20 + i * 0.05, dt.timezone.utc)
        f.write(f'10.0.0.1 - - [{d.strftime("%d/%b/%Y:%H:%M:%S +0000")}] "GET / HTTP/1.1" '
                f'{500 if i % 10 < 3 else 200} 1 "-" "x" 0.010\n')
PY
"$RB" monitor -c rollback.toml --once > mon.out 2>&1 || true
contains mon.out "trigger"
python3 - <<'PY' || fail "the hooks were not told of both actions: $(cat events.jsonl)"
import json, glob
recs = [json.load(open(f)) for f in glob.glob("st/decisions/2*.json")]
acts = [(r["action"], [(c["name"], c["action"]) for c in r["conditions"]]) for r in recs]
assert any(a == "trigger" and ("stuck-orders", "escalate") in cs for a, cs in acts), acts
ev = [json.loads(l) for l in open("events.jsonl") if l.strip()]
told = [(e["event"], e.get("status"), (e.get("trigger") or {}).get("condition")) for e in ev]
assert ("decision", "escalate", "stuck-orders") in told, told
assert any(t[0] == "on-trigger" and t[2] == "err" for t in told), told
PY
pass "an escalation beside an executed trigger reaches the [decision] hooks"
