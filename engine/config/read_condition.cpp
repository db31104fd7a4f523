// SPDX-License-Identifier: MIT
// One [[condition]] of rollback.toml: signal, window, thresholds, counting, policies
// (docs/config.md).
#include "config/read_condition.hpp"

#include "decision/record.hpp"
#include "sources/collect.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace rollback::config {

namespace tree = playbook::tree;

namespace {

using decision::ConditionSpec;
using decision::Signal;
using playbook::TomlReader;

const std::vector<std::string> k_condition_keys = {
    "name",         "signal",          "window",
    "above",        "below",           "above_baseline",
    "baseline",     "baseline_window", "for",
    "max_missed",   "consecutive",     "m_of_n",
    "min_requests", "resolve_after",   "severity",
    "on_no_data",   "on_no_traffic",   "on_insufficient_sample",
    "on_error",     "on_silence",      "mode"};

// Which signals a source kind can produce.
bool produces(SourceKind k, Signal s) {
    switch (k) {
    case SourceKind::http:
        return s != Signal::value;
    case SourceKind::access_log:
        return s != Signal::value && s != Signal::downtime;
    case SourceKind::prometheus:
    case SourceKind::sql:
    case SourceKind::command:
        return s == Signal::value;
    }
    return false;
}

/// The values a signal can observe: [low, high]. Every signal but `value` is a count, a ratio or
/// a duration: never negative; an error rate is at most 1.
std::pair<double, double> range_of(Signal sig) {
    const double inf = std::numeric_limits<double>::infinity();
    switch (sig) {
    case Signal::value:
        return {-inf, inf};
    case Signal::error_rate:
        return {0.0, 1.0};
    default:
        return {0.0, inf};
    }
}

/// A threshold that no observation of the signal can breach, or that every observation breaches,
/// is a rule that never (or always) fires: a located error (docs/config.md). `floor`: the `above`
/// of an `above_baseline` rule, which can still make it never fire, but not always.
void check_range(TomlReader& rd, const tree::Table& t, std::string_view key,
                 std::string_view subject, Signal sig, double v, bool floor) {
    const auto [low, high] = range_of(sig);
    const bool above = key == "above";
    const char* what = nullptr;
    if (above ? v >= high : v <= low) {
        what = "never";
    } else if (!floor && (above ? v < low : v > high)) {
        what = "always";
    }
    if (what == nullptr) {
        return;
    }
    const std::string sname(decision::to_string(sig));
    const std::string range =
        "[" + decision::format_number(low) + ", " +
        (std::isinf(high) ? std::string("+inf)") : decision::format_number(high) + "]");
    std::string hint;
    if (sig == Signal::error_rate && above && v >= 1.0) {
        hint = v > 1.0 && v <= 100.0 ? "write " + decision::format_number(v / 100.0) + " for " +
                                           decision::format_number(v) + " %"
                                     : "an error rate of 100 % is 1: \"above\" must be below 1";
    } else if (above) {
        hint = "\"above\" must lie within " + range + " and below its top";
    } else {
        hint =
            std::string("\"below\" must be above ") + decision::format_number(low) +
            (std::isinf(high) ? std::string() : " and at most " + decision::format_number(high)) +
            (sig == Signal::request_count ? " (below = 1: no request in the window)" : "");
    }
    rd.error(rd.where(*t.get(key)), subject,
             "key \"" + std::string(key) + "\": " + sname + " lies in " + range + "; " +
                 decision::format_number(v) + " would " + what + " breach (a rule that " + what +
                 " fires)",
             hint);
}

// A threshold: a number, or a duration string for downtime (seconds) and latencies (ms).
std::optional<double> threshold(TomlReader& rd, const tree::Table& t, std::string_view key,
                                std::string_view subject, Signal sig) {
    const tree::Node* n = t.get(key);
    if (!n) {
        return std::nullopt;
    }
    if (decision::unit_of(sig) == "ms" && n->is_number()) {
        // 0.5 for a p95: half a millisecond or half a second? A latency carries its unit.
        rd.error(rd.where(*n), subject,
                 "key \"" + std::string(key) +
                     "\": a latency threshold is a duration with its unit, not a bare number",
                 "write e.g. \"500ms\" or \"1.5s\"");
        return std::nullopt;
    }
    if (auto i = n->value<int64_t>(); i && n->is_integer()) {
        return static_cast<double>(*i);
    }
    if (auto f = n->value<double>(); f && n->is_floating_point()) {
        if (!std::isfinite(*f)) {
            // nan never compares, inf never (or always) breaches: an outage missed or invented.
            rd.error(rd.where(*n), subject,
                     "key \"" + std::string(key) + "\": " + (std::isnan(*f) ? "nan" : "inf") +
                         " is not a threshold: it would never (or always) breach");
            return std::nullopt;
        }
        return *f;
    }
    if (auto s = n->value<std::string>()) {
        if (auto d = util::parse_duration(*s)) {
            if (sig == Signal::downtime) {
                return static_cast<double>(d->count()) / 1000.0;
            }
            if (decision::unit_of(sig) == "ms") {
                return static_cast<double>(d->count());
            }
        }
        rd.error(rd.where(*n), subject,
                 "key \"" + std::string(key) + "\": " + util::quoted(*s) +
                     (sig == Signal::downtime || decision::unit_of(sig) == "ms"
                          ? " is not a duration like \"15m\""
                          : " is not a number (durations are for downtime and latency signals)"));
        return std::nullopt;
    }
    rd.type_error(*n, key, subject, "a number");
    return std::nullopt;
}

void read_policy(TomlReader& rd, const tree::Table& t, std::string_view key,
                 std::string_view subject, decision::Policy& out, bool& explicit_flag,
                 bool allow_trigger) {
    auto s = rd.get_string(t, key, subject);
    if (!s) {
        return;
    }
    auto p = decision::parse_policy(*s);
    if (!p || (!allow_trigger && *p == decision::Policy::trigger)) {
        rd.error(rd.where(*t.get(key)), subject,
                 "key \"" + std::string(key) + "\": " + util::quoted(*s) + " is not one of " +
                     (allow_trigger ? "\"ignore\", \"escalate\", \"trigger\""
                                    : "\"ignore\", \"escalate\""),
                 allow_trigger ? "" : "an under-powered window never triggers automatically");
        return;
    }
    out = *p;
    explicit_flag = true;
}

} // namespace

void read_condition(TomlReader& rd, const tree::Table& t, size_t index, Config& cfg) {
    std::string subject = "condition #" + std::to_string(index + 1);
    auto name = rd.get_string(t, "name", subject);
    if (name) {
        subject = "condition " + util::quoted(*name);
    }
    rd.check_keys(t, subject, k_condition_keys);
    rd.require(t, "name", subject, rd.where(t));
    rd.require(t, "signal", subject, rd.where(t));
    ConditionSpec c;
    c.name = name.value_or("");
    if (std::any_of(c.name.begin(), c.name.end(),
                    [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; })) {
        // A name is shown on terminals, in file names of records and in hook payloads.
        rd.error(rd.key_where(t, "name"), subject, "a condition name has no control characters",
                 "name conditions like \"checkout-errors\"");
    }
    for (const auto& other : cfg.conditions) {
        if (!c.name.empty() && other.name == c.name) {
            rd.error(rd.key_where(t, "name"), subject, "duplicate condition name");
        }
    }
    for (const auto& other : cfg.alert_conditions) {
        if (!c.name.empty() && other.spec.name == c.name) {
            rd.error(rd.key_where(t, "name"), subject, "duplicate condition name");
        }
    }
    bool signal_ok = false;
    if (auto sig = rd.get_string(t, "signal", subject)) {
        auto dot = sig->rfind('.');
        auto parsed =
            dot == std::string::npos ? std::nullopt : decision::parse_signal(sig->substr(dot + 1));
        if (!parsed) {
            rd.error(rd.where(*t.get("signal")), subject,
                     "signal " + util::quoted(*sig) + " is not SOURCE.SIGNAL",
                     "signals: error_rate, request_count, latency_p50, latency_p95, latency_p99, "
                     "downtime, value");
        } else {
            c.source = sig->substr(0, dot);
            c.signal = *parsed;
            auto src = cfg.sources.find(c.source);
            if (src == cfg.sources.end()) {
                std::vector<std::string> names;
                for (const auto& [n, s] : cfg.sources) {
                    names.push_back(n);
                }
                std::string guess = util::closest_match(c.source, names);
                rd.error(rd.where(*t.get("signal")), subject,
                         "unknown source " + util::quoted(c.source) +
                             (guess.empty() ? "" : " (did you mean " + util::quoted(guess) + "?)"));
            } else if (!produces(src->second.kind, c.signal)) {
                rd.error(rd.where(*t.get("signal")), subject,
                         "a " + std::string(to_string(src->second.kind)) +
                             " source has no signal " +
                             util::quoted(decision::to_string(c.signal)));
            } else if (src->second.kind == SourceKind::access_log &&
                       decision::unit_of(c.signal) == "ms" && !src->second.has_latency) {
                // Every evaluation would find no latency at all: refused now rather than
                // escalating at every tick.
                rd.error(rd.where(*t.get("signal")), subject,
                         "signal " + util::quoted(*sig) + ": the format of source " +
                             util::quoted(c.source) + " (" + util::quoted(src->second.format) +
                             ") has no request-time field",
                         "log $request_time (seconds, or $upstream_response_time) and name "
                         "it in \"format\"; format = \"combined_request_time\" is combined + "
                         "$request_time; Apache's %D is microseconds: format = "
                         "\"combined_request_time_us\" is combined + %D");
            } else {
                signal_ok = true;
            }
        }
    }
    if (auto w = rd.get_duration(t, "window", subject)) {
        c.window = *w;
        if (c.window.count() <= 0) {
            // (now, now] holds no sample: every evaluation would be no_data.
            rd.error(rd.where(*t.get("window")), subject,
                     "key \"window\": an empty window holds no sample: the rule never fires",
                     "a window of at least the source's interval, e.g. window = \"5m\"");
        }
    }
    c.above = threshold(rd, t, "above", subject, c.signal);
    c.below = threshold(rd, t, "below", subject, c.signal);
    if (signal_ok && c.above) {
        check_range(rd, t, "above", subject, c.signal, *c.above, t.contains("above_baseline"));
    }
    if (signal_ok && c.below) {
        check_range(rd, t, "below", subject, c.signal, *c.below, false);
    }
    if (const tree::Node* n = t.get("above_baseline")) {
        if (auto v = n->value<double>(); v && (n->is_number()) && *v > 0 && std::isfinite(*v)) {
            c.above_baseline = *v;
        } else {
            rd.error(rd.where(*n), subject,
                     "key \"above_baseline\": expected a finite ratio > 0 (1.5 = 50% worse)");
        }
    }
    if (const tree::Node* n = t.get("baseline")) {
        if (auto s = n->value<std::string>()) {
            if (*s == "previous_release") {
                c.baseline = decision::BaselineKind::previous_release;
            } else if (*s == "before_deploy") {
                c.baseline = decision::BaselineKind::before_deploy;
            } else {
                rd.error(rd.where(*n), subject,
                         "key \"baseline\": " + util::quoted(*s) +
                             " is not \"previous_release\", \"before_deploy\" or a number");
            }
        } else if (auto v = n->value<double>(); v && n->is_number()) {
            c.baseline = decision::BaselineKind::fixed;
            c.baseline_value = *v;
            if (!(*v > 0)) {
                // observed > ratio × baseline: over a baseline at or below 0 the ratio turns
                // the rule around (1.5 × -10 = -15 is "better" than -10).
                rd.error(rd.where(*n), subject,
                         "key \"baseline\": " + decision::format_number(*v) +
                             " — a ratio to a baseline at or below 0 is meaningless",
                         "compare with a threshold instead: above = ... or below = ...");
            } else if (!std::isfinite(*v)) {
                rd.error(rd.where(*n), subject,
                         "key \"baseline\": " + decision::format_number(*v) +
                             " — no observation is above a multiple of it: the rule never fires");
            } else if (signal_ok && c.signal == Signal::error_rate && c.above_baseline &&
                       *c.above_baseline * *v >= 1) {
                // An error rate lies in [0, 1] (break-it round 40, finding 08).
                rd.error(rd.where(*n), subject,
                         "above_baseline × baseline = " +
                             decision::format_number(*c.above_baseline * *v) +
                             ": an error rate is at most 1, the rule never fires",
                         "an error rate's baseline and ratio multiply to less than 1");
            }
        } else {
            rd.type_error(*n, "baseline", subject,
                          "\"previous_release\", \"before_deploy\" or a number");
        }
    }
    if (auto w = rd.get_duration(t, "baseline_window", subject)) {
        c.baseline_window = *w;
    }
    const int thresholds =
        (c.above_baseline ? 1 : 0) + (c.above && !c.above_baseline ? 1 : 0) + (c.below ? 1 : 0);
    if (thresholds == 0 && !t.contains("above") && !t.contains("below") &&
        !t.contains("above_baseline")) {
        rd.error(rd.where(t), subject,
                 "no threshold: set one of \"above\", \"below\", \"above_baseline\"");
    } else if (thresholds > 1) {
        rd.error(rd.where(t), subject,
                 "\"below\" cannot be combined with \"above\" or \"above_baseline\" (with "
                 "\"above_baseline\", \"above\" is an absolute floor)");
    }
    if (c.above_baseline && !c.above && c.baseline != decision::BaselineKind::fixed) {
        cfg.warnings.push_back(
            {rd.key_where(t, "above_baseline"), std::string(subject),
             "\"above_baseline\" without an \"above\" floor: nothing is judged while there is "
             "no baseline (the first release, no deploy marker) or when it is 0",
             "add an absolute floor, e.g. above = " +
                 std::string(c.signal == Signal::error_rate        ? "0.05"
                             : decision::unit_of(c.signal) == "ms" ? "\"800ms\""
                                                                   : "<a value>") +
                 " (docs/decision.md, \"Baselines\")"});
    }
    if (c.above_baseline && c.baseline == decision::BaselineKind::none) {
        rd.error(rd.key_where(t, "above_baseline"), subject,
                 "\"above_baseline\" needs \"baseline\"");
    }
    if (!c.above_baseline && t.contains("baseline")) {
        rd.error(rd.key_where(t, "baseline"), subject,
                 "\"baseline\" is only used with \"above_baseline\"");
    }
    int modes = 0;
    if (auto f = rd.get_duration(t, "for", subject)) {
        c.counting = decision::Counting::for_duration;
        c.for_duration = *f;
        ++modes;
    }
    if (auto n = rd.get_int(t, "consecutive", subject, 1, 10000)) {
        c.counting = decision::Counting::consecutive;
        c.consecutive = static_cast<int>(*n);
        ++modes;
    }
    if (const tree::Node* n = t.get("m_of_n")) {
        const tree::Array* a = n->as_array();
        auto m = a && a->size() == 2 ? (*a)[0].value<int64_t>() : std::nullopt;
        auto nn = a && a->size() == 2 ? (*a)[1].value<int64_t>() : std::nullopt;
        if (!m || !nn || *m < 1 || *nn < *m || *nn > 10000) {
            rd.error(rd.where(*n), subject,
                     "key \"m_of_n\": expected [M, N] with 1 <= M <= N, e.g. [4, 5]");
        } else {
            c.counting = decision::Counting::m_of_n;
            c.m = static_cast<int>(*m);
            c.n = static_cast<int>(*nn);
        }
        ++modes;
    }
    if (modes > 1) {
        rd.error(rd.where(t), subject,
                 "choose one counting mode: \"for\", \"consecutive\" or \"m_of_n\"");
    }
    if (auto n = rd.get_int(t, "max_missed", subject, 0, 1000)) {
        c.max_missed = static_cast<int>(*n);
    } else if (signal_ok && cfg.sources.at(c.source).kind != SourceKind::access_log) {
        // A polled source (a query, a probe, a command) misses an isolated read now and then
        // (a 503 of a proxy): one missed tick between breaches keeps the run (docs/decision.md,
        // "Counting"). An access log's missed tick is an empty window: 0 as before.
        c.max_missed = 1;
    }
    if (auto n = rd.get_int(t, "min_requests", subject, 0, INT64_MAX)) {
        if (signal_ok && !decision::is_request_signal(c.signal)) {
            rd.error(rd.key_where(t, "min_requests"), subject,
                     "\"min_requests\" applies to error_rate and latency signals only");
        }
        c.min_requests = static_cast<uint64_t>(*n);
    }
    if (signal_ok && decision::is_request_signal(c.signal) && c.signal != Signal::request_count &&
        !t.contains("min_requests") && cfg.sources.at(c.source).kind == SourceKind::access_log) {
        // One 5xx on a quiet site is an error rate of 1; the p95 of a release's first three
        // requests (a cold cache) is its slowest (docs/decision.md, "Counting").
        const bool rate = c.signal == Signal::error_rate;
        cfg.warnings.push_back(
            {rd.key_where(t, "signal"), std::string(subject),
             rate ? "an error rate without \"min_requests\": a window with one request, a 500, "
                    "is an error rate of 1"
                  : "a latency percentile without \"min_requests\": the " +
                        std::string(decision::to_string(c.signal)).substr(8) +
                        " of a window with a few requests (a new release's first ones, a cold "
                        "cache) is about the slowest of them",
             std::string("set the fewest requests a ") + (rate ? "rate" : "percentile") +
                 " may be judged on, e.g. min_requests = 100 (fewer: insufficient_sample)"});
    }
    if (auto d = rd.get_duration(t, "resolve_after", subject)) {
        c.resolve_after = *d;
    }
    if (auto s = rd.get_string(t, "severity", subject)) {
        if (auto v = decision::parse_severity(*s)) {
            c.severity = *v;
        } else {
            rd.error(rd.where(*t.get("severity")), subject,
                     "key \"severity\": " + util::quoted(*s) +
                         " is not one of \"warning\", \"high\", \"critical\"");
        }
    }
    read_policy(rd, t, "on_no_data", subject, c.on_no_data, c.on_no_data_explicit, true);
    read_policy(rd, t, "on_no_traffic", subject, c.on_no_traffic, c.on_no_traffic_explicit, true);
    read_policy(rd, t, "on_insufficient_sample", subject, c.on_insufficient_sample,
                c.on_insufficient_sample_explicit, false);
    read_policy(rd, t, "on_error", subject, c.on_error, c.on_error_explicit, true);
    read_policy(rd, t, "on_silence", subject, c.on_silence, c.on_silence_explicit, true);
    if (auto s = rd.get_string(t, "mode", subject)) {
        if (auto m = decision::parse_mode(*s)) {
            c.mode = *m;
        } else {
            rd.error(rd.where(*t.get("mode")), subject,
                     "key \"mode\": " + util::quoted(*s) +
                         " is not one of \"auto\", \"confirm\", \"observe\"");
        }
    }
    cfg.conditions.push_back(std::move(c));
}

void check_read_back(playbook::TomlReader& rd, const Config& cfg,
                     const std::vector<util::Location>& where) {
    for (size_t i = 0; i < cfg.conditions.size() && i < where.size(); ++i) {
        const auto& c = cfg.conditions[i];
        auto src = cfg.sources.find(c.source);
        if (src == cfg.sources.end() || src->second.kind != SourceKind::access_log) {
            continue; // polled sources keep one sample a tick: nothing is built at the start
        }
        const Millis interval = std::max<Millis>(src->second.interval, std::chrono::seconds(1));
        const Millis step = std::max(interval, cfg.interval);
        const Millis counting = decision::counting_span(c, step);
        const Millis window = std::max(c.window, c.baseline_window);
        // As Monitor::read_access_log's first read: the window, max_lateness, an interval, and
        // the warm-up (the counting span and the tolerated missed ticks).
        const Millis span = window + src->second.max_lateness + step + counting +
                            step * (std::max(c.max_missed, 0) + 2);
        const auto intervals = static_cast<uint64_t>(span.count() / interval.count());
        if (intervals <= sources::k_max_replay_samples) {
            continue;
        }
        const auto per = std::chrono::duration_cast<Millis>(span / sources::k_max_replay_samples);
        rd.error(where[i], "condition " + util::quoted(c.name),
                 "window " + util::format_duration(window) +
                     (counting.count() > 0 ? " and counting span " + util::format_duration(counting)
                                           : std::string()) +
                     ": the monitor would read back " + std::to_string(intervals) +
                     " intervals of " + util::format_duration(interval) + " of source " +
                     util::quoted(c.source) + " at each start, more than " +
                     std::to_string(sources::k_max_replay_samples) +
                     " (the most a replay takes; docs/decision.md \"What bounds the work\")",
                 "a shorter window or counting span (40m typed 400d?), or a source interval of "
                 "at least " +
                     util::format_duration(std::chrono::duration_cast<std::chrono::seconds>(per) +
                                           std::chrono::seconds(1)));
    }
}

} // namespace rollback::config
