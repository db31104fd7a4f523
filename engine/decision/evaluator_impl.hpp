// SPDX-License-Identifier: MIT
#pragma once

// The Evaluator's state and its jobs, one file each: the window sums and observations
// (window.cpp), baselines (baselines.cpp), counting (counting.cpp), incidents, policies and
// actions (incident.cpp); evaluator.cpp holds the public API and the tick. Internal to
// decision/: included by nothing outside it.

#include "decision/evaluator.hpp"
#include "util/duration.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rollback::decision {

namespace detail {

using std::chrono::duration_cast;

/// What a tick counts as. `hold`: no sample entered the window since the last tick that counted
/// (a source read or bucketed less often than the decision interval, or one that stopped): the
/// same evidence is not counted twice (docs/decision.md, "Counting").
enum class Outcome { ok, breach, missed, hold };

struct Series {
    std::string name;
    std::deque<Sample> samples;
    uint64_t base_seq = 0; ///< sequence number of samples.front()
    bool any = false;
    SystemTime last;
    Millis retention{0}; ///< how far back before_deploy baselines need samples
    /// The time of the source's first request or probe sample: what the source observed whole
    /// starts there (an access-log sample's bucket before it may be part-observed). A window
    /// that starts earlier is partial.
    std::optional<SystemTime> first_observed;

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
    /// The sequence number of the newest sample the observation rests on; nullopt when the
    /// window has none (an empty window is a fact of the tick itself, never held).
    std::optional<uint64_t> evidence_seq;
    /// The window is empty because a new release's deploy lies in it and no sample of that
    /// release is in yet (docs/decision.md "A new release is judged on its own samples").
    bool before_release = false;
    /// A count over a window the source did not observe whole (cut by a deploy, the source's
    /// first observation or the input's end): insufficient_sample, never silence.
    bool partial = false;
};

inline bool valid_kind(SampleKind k) {
    return k != SampleKind::unavailable && k != SampleKind::error && k != SampleKind::no_traffic;
}

inline double median(std::vector<double> v) {
    auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    if (v.size() % 2 == 1) {
        return *mid;
    }
    double hi = *mid;
    double lo = *std::max_element(v.begin(), mid);
    return (lo + hi) / 2;
}

inline double percentile_of(Signal s) {
    return s == Signal::latency_p50 ? 0.50 : s == Signal::latency_p95 ? 0.95 : 0.99;
}

/// The edge of a percentile's bucket range a rule compares: the side on which the rule does not
/// breach (the lower edge for `above`, the upper for `below`), so a value under a threshold is
/// never judged over it (docs/decision.md, "Latency percentiles").
inline double safe_edge(std::pair<double, double> range, bool breaches_below) {
    return breaches_below ? range.second : range.first;
}

inline bool is_latency(Signal s) {
    return s == Signal::latency_p50 || s == Signal::latency_p95 || s == Signal::latency_p99;
}

inline std::string describe_duration(std::chrono::system_clock::duration d) {
    return util::format_duration(duration_cast<Millis>(d));
}

// The record's texts are rebuilt at every tick, a replay runs millions of ticks: appending to one
// string costs one allocation where a chain of operator+ costs one per piece.
inline void append_int(std::string& s, long long v) {
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

    // downtime: the current run of failed probes, its first and its last probe
    std::optional<SystemTime> fail_since, fail_last;

    // counting
    std::optional<SystemTime> run_start; ///< for: first breach of the run
    int run_breached = 0, run_ticks = 0;
    int consec = 0;
    std::deque<bool> recent;            ///< m_of_n: last n non-missed ticks
    int missed_in_run = 0;              ///< since the last ok or breaching tick (docs/decision.md)
    std::optional<uint64_t> judged_seq; ///< the newest sample a counted tick rested on
    /// The newest consumed sample that carries a request or probe (count > 0): the evidence of
    /// a ratio or percentile over lines; a quiet bucket adds none (docs/decision.md, "Counting").
    std::optional<uint64_t> line_seq;
    std::optional<Verdict> counted_verdict; ///< of the last counted (not held) tick
    bool counted_unreadable = false;        ///< that tick's no_data was an unreadable source
    bool counted_lost = false; ///< that tick's no_data was a before_deploy baseline lost
    std::optional<double> last_breach_value;      ///< of the open run, for "silent after breaching"
    std::optional<uint64_t> last_breach_requests; ///< access logs: requests of that window
    /// Access logs: the newest line (line_seq) of that window. An `insufficient_sample` tick is
    /// silence only when no line came since (docs/decision.md "Silence after a breach").
    std::optional<uint64_t> last_breach_line;
    SystemTime last_breach_at;

    // incident
    bool firing = false;
    std::optional<SystemTime> incident_since, ok_since;
    /// The open incident's last breaching tick: missed ticks alone for longer than
    /// incident_gap() after it end the incident (docs/decision.md, "Decisions").
    std::optional<SystemTime> breached_at;
    bool acted = false;
    bool acted_shadow = false; ///< acted as a shadow (mode observe): nothing was executed
    std::optional<SystemTime> noted_cooldown, last_escalated;
    /// Its last "silent after breaching" page: a cooldown of its own, so that a page for
    /// missing data (a source that could not be read) never uses up the page for an outage
    /// gone silent (docs/decision.md "Silence after a breach").
    std::optional<SystemTime> silence_escalated;
    std::optional<Verdict> last_verdict;
    uint64_t shown_late = 0; ///< the late lines of the previous tick's window (its record)
    // mode confirm: the incident's approval request (Evaluator::ConditionMemory)
    std::string approval_id;
    std::optional<SystemTime> approval_expires;
    bool approval_expired = false, approval_escalated = false;
    /// An escalation a warm-up tick would have made (Evaluator::warm_up): made at the next live
    /// tick.
    std::optional<std::string> owed_escalation;
    bool owed_silence = false; ///< that escalation is a "silent after breaching" page
    /// The end of the last window a live tick of this evaluator judged, and of the previous
    /// monitor's (the resumed memory's judged_until): a tick whose window ends at or before
    /// `held_until` rests on evidence already judged — it counts, as a warm-up does, but judges
    /// no incident and acts on nothing (docs/decision.md "Counting", Restarts).
    std::optional<SystemTime> judged_until, held_until;
    /// The sample a warm-up tick (after the resumed memory) rested on when it justified this
    /// unacted incident: the first live tick holding on that sample acts on it (a one-shot
    /// `check` or `monitor --once` would otherwise never act; docs/decision.md "Warm-up").
    std::optional<uint64_t> warm_justified_seq;

    void clear_approval() {
        approval_id.clear();
        approval_expires.reset();
        approval_expired = approval_escalated = false;
    }

    // baselines
    std::optional<BaselineInfo> external, computed;
    bool baseline_due = false; ///< before_deploy: computed once the window end passes the deploy
    /// before_deploy: the monitor before this one had this deploy, and its baseline is gone
    /// (neither kept in the book nor computable from the log re-read).
    bool baseline_lost = false;
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
} // namespace detail

using namespace detail;

struct Evaluator::Impl {
    std::vector<ConditionSpec> specs;
    DecisionPolicy policy;
    BaselineBook book;
    std::vector<Series> series;
    std::vector<CondState> conds;
    std::string release;
    std::optional<SystemTime> deployed_at;
    /// The deploy of the running release, when a marker changed the release: every
    /// condition's window counts only the samples after it, and its counting started afresh
    /// there (docs/decision.md "A new release is judged on its own samples").
    std::optional<SystemTime> release_since;
    struct PendingDeploy {
        SystemTime apply_at; ///< the first tick at or after it applies the marker
        SystemTime time;     ///< the deploy's own time (deployed_at, before_deploy baselines)
        std::string release;
    };
    std::deque<PendingDeploy> pending_deploys; ///< apply_at order
    /// A replay's input ends here (Evaluator::input_ends): what follows was not observed.
    std::optional<SystemTime> input_end;
    std::optional<SystemTime> cooldown_until, watch_until;
    /// The cooldown of the conditions in mode observe (shadows): started by a shadow's trigger,
    /// seen by shadows only — a shadow never changes what the executed conditions do.
    std::optional<SystemTime> shadow_cooldown_until;
    std::optional<SystemTime> watch_since; ///< the rollback the recurrence watch follows
    bool first_tick = true;
    uint64_t baseline_changes = 0; ///< Evaluator::baseline_changes
    /// Evaluator::warm_up: the tick in progress is a warm-up one, over these sources.
    const std::vector<std::string>* warming = nullptr;
    /// The resumed memory's evaluated_until (what the previous monitor judged up to), and the
    /// last live tick of this one.
    std::optional<SystemTime> resumed_until, evaluated_until;

    // window.cpp
    void consume(CondState& c, const Sample& s);
    void expire(CondState& c, const Sample& s);
    void advance(CondState& c, SystemTime now);
    void prune(Series& se, SystemTime now, size_t index);
    /// True when `s` is (partly) of the release before the running one: dated at or before its
    /// deploy, or an access-log bucket that began before it.
    bool before_release(const CondState& c, const Sample& s) const {
        if (!release_since) {
            return false;
        }
        const Millis span = s.kind == SampleKind::requests ? c.spec.bucket : Millis(0);
        return s.time <= *release_since || s.time - span < *release_since;
    }
    /// Where the window of a tick whose window ends at `at` starts: `at - window`, or, while
    /// the running release's deploy lies in it, the start of the release's first sample
    /// interval (an access log's first bucket that began at or after the deploy).
    SystemTime window_start(const CondState& c, SystemTime at) const;
    /// Why the window ending at `at` is not whole for a `request_count below` rule (a count
    /// over part of a window is lower than over all of it), or nullopt when it is.
    std::optional<std::string> partial_window(const CondState& c, SystemTime at) const;
    // The signal over the current window.
    Observation observe(const CondState& c, SystemTime now) const;

    // baselines.cpp
    // The signal over [from, to) of the retained samples (before_deploy baselines).
    std::optional<BaselineInfo> compute_before(const CondState& c, SystemTime from,
                                               SystemTime to) const;
    std::optional<BaselineInfo> baseline_of(const CondState& c) const;
    // The before_deploy baseline of the running release's deploy, at the first tick whose
    // window reaches it: the one kept in the book for that deploy, else computed.
    void settle_before_deploy(CondState& c);
    // `rb` (the running release's entry) with its summary and before_deploy baselines.
    void fill_release(ReleaseBaseline& rb) const;
    void summarize_release();
    void apply_deploy(SystemTime t, std::string name);
    void remember(CondState& c, double v);

    // counting.cpp
    bool counting_satisfied(const CondState& c, SystemTime now) const;
    void count(CondState& c, Outcome outcome, SystemTime now, ConditionRecord& r) const;

    // incident.cpp
    // The policy a tick without a usable observation is judged by, and where it came from.
    // `silent`: the tick is silent while a breaching run is open (docs/decision.md, "Silence
    // after a breach").
    std::pair<Policy, bool> missing_policy(const CondState& c, const Observation& o,
                                           bool silent) const;
    /// At most one escalation per cooldown of each kind: missing data (and an expired
    /// approval), or `silence` ("silent after breaching").
    bool may_escalate(const CondState& c, SystemTime now, bool silence = false) const;
    /// The failed share of the lines in the window that came after the last breaching tick's
    /// newest line (nullopt: none came, or the breach rested on no line).
    std::optional<double> failing_since_breach(const CondState& c) const;
    /// What the conditions did at the tick being evaluated (rule 3, "another condition
    /// triggered at this tick"): an executed trigger covers every condition; a shadow's trigger
    /// covers the shadows; an approval request covers the other conditions in mode confirm.
    struct TickActs {
        bool triggered = false, shadow_triggered = false, requested = false;
        std::string cause, shadow_cause, request_cause;
    };
    ConditionRecord evaluate_condition(CondState& c, SystemTime now, TickActs& acts);
    // A deploy marker of a release new since the rollback (not the rolled-back release, not
    // one known before it), dated after the rollback, ends the recurrence watch: a failure of
    // that release is a new incident (docs/decision.md, "Decisions").
    void end_watch_for(SystemTime t, const std::string& name);
    // Rules 1-5 of docs/decision.md, "Decisions", for an incident that has not acted yet.
    void act_on_firing(CondState& c, SystemTime now, ConditionRecord& r, TickActs& acts);
    void act_on_unacted(CondState& c, SystemTime now, ConditionRecord& r, TickActs& acts);
    /// A deploy marker of release `name` at `t`: a release new (neither the current release nor
    /// one deployed before) ends every incident that acted and began before `t` — its failure
    /// is a new incident, acted on by the mode (docs/decision.md, "Decisions", rule 1).
    void end_incidents_for(SystemTime t, const std::string& name);
    /// How long missed ticks alone (no breach, no ok) keep an incident open after its last
    /// breaching tick: the longer of resolve_after and the cooldown.
    Millis incident_gap(const CondState& c) const {
        return std::max(c.spec.resolve_after, policy.cooldown);
    }

    static Millis before_window(const ConditionSpec& sp) {
        return sp.baseline_window.count() > 0 ? sp.baseline_window : sp.window;
    }
    static bool is_silence(Missing m) {
        return m == Missing::no_data || m == Missing::no_traffic ||
               m == Missing::insufficient_sample;
    }
    /// Silence is evidence only when the traffic seen before it makes it unlikely: the requests
    /// of the last breaching window, at their rate, would have brought at least
    /// k_silence_expected requests since that breach (docs/decision.md, "Silence after a
    /// breach"). Sources without request counts (values, probes): always.
    static constexpr double k_silence_expected = 3.0; ///< Poisson P(0) = e^-3 < 5%
    static bool silence_unlikely(const CondState& c, SystemTime now) {
        if (!c.last_breach_requests) {
            return true;
        }
        const double span = duration_cast<Millis>(now - c.last_breach_at).count();
        const double window = duration_cast<Millis>(c.spec.window).count();
        return window > 0 &&
               static_cast<double>(*c.last_breach_requests) * span >= k_silence_expected * window;
    }
};

} // namespace rollback::decision
