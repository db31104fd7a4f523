# SPDX-License-Identifier: MIT
"""A seeded generator of decision cases: a rollback.toml with 1-3 conditions on one source, and a
`timestamp,value` CSV or a combined-format access log with gaps, quiet periods, 0.1-50 req/s,
error bursts, flapping around the threshold, late and out-of-order lines (a few beyond
max_lateness), silence after a breach, deploys, rollback-finished events, cooldowns and
watch_after. Cases are small (tens to a few hundred ticks)."""

import random
import time
from datetime import datetime, timezone

T0 = int(datetime(2026, 11, 28, 6, 0, 0, tzinfo=timezone.utc).timestamp())  # seconds
_MON = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def fmt_dur(secs):
    if secs % 3600 == 0 and secs:
        return f"{secs // 3600}h"
    if secs % 60 == 0 and secs:
        return f"{secs // 60}m"
    return f"{secs}s"


_STAMPS = {}


def log_line(t, status):
    stamp = _STAMPS.get(t)
    if stamp is None:
        d = time.gmtime(t)
        stamp = (f"{d.tm_mday:02d}/{_MON[d.tm_mon - 1]}/{d.tm_year}:{d.tm_hour:02d}:"
                 f"{d.tm_min:02d}:{d.tm_sec:02d}")
        if len(_STAMPS) > 100_000:
            _STAMPS.clear()
        _STAMPS[t] = stamp
    return f'127.0.0.1 - - [{stamp} +0000] "GET / HTTP/1.1" {status} 12 "-" "-"'


def csv_time(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _condition(r, name, is_log, interval):
    lines = [f'name = "{name}"']
    if is_log:
        signal = r.choice(["error_rate", "error_rate", "error_rate", "request_count"])
    else:
        signal = "value"
    lines.append(f'signal = "web.{signal}"')
    window = interval * r.choice([1, 1, 2, 3, 6]) if r.random() < 0.8 else r.randint(5, 600)
    lines.append(f'window = "{fmt_dur(window)}"')
    if signal == "error_rate":
        lines.append(f"above = {r.choice([0.01, 0.05, 0.1, 0.2, 0.5])}")
        if r.random() < 0.6:
            lines.append(f"min_requests = {r.choice([1, 5, 20, 50, 100, 200])}")
        threshold = None
    elif signal == "request_count":
        if r.random() < 0.5:
            lines.append(f"above = {r.choice([5, 20, 100, 500])}")
        else:
            lines.append(f"below = {r.choice([1, 3, 10, 50])}")
        threshold = None
    else:
        threshold = round(r.uniform(1, 100), 1)
        kind = r.random()
        if kind < 0.5:
            lines.append(f"above = {threshold}")
        elif kind < 0.75:
            lines.append(f"below = {threshold}")
        else:
            ratio = r.choice([1.2, 1.5, 2.0])
            base = round(threshold / ratio, 3)
            lines.append(f"above_baseline = {ratio}")
            lines.append(f"baseline = {base}")
            threshold = ratio * base
            if r.random() < 0.3:
                lines.append(f"above = {round(threshold * r.choice([0.5, 1.1]), 2)}")
    counting = r.random()
    if counting < 0.2:
        pass
    elif counting < 0.55:
        f = interval * r.randint(1, 6) if r.random() < 0.85 else r.randint(1, 300)
        lines.append(f'for = "{fmt_dur(f)}"')
    elif counting < 0.8:
        lines.append(f"consecutive = {r.randint(1, 5)}")
    else:
        n = r.randint(1, 6)
        lines.append(f"m_of_n = [{r.randint(1, n)}, {n}]")
    if counting >= 0.2 and r.random() < 0.7:
        lines.append(f"max_missed = {r.randint(0, 3)}")
    if r.random() < 0.6:
        lines.append(f'resolve_after = "{fmt_dur(interval * r.choice([0, 1, 2, 5, 10]))}"')
    if r.random() < 0.3:
        lines.append(f'severity = "{r.choice(["warning", "high", "critical"])}"')
    if r.random() < 0.15:  # a per-condition mode: a shadow rule, or one that asks first
        lines.append(f'mode = "{r.choice(["auto", "confirm", "observe"])}"')
    for key, values in (("on_no_data", ["ignore", "escalate", "trigger"]),
                        ("on_no_traffic", ["ignore", "escalate", "trigger"]),
                        ("on_insufficient_sample", ["ignore", "escalate"]),
                        ("on_silence", ["ignore", "escalate", "trigger"])):
        if key in ("on_no_traffic", "on_insufficient_sample") and not is_log:
            continue
        if key == "on_insufficient_sample" and signal != "error_rate":
            continue
        if r.random() < 0.25:
            lines.append(f'{key} = "{r.choice(values)}"')
    return "\n".join(lines), signal, threshold


def _csv(r, interval, thresholds):
    """A series with gaps, flapping, bursts and the odd duplicate time."""
    step = r.choice([interval, interval, interval // 2 or 1, interval * 2, r.randint(1, 120)])
    n = r.randint(10, 200)
    base = r.uniform(0, 60)
    thr = next((t for t in thresholds if t is not None), 50.0)
    rows = ["\ufefftimestamp,value" if r.random() < 0.1 else "timestamp,value"]
    t = T0 + r.randint(0, 3599)
    mode = "normal"
    for _ in range(n):
        if r.random() < 0.1:
            mode = r.choice(["normal", "high", "low", "flap", "gap"])
        if mode == "gap":
            t += step * r.randint(1, 30)
            mode = "normal"
            continue
        if mode == "high":
            v = thr * r.uniform(1.01, 3)
        elif mode == "low":
            v = thr * r.uniform(0, 0.99)
        elif mode == "flap":
            v = thr + r.choice([-1, 1]) * r.uniform(0, 0.5) + r.choice([0, 0, 0.0])
            if r.random() < 0.1:
                v = thr
        else:
            v = base + r.uniform(-5, 5)
        if r.random() < 0.05:
            # a fractional second (judged at the tick after it, the last row too) or an
            # explicit sign
            rows.append(f"{csv_time(t)}.{r.randint(1, 999):03d}Z,+{round(abs(v), 3)}")
        else:
            rows.append(f"{csv_time(t)},{round(v, 3)}")
        if r.random() < 0.03:
            rows.append(f"{csv_time(t)},{round(v * 2 + 1, 3)}")  # a duplicate time: ignored
        if r.random() < 0.01:
            # a typo'd year, or a row that cannot be read: each costs that row only
            rows.append(r.choice([f"{csv_time(t + 366 * 86400)},{round(v, 3)}",
                                  f"{csv_time(t)},", "2026-02-29 00:00:00,1"]))
        t += step
    if r.random() < 0.1:
        # an export that quotes every field (RFC 4180), the header too
        rows = [_quote_row(row) for row in rows]
    return "\n".join(rows) + "\n", T0, t


def _quote_row(row):
    bom = "\ufeff" if row.startswith("\ufeff") else ""
    return bom + ",".join('"' + f.replace('"', '""') + '"' for f in row[len(bom):].split(","))


def _log(r, interval, lateness):
    """Segments of traffic (rate, error share), written with jitter, Apache-style delays and a
    few lines beyond max_lateness."""
    duration = interval * r.randint(10, 150)
    budget = r.choice([40, 100, 200, 400])  # lines, on average: keeps 10,000 cases fast
    base_max = max(0.1, budget / duration)
    events = []  # (event time s, status, write delay s, exact time)
    t = 0.0
    while t < duration:
        seg = r.uniform(5, duration / 4)
        kind = r.random()
        if kind < 0.2:
            rate = 0.0  # quiet
        elif kind < 0.85:
            rate = min(r.choice([0.1, 0.3, 1, 2, 5]), base_max)
        else:
            rate = r.choice([10, 20, 50])  # a burst: a few seconds
            seg = r.uniform(1, 6)
        err = r.choice([0.0, 0.0, 0.01, 0.05, 0.2, 0.5, 1.0])
        flap = r.random() < 0.2
        delay_kind = r.random()
        if rate > 0:
            tt = t + r.expovariate(rate)
            while tt < t + seg and tt < duration:
                e = err
                if flap:
                    e = r.choice([0.0, 0.1])
                status = r.choice([500, 502, 503, 504]) if r.random() < e else r.choice(
                    [200, 200, 200, 301, 404])
                if delay_kind < 0.6:
                    d = 0
                elif delay_kind < 0.85:
                    d = r.uniform(0, 2)  # workers interleaving
                elif delay_kind < 0.97:
                    d = r.uniform(0, lateness * 0.9)  # Apache %t: the request's start
                else:
                    d = r.uniform(0, lateness * 2 + interval * 3)  # some beyond max_lateness
                events.append((int(tt), status, d, tt))
                tt += r.expovariate(rate)
        t += seg
    if not events:
        events.append((0, 200, 0, 0.0))
    # File order: by write time (event + delay). The earliest event is written first (the log
    # starts with its first line; see docs/decision-reference.md).
    events.sort(key=lambda e: (e[3] + e[2], e[3]))
    first = min(range(len(events)), key=lambda i: events[i][3])
    events.insert(0, events.pop(first))
    # Now and then one line with a wild date (a typo'd year, a broken clock), anywhere: it must
    # not move the log's clock (docs/decision.md, "Event time and lateness").
    if r.random() < 0.08:
        ahead = r.choice([3600, 86400 * 2, 86400 * 40])
        at = r.randrange(len(events) + 1)
        ref = events[max(0, at - 1)][0]
        events.insert(at, (ref + ahead, r.choice([200, 503]), 0, ref + ahead))
    # Now and then bursts from a worker whose clock runs ahead (a few minutes to hours): runs
    # of 1 to 40 consecutive lines, anywhere (the first line too). A burst confirms nothing by
    # itself: the next right line refutes it (docs/decision.md, "Event time and lateness").
    if r.random() < 0.1:
        skew = r.choice([lateness + 3 * interval + 30, 600, 7200])
        for _ in range(r.randint(1, 3)):
            burst = r.choice([1, 2, 3, 5, 40])
            at = r.randrange(len(events) + 1)
            ref = events[max(0, min(at, len(events) - 1))][0]
            wild = [(ref + skew + k % 4, r.choice([200, 200, 503]), 0, ref + skew)
                    for k in range(burst)]
            events[at:at] = wild
    start = T0 + r.randint(0, 3599)
    text = "\n".join(log_line(start + e[0], e[1]) for e in events) + "\n"
    return text, start, start + duration


def generate(r):
    """One case from the random generator `r`."""
    is_log = r.random() < 0.55
    interval = r.choice([5, 10, 10, 30, 60]) if is_log else r.choice([10, 30, 60, 300])
    src = ["[target]", 'name = "gen"', "", "[source.web]"]
    lateness = 60
    if is_log:
        src += ['kind = "access_log"', 'path = "access.log"', 'format = "combined"']
        if r.random() < 0.5:
            # finer than the ticks, or coarser (each bucket is judged once: later ticks hold)
            siv = r.choice([d for d in (1, 5, 10, 30, 60) if interval % d == 0] +
                           [interval * 2, interval * 3, interval * 6])
            src.append(f'interval = "{fmt_dur(siv)}"')
        if r.random() < 0.6:
            lateness = r.choice([0, 5, 10, 30, 60, 120])
            src.append(f'max_lateness = "{fmt_dur(lateness) if lateness else "0s"}"')
    else:
        src += ['kind = "command"', 'argv = ["/bin/true"]']
    parts, thresholds = ["\n".join(src)], []
    for i in range(r.choice([1, 1, 2, 3])):
        text, _, thr = _condition(r, f"c{i + 1}", is_log, interval)
        parts.append("[[condition]]\n" + text)
        thresholds.append(thr)
    dec = ["[decision]", f'interval = "{fmt_dur(interval)}"']
    if r.random() < 0.3:
        dec.append(f'mode = "{r.choice(["auto", "confirm", "observe"])}"')
    if r.random() < 0.7:
        dec.append(f'cooldown = "{fmt_dur(interval * r.choice([1, 3, 10, 30, 100]))}"')
    if r.random() < 0.5:
        dec.append(f'watch_after = "{fmt_dur(interval * r.choice([1, 5, 20, 60]))}"')
    parts.append("\n".join(dec))
    if is_log:
        data, start, end = _log(r, interval, lateness)
    else:
        data, start, end = _csv(r, interval, thresholds)
    events = []
    for k in range(r.choice([0, 0, 1, 2])):
        events.append(["deploy", r.randint(start - 60, end) * 1000, f"v{k + 2}"])
    for _ in range(r.choice([0, 0, 1, 2])):
        events.append(["rolled_back", r.randint(start, end) * 1000])
    events.sort(key=lambda e: e[1])
    return {"config": "\n\n".join(parts) + "\n", "data": data, "events": events}


def cases(seed, n):
    r = random.Random(seed)
    for i in range(n):
        c = generate(r)
        c["id"] = i
        yield c
