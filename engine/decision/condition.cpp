// SPDX-License-Identifier: MIT
#include "decision/condition.hpp"

#include <array>

namespace rollback::decision {

namespace {

template <typename E, size_t N>
std::optional<E> parse_enum(std::string_view s, const std::array<std::string_view, N>& names) {
    for (size_t i = 0; i < N; ++i) {
        if (names[i] == s) {
            return static_cast<E>(i);
        }
    }
    return std::nullopt;
}

constexpr std::array<std::string_view, 7> k_signals = {
    "error_rate",  "request_count", "latency_p50", "latency_p95",
    "latency_p99", "downtime",      "value"};
constexpr std::array<std::string_view, 4> k_baselines = {"none", "fixed", "before_deploy",
                                                         "previous_release"};
constexpr std::array<std::string_view, 4> k_countings = {"immediate", "for", "consecutive",
                                                         "m_of_n"};
constexpr std::array<std::string_view, 3> k_policies = {"ignore", "escalate", "trigger"};
constexpr std::array<std::string_view, 3> k_severities = {"warning", "high", "critical"};
constexpr std::array<std::string_view, 3> k_modes = {"auto", "confirm", "observe"};
constexpr std::array<std::string_view, 7> k_verdicts = {
    "ok", "pending", "firing", "no_traffic", "no_data", "insufficient_sample", "error"};
constexpr std::array<std::string_view, 5> k_missing = {"none", "no_data", "no_traffic",
                                                       "insufficient_sample", "error"};
constexpr std::array<std::string_view, 5> k_actions = {"none", "notify", "escalate",
                                                       "request_approval", "trigger"};

} // namespace

std::string_view to_string(Signal s) {
    return k_signals[static_cast<size_t>(s)];
}
std::string_view to_string(BaselineKind b) {
    return k_baselines[static_cast<size_t>(b)];
}
std::string_view to_string(Counting c) {
    return k_countings[static_cast<size_t>(c)];
}
std::string_view to_string(Policy p) {
    return k_policies[static_cast<size_t>(p)];
}
std::string_view to_string(Severity s) {
    return k_severities[static_cast<size_t>(s)];
}
std::string_view to_string(Mode m) {
    return k_modes[static_cast<size_t>(m)];
}
std::string_view to_string(Verdict v) {
    return k_verdicts[static_cast<size_t>(v)];
}
std::string_view to_string(Missing m) {
    return k_missing[static_cast<size_t>(m)];
}
std::string_view to_string(Action a) {
    return k_actions[static_cast<size_t>(a)];
}

std::optional<Signal> parse_signal(std::string_view s) {
    return parse_enum<Signal>(s, k_signals);
}
std::optional<Policy> parse_policy(std::string_view s) {
    return parse_enum<Policy>(s, k_policies);
}
std::optional<Severity> parse_severity(std::string_view s) {
    return parse_enum<Severity>(s, k_severities);
}
std::optional<Mode> parse_mode(std::string_view s) {
    return parse_enum<Mode>(s, k_modes);
}

bool is_request_signal(Signal s) {
    return s == Signal::error_rate || s == Signal::latency_p50 || s == Signal::latency_p95 ||
           s == Signal::latency_p99;
}

std::string_view unit_of(Signal s) {
    switch (s) {
    case Signal::error_rate:
        return "ratio";
    case Signal::request_count:
        return "requests";
    case Signal::latency_p50:
    case Signal::latency_p95:
    case Signal::latency_p99:
        return "ms";
    case Signal::downtime:
        return "s";
    case Signal::value:
        break;
    }
    return "";
}

Millis counting_span(const ConditionSpec& c, Millis step) {
    switch (c.counting) {
    case Counting::for_duration:
        return c.for_duration;
    case Counting::consecutive:
        return step * c.consecutive;
    case Counting::m_of_n:
        return step * c.n;
    case Counting::immediate:
        break;
    }
    return Millis{0};
}

} // namespace rollback::decision
