# SPDX-License-Identifier: MIT
"""The reference model of the decision rules, written from docs/decision.md and docs/config.md
(never from engine/decision/ or engine/sources/access_log.cpp): a deliberately simple evaluator
that works from the raw inputs (CSV rows, access-log lines in file order) by brute force.

A case is a dict: {"config": TOML text, "data": file text, "events": [[kind, ms, release?]]}.
`run(case)` returns the ticks as lists (see tick_row), the same shape the C++ driver prints.
Scope: signals value, error_rate, request_count; thresholds above, below, above_baseline with a
fixed baseline. Latency percentiles (an internal histogram) are left out."""

import csv
import bisect
import re
import tomllib
from datetime import datetime, timezone

_DUR = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


def duration_ms(text):
    """"1h30m" → 5,400,000; the duration syntax of docs/config.md."""
    pos, total = 0, 0.0
    for m in _DUR.finditer(text):
        if m.start() != pos:
            raise ValueError(f"bad duration {text!r}")
        total += float(m.group(1)) * _UNIT_MS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"bad duration {text!r}")
    return int(round(total))


_MONTHS = {m: i + 1 for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}
# combined: %h %l %u [%d/%b/%Y:%H:%M:%S %z] "%r" %>s %b "%{Referer}i" "%{User-agent}i"
_COMBINED = re.compile(
    r'^\S+ \S+ \S+ \[(\d\d)/(\w\w\w)/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\] '
    r'"[^"]*" (\d{3}) \S+')


def parse_log_line(line):
    """(event time in ms, status) of a combined-format line, or None."""
    m = _COMBINED.match(line)
    if not m:
        return None
    d, mon, y, hh, mm, ss, sign, zh, zm, status = m.groups()
    try:
        t = datetime(int(y), _MONTHS[mon], int(d), int(hh), int(mm), int(ss), tzinfo=timezone.utc)
    except ValueError:
        return None  # 31/Nov is not a date: an unreadable line
    off = (int(zh) * 60 + int(zm)) * 60
    secs = int(t.timestamp()) - (off if sign == "+" else -off)
    return secs * 1000, int(status)


def parse_csv_time(text):
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1]
    t = datetime.fromisoformat(text.replace("T", " ")).replace(tzinfo=timezone.utc)
    return int(round(t.timestamp() * 1000))


class Cond:
    """One [[condition]], with the documented defaults."""

    def __init__(self, t):
        self.name = t["name"]
        self.source, sig = t["signal"].split(".", 1)
        self.signal = sig
        self.window = duration_ms(t["window"])
        self.above = t.get("above")
        self.below = t.get("below")
        self.above_baseline = t.get("above_baseline")
        self.baseline = t.get("baseline")
        if "for" in t:
            self.counting, self.for_ms = "for", duration_ms(t["for"])
        elif "consecutive" in t:
            self.counting, self.n = "consecutive", t["consecutive"]
        elif "m_of_n" in t:
            self.counting = "m_of_n"
            self.m, self.n = t["m_of_n"]
        else:
            self.counting = "immediate"
        self.max_missed = t.get("max_missed")  # None: the default of the source's kind
        self.min_requests = t.get("min_requests", 0)
        self.resolve_after = duration_ms(t.get("resolve_after", "0s"))
        self.severity = t.get("severity", "high")
        self.on_no_data = t.get("on_no_data")  # None: the default of the kind of no_data
        self.on_no_traffic = t.get("on_no_traffic", "ignore")
        self.on_insufficient_sample = t.get("on_insufficient_sample", "ignore")
        self.on_error = t.get("on_error", "escalate")
        self.on_silence = t.get("on_silence", "escalate")
        self.mode = t.get("mode")

    def breaches(self, v):
        if self.above_baseline is not None:
            if not v > self.above_baseline * float(self.baseline):
                return False
            return self.above is None or v > self.above
        if self.above is not None:
            return v > self.above
        return v < self.below


class CondState:
    def __init__(self):
        self.prev_verdict = None
        # the breaching run
        self.run = False
        self.run_first = None
        self.run_breaches = 0
        self.run_missed = 0
        self.history = []  # m_of_n: outcomes of the last N observed ticks (True = breach)
        # the incident
        self.firing = False
        self.acted = False
        self.recovering_since = None
        self.incident_since = None  # when the open incident began
        self.last_breach = None  # the incident's last breaching tick
        self.suppressed_for = None  # the trigger whose cooldown this condition notified
        self.last_escalate = None  # the last page for missing data
        self.last_silence = None  # the last "silent after breaching" page (its own cooldown)
        self.judged = None  # the newest sample a counted tick rested on
        self.counted_verdict = None  # the verdict of the last counted (not held) tick
        self.breach_at = None  # the run's last breaching tick with a value
        self.breach_requests = None  # and its window's requests (access logs)
        self.breach_line = None  # and the newest line it rested on (access logs)

    def reset_run(self):
        self.run = False
        self.run_first = None
        self.run_breaches = 0
        self.run_missed = 0
        self.breach_at = None
        self.breach_requests = None
        self.breach_line = None


ACTION_WEIGHT = {"none": 0, "notify": 1, "escalate": 2, "request_approval": 3, "trigger": 4}


def sig9(v):
    return None if v is None else float("%.9g" % v)


class Data:
    """The source's observations, computed from the raw file."""

    def __init__(self, text, is_log, source_interval, max_lateness, tail=0):
        self.is_log = is_log
        if is_log:
            self._read_log(text, source_interval, max_lateness)
            # docs/decision.md, "Partial windows": what the replay makes after the input's end
            # (the last bucket that holds a line) was not observed
            self.input_end = self.last
            if self.last is not None:
                # docs/decision.md, "The end of a replay": the quiet buckets after the last line,
                # up to `tail` after its bucket, are samples of zero requests
                self.last += (tail // source_interval) * source_interval
                n, x, l = self.cum[-1]
                self.cum += [(n, x, l)] * (tail // source_interval)
        else:
            # the replay's jump for a CSV: two evaluations, at least 10 minutes
            self._read_csv(text, max(600_000, 2 * source_interval))

    def _read_csv(self, text, jump):
        """docs/decision.md: a row that cannot be read is skipped; a row more than `jump` ahead
        of the newest row (and the first row) waits for the next row's confirmation, as a log
        line does; a row dated before the newest is skipped; of equal times the first counts."""
        parsed = []
        for line in text.splitlines()[1:]:
            if not line.strip():
                continue
            # RFC 4180 quoting (an export that quotes every field) by Python's csv module
            fields = next(csv.reader([line]))
            if len(fields) != 2:
                continue  # a bad row: skipped and counted
            ts, val = fields
            try:
                t, v = parse_csv_time(ts), float(val)
            except ValueError:
                continue  # a bad row: skipped and counted
            if v != v or v in (float("inf"), float("-inf")):
                continue
            parsed.append((t, v))
        rows = []
        for t, v in self._confirmed(parsed, jump):
            if rows and t <= rows[-1][0]:
                continue  # going back in time, or a duplicate: the first one counts
            rows.append((t, v))
        self.rows = rows
        self.times = [r[0] for r in rows]
        self.first = rows[0][0] if rows else None
        self.last = rows[-1][0] if rows else None
        self.lateness = 0

    @staticmethod
    def _confirmed(entries, jump):
        """docs/decision.md, "Event time and lateness": a line more than `jump` ahead of the
        newest counted line starts a held run; lines within `jump` of the run's first line join
        it; a line at least `jump` after the run's first confirms the run, a line more than
        `jump` before it refutes the run (none of it counts). Before any line counts, the first
        run is held too: lines within `jump` of its first join it; a line at least `jump` after
        its first and at most `jump` after its newest confirms it; a line more than `jump` away
        starts a held run. A run behind the first run is refuted by a line back at or after
        `jump` before the first run's first line, and confirmed (the first run refuted) by a line
        at least `jump` after its own first that is still behind; a run ahead of it is judged as
        in the middle, and when it is confirmed (or the file ends) the first run counts unless
        it is isolated: at most 3 lines, and fewer than the run after it. At the end, a held run counts unless it
        starts more than a day ahead of the newest counted line."""
        clock = None
        start = []  # the first run, while nothing counted
        held = []   # a run apart from the clock (or from the first run)

        def settle_start():
            nonlocal start, clock
            out = [] if len(start) <= 3 and len(start) < len(held) else start
            start = []
            for h in out:
                clock = h[0] if clock is None else max(clock, h[0])
            return out

        for t, status in entries:
            if held:
                first = held[0][0]
                behind_start = bool(start) and first < start[0][0] - jump
                if t < first - jump or (behind_start and t >= start[0][0] - jump):
                    held = []
                elif behind_start and t - first >= jump:
                    start = []  # the first run was ahead of the log: refuted
                    for h in held:
                        yield h
                        clock = h[0] if clock is None else max(clock, h[0])
                    held = []
                elif t - first >= jump:
                    yield from settle_start()
                    for h in held:
                        yield h
                        clock = h[0] if clock is None else max(clock, h[0])
                    held = []
                else:
                    held.append((t, status))
                    continue
            if clock is None:
                if not start or (start[0][0] - jump <= t < start[0][0] + jump):
                    start.append((t, status))
                    continue
                if t < start[0][0] - jump or t - max(x[0] for x in start) > jump:
                    held = [(t, status)]
                    continue
                yield from settle_start()
            if t - clock > jump:
                held = [(t, status)]
                continue
            yield t, status
            clock = max(clock, t)
        yield from settle_start()
        if held and (clock is None or held[0][0] - clock <= 86_400_000):
            yield from held

    def _read_log(self, text, iv, ml):
        counts, errors, late = {}, {}, {}
        watermark = None
        recent = []  # the times of the last 32 counted lines
        entries = (p for p in map(parse_log_line, text.splitlines()) if p is not None)
        for t, status in self._confirmed(entries, ml + 2 * iv):
            end = (t // iv) * iv + iv  # the bucket [s, s + iv), dated at its end
            if watermark is not None and end + ml <= watermark:
                # too late: its bucket is final; the next sample the source emits carries it
                nxt = ((watermark - ml) // iv) * iv + iv
                late[nxt] = late.get(nxt, 0) + 1
            else:
                counts[end] = counts.get(end, 0) + 1
                if 500 <= status <= 599:
                    errors[end] = errors.get(end, 0) + 1
            # the replay's watermark: the newest time that 17 of the last 32 counted lines are
            # dated at or after (none before 17 lines), never moving back
            recent = (recent + [t])[-32:]
            if len(recent) >= 17:
                agreed = sorted(recent)[len(recent) - 17]
                watermark = agreed if watermark is None else max(watermark, agreed)
        self.iv = iv
        self.lateness = ml
        self.line_ends = sorted(counts)  # the buckets that hold a line
        if counts:
            self.first, self.last = min(counts), max(counts)
            # a too-late line read before the log's first sample is carried by that sample
            for end in [e for e in late if e < self.first]:
                late[self.first] = late.get(self.first, 0) + late.pop(end)
        else:
            self.first = self.last = None
            return
        # prefix sums over the buckets first..last (every final bucket is a sample, quiet or not)
        self.cum = [(0, 0, 0)]
        e = self.first
        while e <= self.last:
            n, x, l = self.cum[-1]
            self.cum.append((n + counts.get(e, 0), x + errors.get(e, 0), l + late.get(e, 0)))
            e += iv

    def newest_line(self, start, end):
        """The end of the newest bucket dated in (start, end] that holds a line (start None:
        any before end)."""
        i = bisect.bisect_right(self.line_ends, end) - 1
        return self.line_ends[i] if i >= 0 and (start is None or self.line_ends[i] > start) \
            else None

    def window(self, start, end):
        """(samples, requests, errors, late, newest) of the samples dated in (start, end];
        newest: (its time, the CSV value or None)."""
        if not self.is_log:
            lo = bisect.bisect_right(self.times, start)
            hi = bisect.bisect_right(self.times, end)
            return hi - lo, None, None, None, (self.rows[hi - 1] if hi > lo else None)
        if self.first is None:
            return 0, 0, 0, 0, None
        lo = max(self.first, (start // self.iv) * self.iv + self.iv)
        hi = min(self.last, (end // self.iv) * self.iv)
        if hi < lo:
            return 0, 0, 0, 0, None
        a = (lo - self.first) // self.iv
        b = (hi - self.first) // self.iv + 1
        ca, cb = self.cum[a], self.cum[b]
        return b - a, cb[0] - ca[0], cb[1] - ca[1], cb[2] - ca[2], (hi, None)


def observe(c, data, now, release_since=None):
    """(observed, missing, requests, late, newest sample's time) of condition c at tick `now`;
    the newest sample's time is None when the window holds no sample; missing is
    "before_release" for the window left empty by a new release's deploy.
    docs/decision.md, "A new release is judged on its own samples": after a marker that
    changed the release (deployed at `release_since`), the window holds only the samples after
    the deploy — CSV rows dated after it, access-log buckets that began at or after it."""
    end = now - data.lateness if data.is_log else now
    start = end - c.window
    first_own = None  # the earliest time a sample of the running release may be dated
    if release_since is not None:
        first_own = release_since + (data.iv if data.is_log else 0)
        # rows dated > release_since; buckets dated >= release_since + interval (ms)
        start = max(start, first_own - 1 if data.is_log else release_since)
    samples, requests, errs, late, newest = data.window(start, end)
    if samples == 0:
        if first_own is not None and end - c.window < first_own:
            return None, "before_release", None, None, None
        return None, "no_data", None, None, None
    t = newest[0]
    if c.signal == "value":
        return newest[1], "none", None, None, t
    if c.signal == "request_count":
        if c.below is not None and partial_window(c, data, end, release_since):
            return None, "partial", requests, late, t
        return float(requests), "none", requests, late, t  # zero requests is its value
    if requests == 0:
        return None, "no_traffic", requests, late, t
    if c.signal == "error_rate":
        if requests < c.min_requests:
            return None, "insufficient_sample", requests, late, t
        # a ratio over lines rests on its newest line: a quiet bucket is no new evidence
        return errs / requests, "none", requests, late, data.newest_line(start, end)
    return float(requests), "none", requests, late, t


def partial_window(c, data, end, release_since):
    """docs/decision.md, "Partial windows": the window (end - window, end] of a count below a
    threshold is not whole when it starts before the new release's first bucket (the deploy
    rounded up to a bucket boundary), or holds the log's first or last bucket (either may be
    part-observed), or ends after the input."""
    start = end - c.window
    if release_since is not None and -(-release_since // data.iv) * data.iv > start:
        return True
    if data.first > start:  # the first bucket may be part-observed
        return True
    return end >= data.input_end  # so may the last one


def silence_tail(conds, interval, source_interval):
    """docs/decision.md, "The end of a replay": per condition, its counting span + 4 windows +
    (max_missed + 2) steps, the step the larger of the two intervals; the longest, whole seconds
    rounded up."""
    step = max(interval, source_interval)
    tail = 0
    for c in conds:
        span = {"for": lambda: c.for_ms, "consecutive": lambda: c.n * step,
                "m_of_n": lambda: c.n * step, "immediate": lambda: 0}[c.counting]()
        tail = max(tail, span + 4 * c.window + (c.max_missed + 2) * step)
    return -(-tail // 1000) * 1000


def run(case):
    cfg = tomllib.loads(case["config"])
    conds = [Cond(t) for t in cfg.get("condition", [])]
    dec = cfg.get("decision", {})
    interval = duration_ms(dec.get("interval", "10s"))
    mode = dec.get("mode", "auto")
    cooldown = duration_ms(dec.get("cooldown", "1h"))
    watch_after = duration_ms(dec.get("watch_after", "30m"))
    src = cfg["source"][conds[0].source]
    is_log = src["kind"] == "access_log"
    for c in conds:  # missed ticks in a row tolerated: 1 over a polled source, 0 over a log
        if c.max_missed is None:
            c.max_missed = 0 if is_log else 1
    source_interval = duration_ms(src.get("interval", dec.get("interval", "10s")))
    data = Data(case["data"], is_log, source_interval,
                duration_ms(src.get("max_lateness", "1m")) if is_log else 0,
                silence_tail(conds, interval, source_interval) if is_log else 0)
    if data.first is None:
        return []
    deploys = sorted((e[1], e[2]) for e in case.get("events", []) if e[0] == "deploy")
    rollbacks = sorted(e[1] for e in case.get("events", []) if e[0] == "rolled_back")

    states = [CondState() for _ in conds]
    last_trigger = None  # the last executed trigger (rule 4: the cooldown)
    last_shadow = None  # the last trigger of a condition in mode observe: the shadows' cooldown
    applied = set()  # deploy markers already applied
    known_releases = set()  # releases deployed before the marker being applied
    running = ""  # the running release (the newest marker applied)
    release_since = None  # the deploy of the marker that last changed the release
    ticks = []
    first_tick = -(-data.first // interval) * interval
    # the first tick at or after the newest sample + max_lateness
    last_tick = -(-(data.last + data.lateness) // interval) * interval
    now = first_tick
    while now <= last_tick:
        release = ""
        for t, r in deploys:
            if t <= now:
                release = r
        done_rollbacks = [r for r in rollbacks if r <= now]
        watching = bool(done_rollbacks) and now - done_rollbacks[-1] < watch_after
        if watching:
            # A deploy marker dated after the rollback that brings a new release (not one
            # deployed at or before the rollback) ends the watch.
            last_rb = done_rollbacks[-1]
            known = {r for t, r in deploys if t <= last_rb}
            if any(last_rb < t <= now and r not in known for t, r in deploys):
                watching = False
        # A deploy marker of a release new (not deployed before) ends every incident that
        # acted and began before it: a failure of that release is a new incident.
        for t, r in deploys:
            if t <= now and (t, r) not in applied:
                applied.add((t, r))
                if r not in known_releases and r != "":
                    for st in states:
                        if st.firing and st.acted and st.incident_since < t:
                            st.firing, st.acted, st.recovering_since = False, False, None
                known_releases.add(r)
                if r != running:
                    # A marker that changes the release: its judgement starts afresh (the
                    # breaching runs, the m_of_n history), its windows from the deploy on.
                    running = r
                    release_since = t if release_since is None else max(release_since, t)
                    for st in states:
                        st.reset_run()
                        st.history = []
        in_cooldown = last_trigger is not None and now - last_trigger < cooldown
        shadow_cooldown = last_shadow is not None and now - last_shadow < cooldown
        triggered_now = None  # an executed trigger at this tick (rule 3)
        shadow_now = None  # a shadow's trigger at this tick
        requested_now = None  # an approval request at this tick
        rows = []
        for c, st in zip(conds, states):
            observed, missing, requests, late, newest = observe(c, data, now, release_since)
            policy = None
            silence = False
            fresh = missing == "before_release"  # nothing of the new release yet: ignored
            if fresh:
                missing = "no_data"
            # a count below over a partial window: insufficient_sample, never silence
            partial = missing == "partial"
            if partial:
                missing = "insufficient_sample"
            # A sample (a CSV row, a log bucket) counts once, at the first tick whose window
            # holds it: a later tick with no newer sample in its window holds.
            held = newest is not None and newest == st.judged
            if newest is not None:
                st.judged = newest
            if missing == "none":
                outcome = "breach" if c.breaches(observed) else "ok"
            elif fresh:
                policy, outcome = "ignore", "missed"
            else:
                # silence after a breach is evidence only when the last breaching window's
                # requests, at their rate, would have brought 3 since (access logs only)
                unlikely = st.breach_requests is None or (
                    st.breach_requests * (now - st.breach_at) >= 3 * c.window)
                # silence is hearing nothing: a window below min_requests is silence only when
                # no line came since the last breaching tick's newest line
                end = now - data.lateness
                # ... or when the lines since fail beyond the threshold too (thinning while
                # failing): silent, but never a trigger
                thin_failing = False
                if missing == "insufficient_sample" and c.signal == "error_rate" and \
                        c.below is None and st.breach_line is not None:
                    w_start = end - c.window
                    _, n, e, _, _ = data.window(max(w_start, st.breach_line), end)
                    thin_failing = n > 0 and c.breaches(e / n)
                heard = missing == "insufficient_sample" and not thin_failing and (
                    st.breach_line is None or data.newest_line(None, end) != st.breach_line)
                if missing in ("no_data", "no_traffic", "insufficient_sample") and \
                        st.run and unlikely and not heard and not partial:
                    policy, silence = c.on_silence, True
                    if thin_failing and policy == "trigger":
                        policy = "escalate"  # a window below min_requests never triggers
                elif missing == "no_data":
                    policy = c.on_no_data or "ignore"  # a gap in a recorded file: ignore
                elif missing == "no_traffic":
                    policy = c.on_no_traffic
                elif missing == "insufficient_sample":
                    policy = c.on_insufficient_sample
                else:
                    policy = c.on_error
                outcome = "breach" if policy == "trigger" else "missed"
            would_breach = outcome == "breach"
            if held:
                outcome = "hold"

            satisfied = False
            silent_reset = False
            # the incident acted before this tick: the silence after it pages nobody, also
            # when this tick ends it (docs/decision.md, "Silence after a breach")
            acted_before = st.firing and st.acted
            if outcome == "ok":
                st.reset_run()  # ends the run; the missed count starts again
                if c.counting == "m_of_n":
                    st.history = (st.history + [False])[-c.n:]
                if st.firing:
                    if st.recovering_since is None:
                        st.recovering_since = now
                    if now - st.recovering_since >= c.resolve_after:
                        st.firing = False
                        st.acted = False
                        st.recovering_since = None
            elif outcome == "breach":
                if not st.run:
                    st.run, st.run_first, st.run_breaches, st.run_missed = True, now, 0, 0
                st.run_breaches += 1
                st.run_missed = 0  # missed ticks in a row: an isolated one never adds up
                if observed is not None:
                    st.breach_at = now
                    st.breach_requests = requests if data.is_log else None
                    st.breach_line = (data.newest_line(None, now - data.lateness)
                                      if data.is_log else None)
                if c.counting == "m_of_n":
                    st.history = (st.history + [True])[-c.n:]
                    satisfied = sum(st.history) >= c.m
                elif c.counting == "for":
                    satisfied = now - st.run_first >= c.for_ms
                elif c.counting == "consecutive":
                    satisfied = st.run_breaches >= c.n
                else:
                    satisfied = True
                st.recovering_since = None
                if satisfied and not st.firing:
                    st.firing, st.acted = True, False
                    st.incident_since = now
                if st.firing:
                    st.last_breach = now
            elif outcome == "hold":
                pass
            else:  # missed: counted since the last ok or breaching tick
                # Missed ticks only, longer than resolve_after and the cooldown since the
                # incident last breached: it ends without an ok tick.
                if st.firing and now - st.last_breach > max(c.resolve_after, cooldown):
                    st.firing, st.acted, st.recovering_since = False, False, None
                st.run_missed += 1
                if st.run_missed > c.max_missed:
                    silent_reset = silence and st.run
                    st.reset_run()
                    st.history = []

            if missing != "none" and policy != "trigger":
                verdict = missing
            elif st.firing:
                verdict = "firing"
            elif would_breach:
                verdict = "pending"
            else:
                verdict = "ok"

            action = "none"
            cmode = c.mode or mode
            if satisfied and st.firing and not st.acted:
                if watching:
                    action, st.acted = "notify", True
                elif c.severity == "warning":
                    action, st.acted = "notify", True
                elif triggered_now is not None or (cmode == "observe" and shadow_now) or (
                        cmode == "confirm" and requested_now):
                    st.acted = True
                elif in_cooldown or (cmode == "observe" and shadow_cooldown):
                    # a shadow sees the shadows' cooldown too; told once per cooldown (its end)
                    ends = max(t for t in (last_trigger if in_cooldown else None,
                                           last_shadow if cmode == "observe" and shadow_cooldown
                                           else None) if t is not None)
                    if st.suppressed_for != ends:
                        action, st.suppressed_for = "notify", ends
                else:
                    action = "request_approval" if cmode == "confirm" else "trigger"
                    st.acted = True
                    if cmode == "observe":
                        shadow_now = c.name
                    elif cmode == "confirm":
                        requested_now = c.name
                    else:
                        triggered_now = c.name
            elif missing != "none" and policy == "escalate" and not silence and not held:
                if verdict != st.counted_verdict:  # the state begins (vs the last counted tick)
                    action = "escalate"
            elif silent_reset and policy == "escalate":
                if not (acted_before or (st.firing and st.acted)):
                    action = "escalate"
            if action == "escalate":
                last = st.last_silence if silent_reset else st.last_escalate
                if last is not None and now - last < cooldown:
                    action = "none"
                elif silent_reset:
                    st.last_silence = now
                else:
                    st.last_escalate = now
            st.prev_verdict = verdict
            if not held:
                st.counted_verdict = verdict
            rows.append([verdict, action, sig9(observed), missing, requests, late])

        if triggered_now is not None:
            last_trigger = now
        if shadow_now is not None:
            last_shadow = now

        def weight(i):  # an executed action first, then the heaviest
            a = rows[i][1]
            return (a != "none" and (conds[i].mode or mode) != "observe", ACTION_WEIGHT[a])
        best = -1
        for i, r in enumerate(rows):
            if best < 0 or weight(i) > weight(best):
                best = i
        action = rows[best][1] if rows else "none"
        cause = conds[best].name if action != "none" else ""
        cmode = (conds[best].mode or mode) if rows else mode
        executed = action != "none" and cmode != "observe"
        ticks.append([now, action, cause, executed, release, rows])
        now += interval
    return ticks
