# SPDX-License-Identifier: MIT
"""Pinned cases: the inputs of issue 10 with the outcome docs/decision.md prescribes, asserted on
the reference model and on the engine alike (docs/decision-reference.md lists them)."""

import random
from datetime import datetime, timezone

from gen import csv_time, log_line

DAY = int(datetime(2026, 11, 28, tzinfo=timezone.utc).timestamp())  # seconds
ACTING = ("trigger", "request_approval")


def _hm(h, m=0, s=0):
    return (DAY + h * 3600 + m * 60 + s) * 1000


def _actions(ticks):
    return [(t[0], t[1]) for t in ticks if t[1] != "none"]


def _csv(rows):
    return "timestamp,value\n" + "".join(f"{csv_time(t // 1000)},{v}\n" for t, v in rows)


_RULE_1_2 = """[target]
name = "pinned"

[source.web]
kind = "command"
argv = ["/bin/true"]

[[condition]]
name = "value"
signal = "web.value"
window = "10m"
above = 5.0
for = "10m"
max_missed = 1
resolve_after = "15m"

[decision]
interval = "5m"
cooldown = "1h"
"""


def case_1():
    """One breaching row between healthy rows, then six hours without data: no trigger. The
    gap after the breach is silence (on_silence = escalate): the run's second missed tick
    exceeds max_missed = 1, at 00:25, and pages once."""
    rows = [(_hm(0, 0), 1), (_hm(0, 5), 1), (_hm(0, 10), 9),
            (_hm(6, 0), 1), (_hm(6, 5), 1), (_hm(6, 10), 1)]
    case = {"config": _RULE_1_2, "data": _csv(rows), "events": []}

    def check(ticks):
        want = [(_hm(0, 25), "escalate")]
        return _actions(ticks) == want, f"actions {_actions(ticks)}, want {want}"
    return case, check


def case_2():
    """9, 9, 9, then 1 x 5, then 9 x 4, then 1 for two hours: the first incident triggers at
    00:10 (for = 10m satisfied); the second is in the cooldown: a notify at 00:50, never a
    trigger, and nothing on a tick that is not breaching."""
    vals = [9] * 3 + [1] * 5 + [9] * 4 + [1] * 24
    rows = [(_hm(0, 5 * i), v) for i, v in enumerate(vals)]
    case = {"config": _RULE_1_2, "data": _csv(rows), "events": []}
    value = dict(rows)

    def check(ticks):
        want = [(_hm(0, 10), "trigger"), (_hm(0, 50), "notify")]
        bad = [t[0] for t in ticks if t[1] != "none" and value.get(t[0], 0) <= 5.0]
        ok = _actions(ticks) == want and not bad
        return ok, f"actions {_actions(ticks)}, want {want}; acting on healthy ticks: {bad}"
    return case, check


def _checkout_log():
    """5 req/s for 50 s, one in five a 500, then no line for two hours, then healthy traffic
    for ten minutes."""
    r = random.Random(3)
    lines, start = [], DAY + 6 * 3600
    for i in range(250):
        lines.append(log_line(start + i // 5, 500 if i % 5 == 0 else 200))
    back = start + 50 + 2 * 3600
    for i in range(600 * 5):
        lines.append(log_line(back + i // 5, 200 if r.random() > 0.001 else 500))
    return "\n".join(lines) + "\n", (start + 49) * 1000, back * 1000


def _checkout_config(resolve_after, on_silence):
    extra = f'on_silence = "{on_silence}"\n' if on_silence else ""
    return f"""[target]
name = "pinned"

[source.web]
kind = "access_log"
path = "access.log"
format = "combined"

[[condition]]
name = "checkout-errors"
signal = "web.error_rate"
window = "1m"
above = 0.05
min_requests = 100
for = "90s"
max_missed = 2
on_no_traffic = "ignore"
resolve_after = "{resolve_after}"
{extra}
[decision]
interval = "10s"
"""


def case_3(resolve_after, on_silence):
    """Checkouts fail at 20 % for 50 s, then silence for two hours, then healthy traffic.
    on_silence = escalate (default): one escalate within max_lateness + window + source
    interval (a line counts in the bucket dated at its end) + (max_missed + 1) x interval of the
    last line, no trigger ever. on_silence = trigger: one
    trigger within max_lateness + window + for of the last line, none later."""
    data, last_line, back = _checkout_log()
    case = {"config": _checkout_config(resolve_after, on_silence), "data": data, "events": []}
    bound_escalate = last_line + (60 + 60 + 10 + 3 * 10) * 1000
    bound_trigger = last_line + (60 + 60 + 90) * 1000

    def check(ticks):
        acts = _actions(ticks)
        if on_silence == "trigger":
            ok = len(acts) == 1 and acts[0][1] == "trigger" and acts[0][0] <= bound_trigger
            return ok, (f"actions {[(t, a) for t, a in acts]}, want one trigger at or before "
                        f"{bound_trigger}")
        ok = len(acts) == 1 and acts[0][1] == "escalate" and acts[0][0] <= bound_escalate
        return ok, f"actions {acts}, want one escalate at or before {bound_escalate}"
    return case, check


def case_3_log_ends():
    """(break-it 10/02) The checkout's 50 s of 20 % 500s, then the file ends: the service never
    wrote again. The replay judges the quiet after the last line as the live monitor does
    (docs/decision.md, "The end of a replay"): one escalate, within the bound of issue 3."""
    data, last_line, _ = _checkout_log()
    data = "\n".join(data.splitlines()[:250]) + "\n"
    case = {"config": _checkout_config("5m", None), "data": data, "events": []}
    bound = last_line + (60 + 60 + 10 + 3 * 10) * 1000

    def check(ticks):
        acts = _actions(ticks)
        ok = len(acts) == 1 and acts[0][1] == "escalate" and acts[0][0] <= bound
        return ok, f"actions {acts}, want one escalate at or before {bound}"
    return case, check


def case_csv_fraction_last():
    """(break-it 10/05) A CSV's last row dated 00:10:00.5 breaches: judged at the tick after it
    (00:15), not left out because it falls after the tick 00:10."""
    text = ("timestamp,value\n" + f"{csv_time(DAY)},1\n{csv_time(DAY + 300)},1\n" +
            f"{csv_time(DAY + 600)}.500Z,9\n")
    config = _RULE_1_2.replace('for = "10m"\nmax_missed = 1\nresolve_after = "15m"\n', "")

    def check(ticks):
        trig = [a for a in _actions(ticks) if a[1] in ACTING]
        want = [(_hm(0, 15), "trigger")]
        return trig == want, f"triggers {trig}, want {want}"
    return {"config": config, "data": text, "events": []}, check


_LATE_CONFIG = """[target]
name = "pinned"

[source.web]
kind = "access_log"
path = "access.log"
format = "combined"
{lateness}
[[condition]]
name = "gateway-errors"
signal = "web.error_rate"
window = "1m"
above = 0.05
min_requests = 50
for = "30s"

[decision]
interval = "10s"
"""


def _late_log(delay, jitter_seed=None, ok_per_s=2):
    """Ten minutes of `ok_per_s` req/s of 200 (2); from 00:05:00, 120 requests answered 504 (4 a second for
    30 s), each stamped with its start (Apache %t) and written `delay` s later. With
    jitter_seed, every line is written up to 2 s late in a shuffled order."""
    start = DAY + 9 * 3600
    items = []  # (write time, event time, status)
    for i in range(600 * ok_per_s):
        t = start + i // ok_per_s
        items.append((t, t, 200))
    for i in range(120):
        t = start + 300 + i // 4
        items.append((t + delay, t, 504))
    if jitter_seed is not None:
        r = random.Random(jitter_seed)
        items = [(w + r.uniform(0, 2), t, s) for w, t, s in items]
        items.sort(key=lambda x: x[0])
        first = min(range(len(items)), key=lambda i: items[i][1])
        items.insert(0, items.pop(first))
    else:
        items.sort(key=lambda x: (x[0], x[1]))
    return "\n".join(log_line(t, s) for _, t, s in items) + "\n"


def case_4():
    """120 lines of 504 written 30 s late with the default max_lateness (1m): every line is
    counted (no late line anywhere), the fault triggers, and the output is the one of the same
    lines written in time order."""
    case = {"config": _LATE_CONFIG.format(lateness=""), "data": _late_log(30), "events": []}
    in_order = {"config": case["config"], "data": _late_log(0), "events": []}

    def check(ticks, in_order_ticks):
        late = sum(r[5] or 0 for t in ticks for r in t[5])
        trig = [a for a in _actions(ticks) if a[1] == "trigger"]
        ok = late == 0 and len(trig) == 1 and ticks == in_order_ticks
        return ok, (f"late lines {late} (want 0), triggers {trig} (want one), same as in "
                    f"order: {ticks == in_order_ticks}")
    return case, in_order, check


def case_4_nginx_lateness():
    """The same log, but with 10 req/s of 200 around the 504s (most lines are written in time),
    and max_lateness = "5s": the 504s are too late; they are not counted and are reported (late
    > 0 in the records), and nothing triggers. (A replay's clock is what most recent lines agree
    on, docs/decision.md: were the 504s most of the lines of their 30 s, as in case 4, the
    replay's clock would be theirs and count them.)"""
    case = {"config": _LATE_CONFIG.format(lateness='max_lateness = "5s"\n'),
            "data": _late_log(30, ok_per_s=10), "events": []}

    def check(ticks):
        late = max((r[5] or 0 for t in ticks for r in t[5]), default=0)
        trig = [a for a in _actions(ticks) if a[1] in ACTING]
        return late > 0 and not trig, f"max late in a window {late} (want > 0), triggers {trig}"
    return case, check


_BUCKET_CONFIG = """[target]
name = "pinned"

[source.web]
kind = "access_log"
path = "access.log"
format = "combined"
interval = "1m"
max_lateness = "5s"

[[condition]]
name = "err"
signal = "web.error_rate"
window = "1m"
above = 0.05
min_requests = 10
consecutive = 3

[decision]
interval = "10s"
cooldown = "1h"
"""


def _bucket_log(bad_minutes):
    """30 requests a minute for 8 minutes; in minutes 2..1+bad_minutes, 5 of them are 5xx."""
    lines = []
    for minute in range(8):
        for k in range(30):
            status = 500 if 2 <= minute < 2 + bad_minutes and k < 5 else 200
            lines.append(log_line(DAY + minute * 60 + k * 2, status))
    return "\n".join(lines) + "\n"


def case_bucket(bad_minutes):
    """Issue 10 (break-it review, /tmp/brk10/bkt): 1-minute buckets under 10 s ticks. One bad
    minute made "3 consecutive breaches"; a bucket is judged once, so consecutive = 3 needs
    three bad minutes, and triggers at the tick that first sees the third."""
    case = {"config": _BUCKET_CONFIG, "data": _bucket_log(bad_minutes), "events": []}

    def check(ticks):
        trig = [a for a in _actions(ticks) if a[1] in ACTING]
        # the third bad bucket [04:00, 05:00) ends at 05:00, final 5 s later: the 05:10 tick
        want = [(DAY * 1000 + 310_000, "trigger")] if bad_minutes >= 3 else []
        return trig == want, f"triggers {trig}, want {want}"
    return case, check


_QUIET_CONFIG = """[target]
name = "pinned"

[source.web]
kind = "access_log"
path = "access.log"
format = "combined"

[[condition]]
name = "errors"
signal = "web.error_rate"
window = "5m"
above = 0.05
for = "2m"

[decision]
interval = "10s"
"""


def case_quiet_500():
    """Issue 10 break-it, finding 13: a request every 20 minutes, the last one a 500, then quiet
    until morning. The 500 is one line: judged once, at the tick that first sees its bucket; the
    quiet ticks after it hold, so `for = "2m"` is never satisfied (it triggered at 23:43:10)."""
    lines = [log_line(DAY + 22 * 3600 + m * 60, 500 if m == 100 else 200)
             for m in range(0, 101, 20)]
    lines.append(log_line(DAY + 31 * 3600, 200))
    case = {"config": _QUIET_CONFIG, "data": "\n".join(lines) + "\n", "events": []}

    def check(ticks):
        acts = _actions(ticks)
        return acts == [], f"actions {acts}, want none"
    return case, check


def case_csv_wild_date():
    """Issue 10 (/tmp/brk10/nab): one CSV row with its year typo'd costs that row, not the rows
    after it: the breach after it still triggers, and the wild row's value never counts."""
    rows = [(_hm(0, m), 1) for m in range(0, 30, 5)]
    rows.insert(3, (_hm(0, 12) + 366 * 86_400_000, 9))  # a year ahead: not confirmed
    rows += [(_hm(0, m), 9) for m in range(30, 50, 5)]
    case = {"config": _RULE_1_2, "data": _csv(rows), "events": []}

    def check(ticks):
        trig = [a for a in _actions(ticks) if a[1] in ACTING]
        want = [(_hm(0, 40), "trigger")]  # 9 from 00:30, for = 10m
        far = [t[0] for t in ticks if t[0] > _hm(2)]
        return trig == want and not far, f"triggers {trig}, want {want}; ticks past 02:00 {len(far)}"
    return case, check


def _skewed_log(burst, seed):
    """_late_log(30) with bursts of `burst` lines from a worker whose clock runs two hours
    ahead, at three places (before the fault, during it, after it): each burst is refuted by
    the next right line, so the decisions are those of the log without them."""
    lines = _late_log(30).splitlines()
    r = random.Random(seed)
    for at in sorted((r.randrange(50, 500), r.randrange(650, 800), r.randrange(1000, 1300)),
                     reverse=True):
        ref = DAY + 9 * 3600 + at // 2
        wild = [log_line(ref + 7200 + k % 3, r.choice([200, 503])) for k in range(burst)]
        lines[at:at] = wild
    return "\n".join(lines) + "\n"


def case_csv_wild_burst():
    """Two and three consecutive CSV rows with a typo'd year confirm nothing: the same decisions
    as with one."""
    out = []
    for n in (2, 3):
        rows = [(_hm(0, m), 1) for m in range(0, 30, 5)]
        for k in range(n):
            rows.insert(3 + k, (_hm(0, 12 + k) + 366 * 86_400_000, 9))
        rows += [(_hm(0, m), 9) for m in range(30, 50, 5)]
        out.append({"config": _RULE_1_2, "data": _csv(rows), "events": []})
    return out


def case_skewed_worker():
    """(break-it 10/01) Two right workers at 2 req/s, all 504 from minute 2, and a healthy worker
    whose clock is 70 s ahead (within the jump, 1m + 2 x 10s) writing one 200 a second: the
    replay's clock is what most lines agree on, so no right line is too late and the fault
    triggers (as live, whose clock is its own)."""
    start = DAY + 12 * 3600
    lines = []
    for s in range(600):
        for _ in range(2):
            lines.append(log_line(start + s, 504 if s >= 120 else 200))
        lines.append(log_line(start + s + 70, 200))
    case = {"config": _LATE_CONFIG.format(lateness=""), "data": "\n".join(lines) + "\n",
            "events": []}

    def check(ticks):
        late = sum(r[5] or 0 for t in ticks for r in t[5])
        trig = [a for a in _actions(ticks) if a[1] == "trigger"]
        return late == 0 and len(trig) == 1, f"late lines {late} (want 0), triggers {trig}"
    return case, check


def case_first_line_behind(behind_s):
    """(break-it 10/09) A first line `behind_s` behind the rest, then ten healthy minutes at
    2 req/s; a request_count below 5 rule: the first line is refuted (not an hour of zero
    buckets), nothing triggers."""
    start = DAY + 12 * 3600
    lines = [log_line(start - behind_s, 200)]
    for s in range(600):
        lines += [log_line(start + s, 200)] * 2
    config = _LATE_CONFIG.replace('signal = "web.error_rate"', 'signal = "web.request_count"')
    config = config.replace("above = 0.05\nmin_requests = 50\nfor = \"30s\"",
                            "below = 5\nconsecutive = 3")
    case = {"config": config.format(lateness=""), "data": "\n".join(lines) + "\n",
            "events": []}

    # The log ends at start + 600 s. The quiet the replay makes after it was not observed
    # (docs/decision.md, "Partial windows", break-it round 36 finding 06): a request_count
    # below rule does not judge it — the end of a recording is not a shop that stopped.
    def check(ticks):
        acting = [a for a in _actions(ticks) if a[1] in ACTING]
        first = ticks[0][0] if ticks else None
        return (not acting and first is not None and first >= start * 1000,
                f"acting {acting} (want none), "
                f"first tick {first} (want >= {start * 1000})")
    return case, check


def _release_log(fail_from, fail_to):
    """A request every 2 s from 10:00 to 10:40; from `fail_from` to `fail_to` (seconds after
    10:00) every other one a 500."""
    start = DAY + 10 * 3600
    return "".join(log_line(start + s, 500 if fail_from <= s < fail_to and s % 4 == 0 else 200)
                   + "\n" for s in range(0, 2400, 2))


def _release_config(mode, cooldown):
    return f"""[target]
name = "pinned"

[source.web]
kind = "access_log"
path = "access.log"
format = "combined"

[[condition]]
name = "errors"
signal = "web.error_rate"
window = "5m"
above = 0.05
min_requests = 20
for = "2m"

[decision]
mode = "{mode}"
interval = "1m"
cooldown = "{cooldown}"
"""


def case_fix_deployed(mode, cooldown):
    """(break-it 29/03) v2 (10:10) fails, half its requests 500s, until v3 is deployed at 10:20;
    v3 answers only 200s. The v2 outage acts once (10:14); v3 is judged on its own samples: no
    action ever names v3 (it was rolled back, or asked about, at 10:20 on v2's errors)."""
    case = {"config": _release_config(mode, cooldown), "data": _release_log(600, 1200),
            "events": [["deploy", _hm(9), "v1"], ["deploy", _hm(10, 10), "v2"],
                       ["deploy", _hm(10, 20), "v3"]]}
    act = "trigger" if mode == "auto" else "request_approval"

    def check(ticks):
        acts = [(t[0], t[1], t[4]) for t in ticks if t[1] != "none"]
        want = [(_hm(10, 14), act, "v2")]
        return acts == want, f"actions {acts}, want {want}"
    return case, check


def case_fix_deployed_pending():
    """(break-it 29/03) v2 (10:10) fails for 90 s, v3 deployed at 10:11:30 answers only 200s:
    v2's breaching run does not carry over into v3's `for` — nothing acts."""
    case = {"config": _release_config("auto", "5m"), "data": _release_log(600, 690),
            "events": [["deploy", _hm(9), "v1"], ["deploy", _hm(10, 10), "v2"],
                       ["deploy", _hm(10, 11, 30), "v3"]]}

    def check(ticks):
        acts = [(t[0], t[1], t[4]) for t in ticks if t[1] != "none"]
        return acts == [], f"actions {acts}, want none"
    return case, check


def _thinning_log():
    """(break-it 29/04) 3 req/s of 200 for five minutes from 10:00, then 50 s at 3 req/s with
    one in five a 500, then 20 minutes of healthy traffic at one request every 2 s."""
    start = DAY + 10 * 3600
    lines = [log_line(start + i // 3, 200) for i in range(300 * 3)]
    lines += [log_line(start + 300 + i // 3, 500 if i % 5 == 0 else 200) for i in range(50 * 3)]
    lines += [log_line(start + 350 + 2 * i, 200) for i in range(600)]
    return "\n".join(lines) + "\n"


def case_thinning(on_silence):
    """(break-it 29/04) A breach, then healthy lines that keep coming, fewer than min_requests a
    window: below min_requests is never silence (nor an automatic trigger) — nothing acts,
    neither with on_silence = "trigger" nor with the default escalate (no "silent after
    breaching" page while lines still come)."""
    extra = f'on_silence = "{on_silence}"\n' if on_silence else ""
    config = f"""[target]
name = "pinned"

[source.web]
kind = "access_log"
path = "access.log"
format = "combined"
interval = "10s"
max_lateness = "10s"

[[condition]]
name = "checkout"
signal = "web.error_rate"
window = "1m"
above = 0.05
min_requests = 100
for = "90s"
max_missed = 2
{extra}
[decision]
interval = "10s"
"""
    case = {"config": config, "data": _thinning_log(), "events": []}

    def check(ticks):
        acts = _actions(ticks)
        return acts == [], f"actions {acts}, want none"
    return case, check


def _thinning_failing_log():
    """(break-it 36/03) As _thinning_log, but the clients give up: after the 50 s of 500s one
    request every 5 s, every one a 500, for twenty minutes."""
    start = DAY + 10 * 3600
    lines = [log_line(start + i // 3, 200) for i in range(300 * 3)]
    lines += [log_line(start + 300 + i // 3, 500 if i % 5 == 0 else 200) for i in range(50 * 3)]
    lines += [log_line(start + 350 + 5 * i, 500) for i in range(240)]
    return "\n".join(lines) + "\n"


def case_thinning_failing(on_silence):
    """(break-it 36/03) A breach, then fewer lines than min_requests that fail too: traffic
    thinning while it fails is silent — one "silent after breaching" page when the run
    outlasts max_missed — and never a trigger, with on_silence = "trigger" too."""
    case, _ = case_thinning(on_silence)
    case = dict(case, data=_thinning_failing_log())

    def check(ticks):
        acts = _actions(ticks)
        return [a for _, a in acts] == ["escalate"], f"actions {acts}, want one escalate"
    return case, check


def check_all(engine, model):
    """Runs every pinned case on both sides; prints one line per check. Returns the failures."""
    failures = 0
    pins = [("issue-1 one breaching row then a gap", *case_1()),
            ("issue-2 second incident within the cooldown", *case_2())]
    for ra in ("0s", "5m"):
        for sil in (None, "trigger"):
            pins.append((f"issue-3 checkout silence, resolve_after={ra}, "
                         f"on_silence={sil or 'default'}", *case_3(ra, sil)))
    pins.append(("break-it 10/02 a breach then the log ends: escalate as live",
                 *case_3_log_ends()))
    pins.append(("break-it 10/05 a CSV's last row at 00:10:00.5 is judged", *case_csv_fraction_last()))
    pins.append(("issue-4b max_lateness=5s reports the late 504s", *case_4_nginx_lateness()))
    for bad in (1, 2, 3):
        pins.append((f"break-it 1m buckets under 10s ticks, {bad} bad minute(s)",
                     *case_bucket(bad)))
    pins.append(("break-it 10/01 a worker 70 s ahead, the outage found", *case_skewed_worker()))
    for behind in (3600, 365 * 86400):
        pins.append((f"break-it 10/09 a first line {behind} s behind, no trigger",
                     *case_first_line_behind(behind)))
    pins.append(("break-it one 500 on a quiet site is judged once", *case_quiet_500()))
    for mode, cooldown in (("auto", "5m"), ("confirm", "5m"), ("confirm", "1h")):
        pins.append((f"break-it 29/03 a fix deployed mid-outage is judged on its own samples "
                     f"({mode}, cooldown {cooldown})", *case_fix_deployed(mode, cooldown)))
    pins.append(("break-it 29/03 a breaching run does not carry over into a new release",
                 *case_fix_deployed_pending()))
    for sil in ("trigger", None):
        pins.append((f"break-it 29/04 fewer healthy lines than min_requests are not silence "
                     f"(on_silence={sil or 'default'})", *case_thinning(sil)))
    for sil in ("trigger", None):
        pins.append((f"break-it 36/03 fewer failing lines than min_requests are silence, "
                     f"never a trigger (on_silence={sil or 'default'})",
                     *case_thinning_failing(sil)))
    pins.append(("break-it a CSV row with a typo'd year", *case_csv_wild_date()))
    cases = [c for _, c, _ in pins]
    late_case, in_order, late_check = case_4()
    shuffled = [{"config": late_case["config"], "data": _late_log(30, s), "events": []}
                for s in range(10)]
    skewed = [{"config": late_case["config"], "data": _skewed_log(b, b), "events": []}
              for b in (1, 2, 3, 50)]
    wild_one = dict(pins[-1][1])
    wild_bursts = case_csv_wild_burst()
    extra = [late_case, in_order] + shuffled + skewed + [wild_one] + wild_bursts
    all_cases = [dict(c, id=i) for i, c in enumerate(cases + extra)]
    got_engine = engine(all_cases)
    for side, results in (("engine", [got_engine[i] for i in range(len(all_cases))]),
                          ("model", [model(c) for c in all_cases])):
        for i, (name, _, check) in enumerate(pins):
            if isinstance(results[i], dict):
                ok, why = False, results[i]["error"]
            else:
                ok, why = check(results[i])
            failures += not ok
            print(f"pinned {side}: {name}: {'ok' if ok else 'FAILED: ' + why}")
        n = len(cases)
        res_late, res_order = results[n], results[n + 1]
        res_shuf = results[n + 2:n + 2 + len(shuffled)]
        k = n + 2 + len(shuffled)
        res_skew = results[k:k + len(skewed)]
        res_wild, res_bursts = results[k + len(skewed)], results[k + len(skewed) + 1:]
        if isinstance(res_late, dict) or isinstance(res_order, dict):
            ok, why = False, str(res_late if isinstance(res_late, dict) else res_order)
        else:
            ok, why = late_check(res_late, res_order)
        failures += not ok
        print(f"pinned {side}: issue-4 504s written 30 s late, all counted: "
              f"{'ok' if ok else 'FAILED: ' + why}")
        same = sum(r == res_late for r in res_shuf)
        ok = same == len(res_shuf)
        failures += not ok
        print(f"pinned {side}: issue-5 lines shuffled within 2 s, same decisions: "
              f"{same} of {len(res_shuf)} shuffles identical{'' if ok else ' FAILED'}")
        same = sum(r == res_late for r in res_skew)
        ok = same == len(res_skew)
        failures += not ok
        print(f"pinned {side}: clock-skew bursts of 1, 2, 3, 50 lines two hours ahead, same "
              f"decisions: {same} of {len(res_skew)}{'' if ok else ' FAILED'}")
        same = sum(r == res_wild for r in res_bursts)
        ok = same == len(res_bursts) and not isinstance(res_wild, dict)
        failures += not ok
        print(f"pinned {side}: CSV bursts of 2, 3 rows with a typo'd year, the decisions of "
              f"one: {same} of {len(res_bursts)}{'' if ok else ' FAILED'}")
    return failures
