// SPDX-License-Identifier: MIT
#pragma once

// The vocabulary of the decision model (DESIGN.md glossary). Every enum value written to a
// decision record has a fixed spelling given by to_string; never rename one.

#include "util/duration.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace rollback::decision {

using util::Millis;

enum class Signal {
    error_rate,
    request_count,
    latency_p50,
    latency_p95,
    latency_p99,
    downtime,
    value
};
enum class BaselineKind { none, fixed, before_deploy, previous_release };
enum class Counting { immediate, for_duration, consecutive, m_of_n };
/// What a tick without a usable observation does: counts as missed, pages a person, or counts
/// as a breach. (There is no default that passes silently.)
enum class Policy { ignore, escalate, trigger };
enum class Severity { warning, high, critical };
enum class Mode { auto_, confirm, observe };

enum class Verdict { ok, pending, firing, no_traffic, no_data, insufficient_sample, error };
/// Why a tick had no usable observation; `none` when it had one.
enum class Missing { none, no_data, no_traffic, insufficient_sample, error };
/// Ordered by weight: the decision of a tick is the heaviest action of its conditions.
enum class Action { none, notify, escalate, request_approval, trigger };

std::string_view to_string(Signal s);
std::string_view to_string(BaselineKind b);
std::string_view to_string(Counting c);
std::string_view to_string(Policy p);
std::string_view to_string(Severity s);
std::string_view to_string(Mode m);
std::string_view to_string(Verdict v);
std::string_view to_string(Missing m);
std::string_view to_string(Action a);

std::optional<Signal> parse_signal(std::string_view s);
std::optional<Policy> parse_policy(std::string_view s);
std::optional<Severity> parse_severity(std::string_view s);
std::optional<Mode> parse_mode(std::string_view s);

/// True for signals computed from request or probe counts (min_requests and no_traffic apply).
bool is_request_signal(Signal s);
/// The unit a signal's numbers are in: "ratio", "requests", "ms", "s", "".
std::string_view unit_of(Signal s);

/// One [[condition]] of rollback.toml, resolved. Thresholds are in the signal's unit (downtime in
/// seconds, latencies in ms).
struct ConditionSpec {
    std::string name;
    std::string source; ///< the part of `signal` before the dot
    Signal signal = Signal::value;
    Millis window{std::chrono::minutes(5)};

    std::optional<double> above;          ///< breach when observed > above
    std::optional<double> below;          ///< breach when observed < below
    std::optional<double> above_baseline; ///< breach when observed > ratio × baseline
    BaselineKind baseline = BaselineKind::none;
    double baseline_value = 0; ///< BaselineKind::fixed
    Millis baseline_window{0}; ///< before_deploy: the window before the marker (0 = `window`)

    Counting counting = Counting::immediate;
    Millis for_duration{0};
    int consecutive = 1;
    int m = 1, n = 1;
    /// Missed ticks in a row (since the last observed tick) tolerated inside a run; the config's
    /// default: 1 over a polled source, 0 over an access log (docs/decision.md, "Counting").
    int max_missed = 0;

    uint64_t min_requests = 0; ///< below (and above zero): insufficient_sample
    Millis resolve_after{0};   ///< continuous ok time before a firing condition resolves
    Severity severity = Severity::high;
    /// Missing-data policies (docs/decision.md, "Missing data"). `on_no_data` applies as given
    /// when explicit; by default an unreadable source escalates and an empty window is ignored.
    Policy on_no_data = Policy::escalate;
    Policy on_no_traffic = Policy::ignore;
    Policy on_insufficient_sample = Policy::ignore; ///< trigger is not allowed
    Policy on_error = Policy::escalate;
    /// A silent tick (no_data, no_traffic, insufficient_sample) while a breaching run is open.
    Policy on_silence = Policy::escalate;
    bool on_no_data_explicit = false, on_no_traffic_explicit = false;
    bool on_insufficient_sample_explicit = false, on_error_explicit = false;
    bool on_silence_explicit = false;
    /// The source's `max_lateness` (access logs; 0 for observations made at the tick): at a tick
    /// T the window is (T - lateness - window, T - lateness], the part of the log that is final.
    Millis lateness{0};
    /// Access logs: the source's interval — a `requests` sample dated T counts the lines of
    /// [T − bucket, T). After a deploy marker that changes the release, a bucket that began
    /// before the deploy is the previous release's (docs/decision.md "A new release is judged
    /// on its own samples"). 0 for the other sources.
    Millis bucket{0};
    std::optional<Mode> mode; ///< per-condition mode (e.g. observe while others act)
};

/// [decision] of rollback.toml.
struct DecisionPolicy {
    std::string target;
    Mode mode = Mode::auto_;
    Millis cooldown{std::chrono::hours(1)};
    Millis watch_after{std::chrono::minutes(30)};
};

/// How long the counting rule of `c` spans when each tick is `step` apart: `for`'s duration,
/// `consecutive` or `n` ticks, nothing for `immediate`. (How far a monitor reads back, and a
/// replay's silence tail, are bounded by it.)
Millis counting_span(const ConditionSpec& c, Millis step);

} // namespace rollback::decision
