#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Decision quality of `rollback check --replay` on real and generated data (docs/decision-quality.md).

1. NAB: every series under DATA/nab/data with one uniform rule family (below), triggers inside and
   outside the labeled anomaly windows, precision, recall, detection delay, pages, and acting
   records that are not self-justifying (the trigger's own tick does not breach: goal 0).
2. The Apache negative control (DATA/apache-logs/apache_logs) with the default policies: triggers
   (goal 0) and pages.
3. Generated fault scenarios: a 5xx step (0.5 % -> 5 %) at 1 and at 50 requests per second; the
   decision's delay after the onset, against the bound `crossing + 1 interval + for +
   max_lateness` (docs/decision-quality.md, "Detection delay").

Usage: ROLLBACK=build/rollback tests/bench/decision_quality.py [DATA_DIR] [--markdown]
DATA_DIR defaults to tests/data (the copies of the public data sets, with their LICENSE/SOURCE).
"""
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLLBACK = os.environ.get("ROLLBACK", os.path.join(ROOT, "build", "rollback"))


def parse_time(text):
    text = text.strip().replace("T", " ").rstrip("Z")
    if "." in text:
        text = text.split(".")[0]
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)


def replay(config, data, *extra):
    """Runs check --replay --json; returns (exit code, records, stderr)."""
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "rollback.toml")
        with open(path, "w") as f:
            f.write(config)
        p = subprocess.run([ROLLBACK, "check", "-c", path, "--replay", data, "--json", *extra],
                           capture_output=True, text=True)
    if p.returncode == 2:
        return 2, [], p.stderr  # refused: shown as such in the table
    if p.returncode not in (0, 5):
        raise SystemExit(f"rollback exited {p.returncode}: {p.stderr}")
    return p.returncode, [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")], p.stderr


def self_justifying(record):
    """An acting record's cause breaches at its own tick (docs/decision.md, the acting invariant)."""
    c = next(c for c in record["conditions"] if c["name"] == record["cause"])
    if c["verdict"] != "firing":
        return False
    if c["missing"] != "none":
        return c["policy"] == "trigger"
    if c["observed"] is None or c["threshold"] is None:
        return False
    return c["observed"] < c["threshold"] if c["comparator"] == "below" else c["observed"] > c["threshold"]


# --- 1. NAB --------------------------------------------------------------------------------------
NAB_RULE = """[target]
name = "nab"
[source.series]
kind = "command"
argv = ["true"]
[[condition]]
name = "anomaly"
signal = "series.value"
window = "{window}s"
above = {threshold!r}
for = "{for_s}s"
max_missed = 1
severity = "critical"
[decision]
interval = "{step}s"
cooldown = "6h"
"""


def nab(data_dir):
    windows = json.load(open(os.path.join(data_dir, "labels", "combined_windows.json")))
    rows, totals = [], dict(series=0, triggers=0, inside=0, outside=0, windows=0, detected=0,
                            pages=0, unjustified=0, clean_series=0, clean_triggers=0)
    delays = []
    for sub in sorted(os.listdir(os.path.join(data_dir, "data"))):
        for name in sorted(os.listdir(os.path.join(data_dir, "data", sub))):
            key = f"{sub}/{name}"
            path = os.path.join(data_dir, "data", sub, name)
            with open(path) as f:
                next(f)
                series = [(parse_time(t), float(v)) for t, v in (l.strip().split(",") for l in f if l.strip())]
            steps = sorted((b[0] - a[0]).total_seconds() for a, b in zip(series, series[1:]) if b[0] > a[0])
            step = int(max(60, statistics.median(steps)))
            head = [v for _, v in series[: max(10, len(series) * 15 // 100)]]
            # The rule family: above mean + 4 sigma of the first 15 % (the "known good" period),
            # breaching for 2 steps with one missed step tolerated; the newest row within 2 steps.
            threshold = round(statistics.fmean(head) + 4 * statistics.pstdev(head), 6)
            config = NAB_RULE.format(window=2 * step, threshold=threshold, for_s=2 * step, step=step)
            rc, records, _ = replay(config, path, "--source", "series")
            if rc == 2:
                rows.append((key, len(series), step, threshold, "refused (exit 2)", "", "", "", "", ""))
                continue
            triggers = [r for r in records if r["action"] == "trigger"]
            pages = sum(r["action"] == "escalate" for r in records)
            labeled = [(parse_time(a), parse_time(b)) for a, b in windows.get(key, [])]
            inside = outside = 0
            hit = set()
            for r in triggers:
                t = parse_time(r["time"])
                w = next((i for i, (a, b) in enumerate(labeled) if a <= t <= b), None)
                if w is None:
                    outside += 1
                else:
                    inside += 1
                    if w not in hit:
                        hit.add(w)
                        delays.append((t - labeled[w][0]).total_seconds() / 60)
            unjustified = sum(not self_justifying(r) for r in triggers)
            rows.append((key, len(series), step, threshold, len(triggers), inside, outside,
                         f"{len(hit)}/{len(labeled)}", pages, unjustified))
            totals["series"] += 1
            totals["triggers"] += len(triggers)
            totals["inside"] += inside
            totals["outside"] += outside
            totals["windows"] += len(labeled)
            totals["detected"] += len(hit)
            totals["pages"] += pages
            totals["unjustified"] += unjustified
            if not labeled:
                totals["clean_series"] += 1
                totals["clean_triggers"] += len(triggers)
    return rows, totals, delays


# --- 2. Apache negative control --------------------------------------------------------------------
APACHE_RULE = """[target]
name = "apache"
[source.web]
kind = "access_log"
path = "access.log"
format = "combined"
[[condition]]
name = "error-rate"
signal = "web.error_rate"
window = "5m"
above = 0.05
min_requests = 50
for = "2m"
[[condition]]
name = "traffic"
signal = "web.request_count"
window = "5m"
above = 100000
[decision]
interval = "1m"
"""


def apache(data_dir):
    rc, records, _ = replay(APACHE_RULE, os.path.join(data_dir, "apache_logs"))
    actions = {}
    for r in records:
        actions[r["action"]] = actions.get(r["action"], 0) + 1
    return rc, actions


# --- 3. generated fault scenarios ------------------------------------------------------------------
FAULT_RULE = """[target]
name = "shop"
[source.web]
kind = "access_log"
path = "access.log"
format = "combined"
interval = "10s"
max_lateness = "{lateness}s"
[[condition]]
name = "checkout-errors"
signal = "web.error_rate"
window = "1m"
above = 0.02
min_requests = {min_requests}
for = "2m"
max_missed = 1
severity = "critical"
[decision]
interval = "10s"
"""


def fault(rate, lateness):
    """0.5 % 5xx for 30 min, then 5 % for 30 min, `rate` requests a second, deterministic spacing."""
    start = dt.datetime(2026, 11, 30, 6, 0, 0, tzinfo=dt.timezone.utc)
    onset = start + dt.timedelta(minutes=30)
    with tempfile.TemporaryDirectory() as work:
        log = os.path.join(work, "access.log")
        with open(log, "w") as f:
            n = 0
            for s in range(3600):
                t = start + dt.timedelta(seconds=s)
                stamp = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
                per = rate if rate >= 1 else (1 if s % int(1 / rate) == 0 else 0)
                for _ in range(int(per)):
                    every = 200 if t < onset else 20
                    status = 500 if n % every == every - 1 else 200
                    n += 1
                    f.write(f'10.0.0.1 - - [{stamp}] "POST /checkout/ HTTP/1.1" {status} 10 "-" "t"\n')
        min_requests = max(20, int(rate * 60 * 0.5))
        _, records, _ = replay(FAULT_RULE.format(lateness=lateness, min_requests=min_requests), log)
    trig = [r for r in records if r["action"] == "trigger"]
    if not trig:
        return None, []
    return (parse_time(trig[0]["time"]) - onset).total_seconds(), trig


def main():
    data = next((a for a in sys.argv[1:] if not a.startswith("--")), os.path.join(ROOT, "tests", "data"))
    print("## NAB (uniform rule: above mean + 4 sigma of the first 15 %, for 2 steps, max_missed 1)\n")
    rows, t, delays = nab(os.path.join(data, "nab"))
    print("| series | rows | step | threshold | triggers | inside | outside | windows detected | pages | not self-justifying |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    precision = t["inside"] / t["triggers"] if t["triggers"] else 0
    recall = t["detected"] / t["windows"] if t["windows"] else 0
    print(f"\n{t['series']} series: {t['triggers']} triggers, {t['inside']} inside labeled windows, "
          f"{t['outside']} outside; precision {precision:.2f}, recall {recall:.2f} "
          f"({t['detected']} of {t['windows']} windows); detection delay from window start: median "
          f"{statistics.median(delays) if delays else float('nan'):.0f} min, max "
          f"{max(delays) if delays else float('nan'):.0f} min; series without anomalies: "
          f"{t['clean_series']}, false triggers on them: {t['clean_triggers']}; pages: {t['pages']}; "
          f"acting records not self-justifying: {t['unjustified']}")
    print("\n## Apache negative control (default policies)\n")
    rc, actions = apache(os.path.join(data, "apache-logs"))
    print(f"exit {rc}; records by action: {json.dumps(actions, sort_keys=True)}")
    print("\n## Generated 5xx step, 0.5 % -> 5 % (rule: 1m window above 2 %, for 2m, 10 s ticks)\n")
    # A 1-minute window's error rate crosses 2 % w * (thr - base) / (step - base) after the onset.
    crossing = 60 * (0.02 - 0.005) / (0.05 - 0.005)
    print(f"The window's rate crosses the threshold {crossing:.0f} s after the onset.\n")
    print("| requests/s | max_lateness | decision after onset | after the crossing | bound after onset: crossing + 1 interval + for + max_lateness |")
    print("|---|---|---|---|---|")
    for rate in (1, 50):
        for lateness in (0, 60):
            delay, trig = fault(rate, lateness)
            # The first breaching tick is the first whose window rate is strictly above the
            # threshold: at most one interval after the crossing; `for` counts from it.
            bound = crossing + 10 + 120 + lateness
            after = None if delay is None else delay - crossing
            ok = "" if delay is not None and delay <= bound else " (over)"
            unj = sum(not self_justifying(r) for r in trig)
            print(f"| {rate} | {lateness} s | {delay:.0f} s{ok} | {after:.0f} s | {bound:.0f} s "
                  f"(triggers {len(trig)}, not self-justifying {unj}) |")


if __name__ == "__main__":
    main()
