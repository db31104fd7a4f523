// SPDX-License-Identifier: MIT
#include "decision/evaluator.hpp"

#include "util/duration.hpp"

#include <algorithm>
#include <charconv>
#include <deque>

namespace rollback::decision {

namespace {

using std::chrono::duration_cast;

enum class Outcome { ok, breach, missed };

struct Series {
    std::string name;
    std::deque<Sample> samples;
    uint64_t base_seq = 0; ///< sequence number of samples.front()
    bool any = false;
    SystemTime last;
    Millis retention{0}; ///< how far back before_deploy baselines need samples

    uint64_t end_seq() const { return base_seq + samples.size(); }
    const Sample& at(uint64_t seq) const { return samples[seq - base_seq]; }
};

struct Observation {
    std::optional<double> value;
    Missing missing = Missing::none;
    bool unreadable = false; ///< no_data because the source could not be read (not a gap)
    std::string detail;
    uint64_t samples = 0;
    std::optional<uint64_t> requests;
};

bool valid_kind(SampleKind k) {
    return k != SampleKind::unavailable && k != SampleKind::error;
}

double median(std::vector<double> v) {
    auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    if (v.size() % 2 == 1) {
        return *mid;
    }
    double hi = *mid;
    double lo = *std::max_element(v.begin(), mid);
    return (lo + hi) / 2;
}

double percentile_of(Signal s) {
    return s == Signal::latency_p50 ? 0.50 : s == Signal::latency_p95 ? 0.95 : 0.99;
}

bool is_latency(Signal s) {
    return s == Signal::latency_p50 || s == Signal::latency_p95 || s == Signal::latency_p99;
}

std::string describe_duration(std::chrono::system_clock::duration d) {
    return util::format_duration(duration_cast<Millis>(d));
}

// The record's texts are rebuilt at every tick, a replay runs millions of ticks: appending to one
// string costs one allocation where a chain of operator+ costs one per piece.
void append_int(std::string& s, long long v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    s.append(buf, end);
}

struct CondState {
    ConditionSpec spec;
    size_t series = 0;
    Mode mode = Mode::auto_;
    // The spec's texts that every record repeats, formatted once.
    std::string signal_name, unit, window_text, for_text;

    // The window (now - window, now], kept as running sums.
    uint64_t next_seq = 0, first_seq = 0;
    uint64_t w_count = 0, w_errors = 0, w_samples = 0, w_valid = 0, w_late = 0;
    LatencyHistogram hist;
    bool track_hist = false;

    // downtime: the current run of failed probes
    std::optional<SystemTime> fail_since;

    // counting
    std::optional<SystemTime> run_start; ///< for: first breach of the run
    int run_breached = 0, run_ticks = 0;
    int consec = 0;
    std::deque<bool> recent; ///< m_of_n: last n non-missed ticks
    int missed_run = 0;      ///< missed ticks since the last observed one
    int missed_in_run = 0;
    std::optional<double> last_breach_value; ///< of the open run, for "silent after breaching"
    SystemTime last_breach_at;

    // incident
    bool firing = false;
    std::optional<SystemTime> incident_since, ok_since;
    bool acted = false, suppressed_notified = false;
    std::optional<SystemTime> noted_cooldown, last_escalated;
    std::optional<Verdict> last_verdict;

    // baselines
    std::optional<BaselineInfo> external, computed;
    bool baseline_due = false; ///< before_deploy: computed once the window end passes the deploy
    std::vector<double> release_values;
    uint64_t release_ticks = 0;
    int stride = 1, stride_pos = 0;

    void reset_counting() {
        run_start.reset();
        run_breached = run_ticks = 0;
        consec = 0;
        recent.clear();
        missed_in_run = 0;
    }
};

} // namespace

struct Evaluator::Impl {
    std::vector<ConditionSpec> specs;
    DecisionPolicy policy;
    BaselineBook book;
    std::vector<Series> series;
    std::vector<CondState> conds;

    std::string release;
    std::optional<SystemTime> deployed_at;
    std::deque<std::pair<SystemTime, std::string>> pending_deploys; ///< time order
    std::optional<SystemTime> cooldown_until, watch_until;
    bool first_tick = true;

    // ---------------------------------------------------------------------------------------
    void consume(CondState& c, const Sample& s) {
        ++c.w_samples;
        if (valid_kind(s.kind)) {
            ++c.w_valid;
        }
        c.w_count += s.count;
        c.w_errors += s.errors;
        c.w_late += s.late;
        if (c.track_hist) {
            for (auto [b, n] : s.latency) {
                c.hist.add(b, n);
            }
        }
        if (s.kind == SampleKind::probe) {
            if (s.errors == 0) {
                c.fail_since.reset();
            } else if (!c.fail_since) {
                c.fail_since = s.time;
            }
        }
    }

    void expire(CondState& c, const Sample& s) {
        --c.w_samples;
        if (valid_kind(s.kind)) {
            --c.w_valid;
        }
        c.w_count -= s.count;
        c.w_errors -= s.errors;
        c.w_late -= s.late;
        if (c.track_hist) {
            for (auto [b, n] : s.latency) {
                c.hist.add(b, -static_cast<int64_t>(n));
            }
        }
    }

    void advance(CondState& c, SystemTime now) {
        Series& se = series[c.series];
        while (c.next_seq < se.end_seq() && se.at(c.next_seq).time <= now) {
            consume(c, se.at(c.next_seq));
            ++c.next_seq;
        }
        const SystemTime start = now - c.spec.window;
        while (c.first_seq < c.next_seq && se.at(c.first_seq).time <= start) {
            expire(c, se.at(c.first_seq));
            ++c.first_seq;
        }
    }

    void prune(Series& se, SystemTime now, size_t index) {
        uint64_t keep_from = se.end_seq();
        SystemTime keep_time = now - se.retention;
        for (const auto& c : conds) {
            if (c.series == index) {
                keep_from = std::min(keep_from, c.first_seq);
                if (c.baseline_due && deployed_at) {
                    keep_time = std::min(keep_time, *deployed_at - before_window(c.spec));
                }
            }
        }
        while (!se.samples.empty() && se.base_seq < keep_from &&
               se.samples.front().time < keep_time) {
            se.samples.pop_front();
            ++se.base_seq;
        }
    }

    // The signal over the current window.
    Observation observe(const CondState& c, SystemTime now) const {
        const Series& se = series[c.series];
        Observation o;
        o.samples = c.w_samples;
        // The monitor cannot read the source now: no data, whatever the (lagging) window holds.
        if (!se.samples.empty() && se.samples.back().kind == SampleKind::unavailable &&
            se.samples.back().time > now - c.spec.window) {
            o.missing = Missing::no_data;
            o.unreadable = true;
            o.detail = "source \"" + se.name + "\" unavailable: " + se.samples.back().detail;
            return o;
        }
        if (c.w_samples == 0) {
            o.missing = Missing::no_data;
            o.detail = "no sample from source \"" + se.name + "\" in the last " + c.window_text;
            return o;
        }
        const Sample& latest = se.at(c.next_seq - 1);
        if (latest.kind == SampleKind::unavailable) {
            o.missing = Missing::no_data;
            o.unreadable = true;
            o.detail = "source \"" + se.name + "\" unavailable: " + latest.detail;
            return o;
        }
        if (latest.kind == SampleKind::error) {
            o.missing = Missing::error;
            o.detail = "check failed: " + latest.detail;
            return o;
        }
        const Signal sig = c.spec.signal;
        if (sig == Signal::value) {
            if (latest.kind != SampleKind::value) {
                o.missing = Missing::error;
                o.detail = "signal value needs a source that reports numbers";
                return o;
            }
            o.value = latest.value;
            return o;
        }
        if (sig == Signal::downtime) {
            if (latest.kind != SampleKind::probe) {
                o.missing = Missing::error;
                o.detail = "signal downtime needs an http probe source";
                return o;
            }
            o.value =
                c.fail_since ? duration_cast<Millis>(now - *c.fail_since).count() / 1000.0 : 0.0;
            if (c.fail_since) {
                o.detail = "failing since " + util::format_time(*c.fail_since);
            }
            return o;
        }
        if (latest.kind == SampleKind::value) {
            o.missing = Missing::error;
            o.detail = "signal " + std::string(to_string(sig)) + " needs request or probe samples";
            return o;
        }
        o.requests = c.w_count;
        if (sig == Signal::request_count) {
            o.value = static_cast<double>(c.w_count);
            return o;
        }
        if (c.w_count == 0) {
            o.missing = Missing::no_traffic;
            o.detail = "no requests in the last " + c.window_text;
            return o;
        }
        if (c.w_count < c.spec.min_requests) {
            o.missing = Missing::insufficient_sample;
            o.detail = std::to_string(c.w_count) +
                       " requests in the window, fewer than min_requests = " +
                       std::to_string(c.spec.min_requests);
            return o;
        }
        if (sig == Signal::error_rate) {
            o.value = static_cast<double>(c.w_errors) / static_cast<double>(c.w_count);
        } else if (c.hist.total() == 0) {
            o.missing = Missing::no_data;
            o.detail = latest.kind == SampleKind::probe
                           ? "no probe in the window was answered: no latency to measure "
                             "(error_rate and downtime judge failed probes)"
                           : "requests carry no latency (does the log format have "
                             "$request_time?)";
        } else {
            o.value = c.hist.percentile(percentile_of(sig));
        }
        return o;
    }

    // The signal over [from, to) of the retained samples (before_deploy baselines).
    std::optional<BaselineInfo> compute_before(const CondState& c, SystemTime from,
                                               SystemTime to) const {
        const Series& se = series[c.series];
        BaselineInfo b{BaselineKind::before_deploy, std::nullopt,
                       "window " + util::format_time(from) + " .. " + util::format_time(to) +
                           " before the deploy of " + (release.empty() ? "?" : release)};
        std::vector<double> values;
        uint64_t count = 0, errors = 0;
        LatencyHistogram h;
        for (const auto& s : se.samples) {
            if (s.time < from || s.time >= to || !valid_kind(s.kind)) {
                continue;
            }
            if (s.kind == SampleKind::value) {
                values.push_back(s.value);
            }
            count += s.count;
            errors += s.errors;
            for (auto [bk, n] : s.latency) {
                h.add(bk, n);
            }
        }
        const Signal sig = c.spec.signal;
        if (sig == Signal::value) {
            if (values.empty()) {
                b.origin += ": no samples";
                return b;
            }
            b.value = median(values);
            b.origin += " (median of " + std::to_string(values.size()) + " samples)";
        } else if (sig == Signal::request_count) {
            b.value = static_cast<double>(count);
        } else if (sig == Signal::downtime) {
            b.origin += ": downtime has no baseline";
        } else if (count == 0 || count < c.spec.min_requests) {
            b.origin += ": only " + std::to_string(count) + " requests";
        } else if (sig == Signal::error_rate) {
            b.value = static_cast<double>(errors) / static_cast<double>(count);
            b.origin += " (" + std::to_string(count) + " requests)";
        } else if (h.total() > 0) {
            b.value = h.percentile(percentile_of(sig));
            b.origin += " (" + std::to_string(h.total()) + " requests)";
        }
        return b;
    }

    std::optional<BaselineInfo> baseline_of(const CondState& c) const {
        switch (c.spec.baseline) {
        case BaselineKind::none:
            return std::nullopt;
        case BaselineKind::fixed:
            return BaselineInfo{BaselineKind::fixed, c.spec.baseline_value,
                                "a fixed number in the config"};
        case BaselineKind::before_deploy:
            if (c.external) {
                return c.external;
            }
            if (c.computed) {
                return c.computed;
            }
            return BaselineInfo{BaselineKind::before_deploy, std::nullopt,
                                deployed_at ? "not computed" : "no deploy marker"};
        case BaselineKind::previous_release:
            if (c.external) {
                return c.external;
            }
            if (const auto* r = book.previous_good(release, c.spec.name)) {
                return BaselineInfo{BaselineKind::previous_release, r->values.at(c.spec.name),
                                    "median of " + std::to_string(r->ticks.at(c.spec.name)) +
                                        " evaluations while release " + r->release + " ran"};
            }
            return BaselineInfo{
                BaselineKind::previous_release, std::nullopt,
                "no value recorded for a previous release that was not rolled back"};
        }
        return std::nullopt;
    }

    void summarize_release() {
        if (release.empty()) {
            return;
        }
        ReleaseBaseline rb;
        rb.release = release;
        auto existing = std::find_if(book.releases.begin(), book.releases.end(),
                                     [&](const auto& r) { return r.release == release; });
        if (existing != book.releases.end()) {
            rb = *existing;
            book.releases.erase(existing);
        }
        for (auto& c : conds) {
            if (!c.release_values.empty()) {
                rb.values[c.spec.name] = median(c.release_values);
                rb.ticks[c.spec.name] = c.release_ticks;
            }
        }
        book.releases.push_back(std::move(rb));
    }

    void apply_deploy(SystemTime t, std::string name) {
        summarize_release();
        release = std::move(name);
        deployed_at = t;
        for (auto& c : conds) {
            c.release_values.clear();
            c.release_ticks = 0;
            c.stride = 1;
            c.stride_pos = 0;
            c.computed.reset();
            // Computed when the condition's window reaches the deploy: with a lateness allowance
            // the samples just before it are not final at the deploy's tick.
            c.baseline_due = c.spec.baseline == BaselineKind::before_deploy;
        }
    }

    static Millis before_window(const ConditionSpec& sp) {
        return sp.baseline_window.count() > 0 ? sp.baseline_window : sp.window;
    }

    void remember(CondState& c, double v) {
        ++c.release_ticks;
        if (++c.stride_pos < c.stride) {
            return;
        }
        c.stride_pos = 0;
        c.release_values.push_back(v);
        if (c.release_values.size() >= 4096) {
            // Keep a bounded, evenly thinned history: drop every other value, halve the rate.
            std::vector<double> thinned;
            for (size_t i = 0; i < c.release_values.size(); i += 2) {
                thinned.push_back(c.release_values[i]);
            }
            c.release_values = std::move(thinned);
            c.stride *= 2;
        }
    }

    // The policy a tick without a usable observation is judged by, and where it came from.
    // `silent`: the tick is silent while a breaching run is open (docs/decision.md, "Silence
    // after a breach").
    std::pair<Policy, bool> missing_policy(const CondState& c, const Observation& o,
                                           bool silent) const {
        const ConditionSpec& sp = c.spec;
        if (silent) {
            return {sp.on_silence, sp.on_silence_explicit};
        }
        switch (o.missing) {
        case Missing::no_traffic:
            return {sp.on_no_traffic, sp.on_no_traffic_explicit};
        case Missing::insufficient_sample:
            // An under-powered window never triggers automatically.
            return {sp.on_insufficient_sample == Policy::trigger ? Policy::escalate
                                                                 : sp.on_insufficient_sample,
                    sp.on_insufficient_sample_explicit};
        case Missing::error:
            return {sp.on_error, sp.on_error_explicit};
        case Missing::no_data:
        case Missing::none:
            break;
        }
        if (sp.on_no_data_explicit) {
            return {sp.on_no_data, true};
        }
        // The monitor blind (a source it cannot read) needs a person; a gap in a series does not.
        return {o.unreadable ? Policy::escalate : Policy::ignore, false};
    }

    static bool is_silence(Missing m) {
        return m == Missing::no_data || m == Missing::no_traffic ||
               m == Missing::insufficient_sample;
    }

    bool may_escalate(const CondState& c, SystemTime now) const {
        return !c.last_escalated || now - *c.last_escalated >= policy.cooldown;
    }

    ConditionRecord evaluate_condition(CondState& c, SystemTime now, bool& triggered_this_tick,
                                       const std::string& trigger_cause) {
        const ConditionSpec& sp = c.spec;
        // Access logs: the window that is final (docs/decision.md, "Event time and lateness").
        const SystemTime at = now - sp.lateness;
        if (c.baseline_due && deployed_at && at >= *deployed_at) {
            c.computed = compute_before(c, *deployed_at - before_window(sp), *deployed_at);
            c.baseline_due = false;
        }
        Observation o = observe(c, at);
        const bool observed_ok = o.value && o.missing == Missing::none;
        ConditionRecord r;
        r.name = sp.name;
        r.signal = c.signal_name;
        r.unit = c.unit;
        r.window = sp.window;
        r.window_start = at - sp.window;
        r.window_end = at;
        r.samples = o.samples;
        r.requests = o.requests;
        if (o.requests) {
            r.late = c.w_late;
        }
        r.observed = o.value;
        r.counting = sp.counting;
        r.severity = sp.severity;
        r.mode = c.mode;
        r.detail = o.detail;

        // Threshold, possibly relative to a baseline.
        bool breach = false;
        if (sp.above_baseline) {
            r.comparator = "above_baseline";
            r.baseline = baseline_of(c);
            std::optional<double> thr;
            if (r.baseline->value && *r.baseline->value > 0) {
                thr = *sp.above_baseline * *r.baseline->value;
                if (sp.above) {
                    thr = std::max(*thr, *sp.above);
                }
            } else if (sp.above) {
                thr = sp.above; // a zero baseline makes a ratio meaningless; the floor still holds
            } else if (o.missing == Missing::none) {
                o.missing = Missing::error;
                r.detail = r.baseline->value ? "baseline is 0: a ratio to it is meaningless"
                                             : "no baseline: " + r.baseline->origin;
            }
            r.threshold = thr;
            if (thr && o.value) {
                breach = *o.value > *thr;
            }
        } else if (sp.above) {
            r.comparator = "above";
            r.threshold = sp.above;
            breach = o.value && *o.value > *sp.above;
        } else if (sp.below) {
            r.comparator = "below";
            r.threshold = sp.below;
            breach = o.value && *o.value < *sp.below;
        }

        // Missing data: a policy decides what the tick counts as.
        Outcome outcome = breach ? Outcome::breach : Outcome::ok;
        r.missing = o.missing;
        const bool run_open = c.run_start.has_value();
        const bool silent = o.missing != Missing::none && run_open && is_silence(o.missing);
        if (o.missing != Missing::none) {
            auto [p, expl] = missing_policy(c, o, silent);
            r.policy = p;
            r.policy_origin = expl ? "config" : "default";
            outcome = p == Policy::trigger ? Outcome::breach : Outcome::missed;
        }
        const int run_breached = c.run_breached;
        const auto run_start = c.run_start;
        if (outcome == Outcome::breach && o.value) {
            c.last_breach_value = o.value;
            c.last_breach_at = now;
        }

        count(c, outcome, now, r);
        // The silence outlasted the run's tolerance: the run was reset by this tick.
        const bool silenced = silent && run_open && !c.run_start;

        // Incident state with recovery hysteresis. An incident begins only at a tick that
        // breaches with its counting satisfied — never at a missed or ok tick.
        const bool satisfied = outcome == Outcome::breach && counting_satisfied(c, now);
        if (!c.firing) {
            if (satisfied) {
                c.firing = true;
                c.incident_since = now;
                c.ok_since.reset();
                c.acted = false;
                c.suppressed_notified = false;
            }
        } else if (outcome == Outcome::ok) {
            if (!c.ok_since) {
                c.ok_since = now;
            }
            if (now - *c.ok_since >= sp.resolve_after) {
                c.firing = false;
                c.incident_since.reset();
                c.ok_since.reset();
            }
        } else if (outcome == Outcome::breach) {
            c.ok_since.reset();
        }
        r.incident_since = c.incident_since;

        if (o.missing != Missing::none && r.policy != Policy::trigger) {
            r.verdict = o.missing == Missing::no_data      ? Verdict::no_data
                        : o.missing == Missing::no_traffic ? Verdict::no_traffic
                        : o.missing == Missing::error      ? Verdict::error
                                                           : Verdict::insufficient_sample;
        } else if (c.firing) {
            r.verdict = Verdict::firing;
        } else if (outcome == Outcome::breach) {
            r.verdict = Verdict::pending;
        } else {
            r.verdict = Verdict::ok;
        }
        if (c.firing && c.ok_since && sp.resolve_after.count() > 0) {
            r.counting_state += "; recovering for " + describe_duration(now - *c.ok_since) +
                                " of " + util::format_duration(sp.resolve_after) +
                                " needed to resolve";
        }

        // The condition's action. A firing condition acts only at a tick that justifies it by
        // itself (the acting invariant): a breach with its counting satisfied.
        const bool changed = !c.last_verdict || *c.last_verdict != r.verdict;
        if (r.verdict == Verdict::firing && satisfied) {
            act_on_firing(c, now, r, triggered_this_tick, trigger_cause);
        } else if (silenced && r.policy == Policy::escalate && !(c.firing && c.acted) &&
                   may_escalate(c, now)) {
            r.action = Action::escalate;
            c.last_escalated = now;
            r.detail = "silent after breaching: " + std::to_string(run_breached) +
                       " evaluations breached since " + util::format_time(*run_start);
            if (c.last_breach_value) {
                r.detail += " (last " + format_number(*c.last_breach_value) + " at " +
                            util::format_time(c.last_breach_at) + ")";
            }
            r.detail += ", then more than " + std::to_string(sp.max_missed) +
                        " evaluations without usable data (" + o.detail +
                        "); on_silence = escalate";
        } else if (o.missing != Missing::none && !silent && r.policy == Policy::escalate &&
                   changed && may_escalate(c, now)) {
            // Paged when the state begins, at most once per cooldown for a flapping source.
            r.action = Action::escalate;
            c.last_escalated = now;
        }
        if (!c.run_start) {
            c.last_breach_value.reset();
        }
        c.last_verdict = r.verdict;

        if (observed_ok && !c.firing && (!deployed_at || at >= *deployed_at)) {
            remember(c, *o.value);
        }
        return r;
    }

    // Rules 1-5 of docs/decision.md, "Decisions", for an incident that has not acted yet.
    void act_on_firing(CondState& c, SystemTime now, ConditionRecord& r, bool& triggered_this_tick,
                       const std::string& trigger_cause) {
        if (c.acted) {
            return;
        }
        const bool in_cooldown = cooldown_until && now < *cooldown_until;
        const bool watching = watch_until && now < *watch_until;
        if (watching) {
            r.action = Action::notify;
            r.detail = "recurrence within watch_after of a rollback: reported, not triggered again";
            c.acted = true;
        } else if (c.spec.severity == Severity::warning) {
            r.action = Action::notify;
            c.acted = true;
        } else if (triggered_this_tick) {
            r.detail = "covered by the trigger of condition \"" + trigger_cause + "\"";
            c.acted = true;
        } else if (in_cooldown) {
            // Reported once per cooldown, however often the condition flaps.
            if (c.noted_cooldown != cooldown_until) {
                r.action = Action::notify;
                c.noted_cooldown = cooldown_until;
            }
            r.detail = "automatic trigger suppressed: cooldown until " +
                       util::format_time(*cooldown_until);
        } else {
            r.action = c.mode == Mode::confirm ? Action::request_approval : Action::trigger;
            c.acted = true;
            triggered_this_tick = true;
            cooldown_until = now + policy.cooldown;
        }
    }

    bool counting_satisfied(const CondState& c, SystemTime now) const {
        const ConditionSpec& sp = c.spec;
        switch (sp.counting) {
        case Counting::immediate:
            return c.consec >= 1;
        case Counting::for_duration:
            return c.run_start && now - *c.run_start >= sp.for_duration;
        case Counting::consecutive:
            return c.consec >= sp.consecutive;
        case Counting::m_of_n:
            return std::count(c.recent.begin(), c.recent.end(), true) >= sp.m;
        }
        return false;
    }

    void count(CondState& c, Outcome outcome, SystemTime now, ConditionRecord& r) const {
        const ConditionSpec& sp = c.spec;
        if (outcome == Outcome::missed) {
            ++c.missed_run;
            ++c.missed_in_run;
            if (c.missed_in_run > sp.max_missed) {
                c.reset_counting();
            }
        } else {
            c.missed_run = 0;
            if (outcome == Outcome::breach) {
                if (!c.run_start) {
                    c.run_start = now;
                    c.run_breached = 0;
                    c.run_ticks = 0;
                    c.missed_in_run = 0;
                }
                ++c.run_breached;
                ++c.consec;
            } else {
                c.run_start.reset();
                c.run_breached = 0;
                c.run_ticks = 0;
                c.consec = 0;
                c.missed_in_run = 0;
            }
            c.recent.push_back(outcome == Outcome::breach);
            while (static_cast<int>(c.recent.size()) > std::max(sp.n, 1)) {
                c.recent.pop_front();
            }
        }
        if (c.run_start) {
            ++c.run_ticks;
        }
        std::string& st = r.counting_state;
        auto append_missed = [&] {
            if (c.missed_in_run > 0) {
                st += " (";
                append_int(st, c.missed_in_run);
                st += " missed of ";
                append_int(st, sp.max_missed);
                st += " allowed)";
            }
        };
        switch (sp.counting) {
        case Counting::immediate:
            r.breached = outcome == Outcome::breach ? 1 : 0;
            r.of = 1;
            st = outcome == Outcome::breach ? "breached at this evaluation"
                 : outcome == Outcome::ok   ? "not breached"
                                            : "not observed";
            break;
        case Counting::for_duration:
            r.breached = c.run_breached;
            r.of = c.run_ticks;
            if (!c.run_start) {
                st = "not breaching";
                break;
            }
            st.reserve(128);
            st += "breaching for ";
            st += describe_duration(now - *c.run_start);
            st += " of ";
            st += c.for_text;
            st += " required, ";
            append_int(st, c.run_breached);
            st += " of ";
            append_int(st, c.run_ticks);
            st += " evaluations breached";
            append_missed();
            break;
        case Counting::consecutive:
            r.breached = c.consec;
            r.of = sp.consecutive;
            st.reserve(96);
            append_int(st, c.consec);
            st += " consecutive breaches of ";
            append_int(st, sp.consecutive);
            st += " required";
            append_missed();
            break;
        case Counting::m_of_n: {
            int hits = static_cast<int>(std::count(c.recent.begin(), c.recent.end(), true));
            r.breached = hits;
            r.of = static_cast<int>(c.recent.size());
            st.reserve(64);
            append_int(st, hits);
            st += " of the last ";
            append_int(st, static_cast<long long>(c.recent.size()));
            st += " breached (";
            append_int(st, sp.m);
            st += " of ";
            append_int(st, sp.n);
            st += " required)";
            break;
        }
        }
    }
};

// -------------------------------------------------------------------------------------------

const ReleaseBaseline* BaselineBook::previous_good(const std::string& current,
                                                   const std::string& condition) const {
    for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
        if (it->release != current && !it->rolled_back && it->values.count(condition)) {
            return &*it;
        }
    }
    return nullptr;
}

Evaluator::Evaluator(std::vector<ConditionSpec> conditions, DecisionPolicy policy,
                     BaselineBook book)
    : m(std::make_unique<Impl>()) {
    m->specs = std::move(conditions);
    m->policy = std::move(policy);
    m->book = std::move(book);
    for (const auto& sp : m->specs) {
        auto it = std::find_if(m->series.begin(), m->series.end(),
                               [&](const Series& s) { return s.name == sp.source; });
        if (it == m->series.end()) {
            m->series.push_back(Series{sp.source, {}, 0, false, {}, Millis(0)});
            it = m->series.end() - 1;
        }
        CondState c;
        c.spec = sp;
        c.series = static_cast<size_t>(it - m->series.begin());
        c.mode = sp.mode.value_or(m->policy.mode);
        c.track_hist = is_latency(sp.signal);
        c.signal_name = sp.source + "." + std::string(to_string(sp.signal));
        c.unit = std::string(unit_of(sp.signal));
        c.window_text = util::format_duration(sp.window);
        c.for_text = util::format_duration(sp.for_duration);
        if (sp.baseline == BaselineKind::before_deploy) {
            it->retention = std::max(it->retention, 2 * Impl::before_window(sp) + sp.lateness);
        }
        m->conds.push_back(std::move(c));
    }
}

Evaluator::~Evaluator() = default;
Evaluator::Evaluator(Evaluator&&) noexcept = default;
Evaluator& Evaluator::operator=(Evaluator&&) noexcept = default;

bool Evaluator::add_sample(const std::string& source, Sample sample) {
    for (auto& se : m->series) {
        if (se.name != source) {
            continue;
        }
        if (se.any && sample.time <= se.last) {
            return false; // duplicate or late
        }
        se.any = true;
        se.last = sample.time;
        se.samples.push_back(std::move(sample));
        return true;
    }
    return false;
}

void Evaluator::deployed(SystemTime time, std::string release) {
    auto& q = m->pending_deploys;
    auto it = std::upper_bound(q.begin(), q.end(), time,
                               [](SystemTime t, const auto& d) { return t < d.first; });
    q.emplace(it, time, std::move(release));
}

void Evaluator::rolled_back(SystemTime time) {
    m->summarize_release();
    for (auto& r : m->book.releases) {
        if (r.release == m->release) {
            r.rolled_back = true;
        }
    }
    m->watch_until = time + m->policy.watch_after;
}

void Evaluator::set_baseline(const std::string& condition, BaselineInfo baseline) {
    for (auto& c : m->conds) {
        if (c.spec.name == condition) {
            c.external = baseline;
        }
    }
}

Evaluation Evaluator::evaluate(SystemTime now) {
    Impl& s = *m;
    while (!s.pending_deploys.empty() && s.pending_deploys.front().first <= now) {
        auto [t, name] = std::move(s.pending_deploys.front());
        s.pending_deploys.pop_front();
        s.apply_deploy(t, std::move(name));
    }
    Evaluation ev;
    DecisionRecord& r = ev.record;
    r.time = now;
    r.target = s.policy.target;
    r.release = s.release;
    r.deployed_at = s.deployed_at;
    r.mode = s.policy.mode;

    bool triggered = false;
    std::string trigger_cause;
    bool changed = s.first_tick;
    r.conditions.reserve(s.conds.size());
    for (auto& c : s.conds) {
        s.advance(c, now - c.spec.lateness);
        auto prev = c.last_verdict;
        ConditionRecord cr = s.evaluate_condition(c, now, triggered, trigger_cause);
        if (triggered && trigger_cause.empty()) {
            trigger_cause = c.spec.name;
        }
        changed = changed || !prev || *prev != cr.verdict;
        if (cr.action > r.action) {
            r.action = cr.action;
            r.cause = cr.name;
            r.mode = cr.mode;
        }
        r.conditions.push_back(std::move(cr));
    }
    for (size_t i = 0; i < s.series.size(); ++i) {
        s.prune(s.series[i], now, i);
    }
    s.first_tick = false;

    r.executed = r.action != Action::none && r.mode != Mode::observe;
    r.cooldown_until =
        s.cooldown_until && now < *s.cooldown_until ? s.cooldown_until : std::nullopt;
    if (r.action == Action::none) {
        int pending = 0, missing = 0;
        for (const auto& c : r.conditions) {
            pending += c.verdict == Verdict::pending || c.verdict == Verdict::firing;
            missing += c.missing != Missing::none;
        }
        r.reason.reserve(80);
        r.reason += "no action: ";
        append_int(r.reason, static_cast<long long>(r.conditions.size()));
        r.reason += " conditions, ";
        append_int(r.reason, pending);
        r.reason += " breaching, ";
        append_int(r.reason, missing);
        r.reason += " without usable data";
    } else {
        const auto& c = *std::find_if(r.conditions.begin(), r.conditions.end(),
                                      [&](const auto& x) { return x.name == r.cause; });
        if (c.missing != Missing::none && c.verdict != Verdict::firing) {
            r.reason = "condition \"" + c.name + "\": " + std::string(to_string(c.missing)) + " (" +
                       c.detail + "); policy " + std::string(to_string(*c.policy));
        } else {
            r.reason =
                "condition \"" + c.name + "\" is firing: " + c.signal + " = " +
                (c.observed ? format_number(*c.observed) : std::string("none")) +
                (c.threshold ? ", " + c.comparator + " " + format_number(*c.threshold) : "") +
                "; " + c.counting_state;
            if (!c.detail.empty()) {
                r.reason += "; " + c.detail;
            }
        }
    }
    ev.notable = changed || r.action != Action::none;
    return ev;
}

BaselineBook Evaluator::baselines() const {
    BaselineBook b = m->book;
    if (!m->release.empty()) {
        ReleaseBaseline rb;
        rb.release = m->release;
        for (const auto& c : m->conds) {
            if (!c.release_values.empty()) {
                rb.values[c.spec.name] = median(c.release_values);
                rb.ticks[c.spec.name] = c.release_ticks;
            }
        }
        auto it = std::find_if(b.releases.begin(), b.releases.end(),
                               [&](const auto& x) { return x.release == rb.release; });
        if (it != b.releases.end()) {
            rb.rolled_back = it->rolled_back;
            b.releases.erase(it);
        }
        b.releases.push_back(std::move(rb));
    }
    return b;
}

const std::vector<ConditionSpec>& Evaluator::conditions() const {
    return m->specs;
}

} // namespace rollback::decision
