// SPDX-License-Identifier: MIT
#pragma once

// The decision record: every decision, "no action" included, with the numbers behind it. The JSON
// form is a public, versioned format (docs/decision.md); `to_json` is deterministic (fixed key
// order, shortest round-trip numbers, UTC times with milliseconds) so a replay and the live monitor
// write identical bytes for identical input.

#include "decision/condition.hpp"
#include "util/time.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rollback::decision {

using util::SystemTime;

inline constexpr int k_record_version = 1;

struct BaselineInfo {
    BaselineKind kind = BaselineKind::none;
    std::optional<double> value;
    std::string origin; ///< e.g. "window 2026-11-26T13:55:00Z..14:00:00Z before deploy of v42"
};

/// One condition at one evaluation.
struct ConditionRecord {
    std::string name;
    std::string signal; ///< "web.error_rate"
    std::string unit;   ///< "ratio", "ms", "s", "requests", ""
    Millis window{0};
    SystemTime window_start, window_end;
    uint64_t samples = 0;             ///< samples in the window
    std::optional<uint64_t> requests; ///< request signals: requests in the window
    /// Access logs: lines of the window's intervals that came after the interval was final
    /// (later than the source's max_lateness): not counted in `requests`, reported here.
    std::optional<uint64_t> late;
    std::optional<double> observed;
    std::string comparator; ///< "above", "below", "above_baseline"
    std::optional<double> threshold;
    std::optional<BaselineInfo> baseline;
    Counting counting = Counting::immediate;
    std::string counting_state; ///< "4 of the last 5 breached"
    int breached = 0;           ///< breaching ticks counted by the counting mode
    int of = 0;                 ///< ticks the counting mode looks at
    Missing missing = Missing::none;
    std::optional<Policy> policy; ///< the missing-data policy applied, when missing != none
    std::string policy_origin;    ///< "config" or "default"
    std::string detail;           ///< why data is missing, the check's error, ...
    Verdict verdict = Verdict::ok;
    Severity severity = Severity::high;
    Action action = Action::none;
    Mode mode = Mode::auto_;
    std::optional<SystemTime> incident_since;
};

/// Among monitors sharing a state (docs/config.md "Leadership"): whether the monitor that made
/// the decision led (and so acted) or followed (and only recorded), with the leadership's
/// generation it saw. Absent for a monitor alone on its state.
struct LeadershipInfo {
    std::string role; ///< "leader" | "follower"
    std::string host;
    int pid = 0;
    std::uint64_t generation = 0; ///< the leader's generation (0: nobody led)
    bool operator==(const LeadershipInfo&) const = default;
};

struct DecisionRecord {
    int version = k_record_version;
    SystemTime time;
    std::string target;
    std::string release; ///< current release ("" when no deploy marker)
    std::optional<SystemTime> deployed_at;
    Action action = Action::none;
    Mode mode = Mode::auto_;
    bool executed = false; ///< false in observe mode or when nothing is to be done
    std::string cause;     ///< the condition that decided the action ("" for none)
    std::string reason;    ///< one sentence
    std::optional<SystemTime> cooldown_until;
    std::optional<LeadershipInfo> leadership; ///< written only when set
    std::vector<ConditionRecord> conditions;
};

/// One line of JSON, no trailing newline.
std::string to_json(const DecisionRecord& r);
/// Parses what to_json wrote. Throws util::Error on malformed input or an unknown version.
DecisionRecord from_json(std::string_view text);
/// "20261126T143500.000Z-<first 8 hex of sha256(json)>": stable for identical records.
std::string record_id(const DecisionRecord& r);
/// The record as a person reads it: a ≤ 5-line summary, then one paragraph per condition.
std::string explain(const DecisionRecord& r);
/// "0.05", "1.5e+06": shortest round-trip form, as in the JSON.
std::string format_number(double v);

} // namespace rollback::decision
