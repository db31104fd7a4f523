#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Replay of NAB series in virtual time: a latency rule over ec2_request_latency_system_failure.csv
# (triggers are reported as inside/outside the labeled anomaly windows) and over the anomaly-free
# ec2_cpu_utilization_c6585a.csv (no trigger at all).
set -euo pipefail
SRC=${ROLLBACK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
NAB="$SRC/tests/data/nab"
[ -d "$NAB/data" ] || { echo "FAIL: $NAB missing (tests/data travels with the repository)"; exit 1; }
command -v python3 >/dev/null || { echo "skipped: python3 needed to read the label windows"; exit 125; }
: "${ROLLBACK:?path of the rollback binary}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cat > "$work/rollback.toml" <<'TOML'
[target]
name = "ec2"
[source.latency]
kind = "command"            # live: a command printing the current p95; here replayed from CSV
argv = ["true"]
[[condition]]
name = "latency-high"
signal = "latency.value"
window = "10m"
above = 53.0                # ms; the series runs at 40-50 ms
m_of_n = [2, 4]             # two of the last four 5-minute samples
on_no_data = "escalate"
[decision]
interval = "5m"
cooldown = "6h"
TOML

replay() { # FILE → exit code; JSON records in $work/records.jsonl
  set +e
  "$ROLLBACK" check -c "$work/rollback.toml" --replay "$1" --json > "$work/records.jsonl" 2> "$work/stderr"
  local rc=$?
  set -e
  cat "$work/stderr" >&2
  return $rc
}

# 1. The incident series: triggers, each inside or outside a labeled window.
rc=0; replay "$NAB/data/realKnownCause/ec2_request_latency_system_failure.csv" || rc=$?
[ "$rc" -eq 5 ] || { echo "FAIL: exit $rc, expected 5 (a trigger) on the incident series"; exit 1; }
python3 - "$work/records.jsonl" "$NAB/labels/combined_windows.json" <<'PY'
import json, sys, datetime as dt
records = [json.loads(l) for l in open(sys.argv[1])]
windows = json.load(open(sys.argv[2]))["realKnownCause/ec2_request_latency_system_failure.csv"]
parse = lambda s: dt.datetime.fromisoformat(s.replace("Z", "").split(".")[0])
wins = [(parse(a), parse(b)) for a, b in windows]
triggers = [r for r in records if r["action"] == "trigger"]
inside = [r for r in triggers if any(a <= parse(r["time"]) <= b for a, b in wins)]
hit = {i for i, (a, b) in enumerate(wins) for r in triggers if a <= parse(r["time"]) <= b}
for r in triggers:
    c = r["conditions"][0]
    where = "inside" if r in inside else "OUTSIDE"
    print(f'trigger {r["time"]} {where} a labeled window: observed {c["observed"]}, {c["counting"]["state"]}')
print(f"{len(triggers)} triggers: {len(inside)} inside, {len(triggers) - len(inside)} outside; "
      f"{len(hit)} of {len(wins)} labeled windows detected")
assert len(triggers) - len(inside) == 0, "a trigger outside every labeled window"
assert len(hit) >= 2, "fewer than 2 of the 3 labeled windows detected"
assert all(r["conditions"][0]["counting"]["breached"] >= 2 for r in triggers)
PY

# 2. The quiet series: no trigger, exit 0.
rc=0; replay "$NAB/data/realAWSCloudwatch/ec2_cpu_utilization_c6585a.csv" || rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: exit $rc on the anomaly-free series"; grep trigger "$work/records.jsonl" | head -3; exit 1; }
if grep -q '"action":"trigger"' "$work/records.jsonl"; then echo "FAIL: trigger on the quiet series"; exit 1; fi
echo "ok: no trigger on the anomaly-free series"

# 3. Every series of the benchmark replays to a verdict (exit 0 or 5), never a refusal: the rows
#    real exports have (equal times, one row going back an hour) are read or skipped and counted.
n=0
for csv in "$NAB"/data/*/*.csv; do
  rc=0; replay "$csv" 2>/dev/null || rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 5 ] || { echo "FAIL: $csv: exit $rc"; cat "$work/stderr"; exit 1; }
  grep -q '"kind":"replay_summary"' "$work/stderr" || { echo "FAIL: $csv: no summary"; exit 1; }
  n=$((n + 1))
done
[ "$n" -eq 24 ] || { echo "FAIL: $n series replayed, expected the 24 of tests/data/nab"; exit 1; }
echo "ok: all $n NAB series replay to a verdict"
