// SPDX-License-Identifier: MIT
#pragma once

// The decision engine, pure: fed samples and evaluation ticks in (virtual or real) time, it returns
// one DecisionRecord per tick. No I/O and no clock: the caller passes time in. `check --replay`
// drives it over a recorded file; the monitor loop drives it with the system clock:
//
//   Evaluator ev(conditions, policy);
//   every interval: for each source: ev.add_sample(name, sample);   // samples with time <= now
//                   Evaluation e = ev.evaluate(now);                 // then act on e.record
//   ev.deployed(marker_time, release);  ev.rolled_back(time);       // lifecycle events

#include "decision/condition.hpp"
#include "decision/record.hpp"
#include "decision/sample.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rollback::decision {

/// The per-release signal summaries used as `previous_release` baselines: the median of each
/// condition's observed value over the ticks a release ran, incident ticks excluded. Releases that
/// were rolled back are kept but never used as a baseline.
struct ReleaseBaseline {
    std::string release;
    std::map<std::string, double> values;  ///< condition name → median
    std::map<std::string, uint64_t> ticks; ///< condition name → ticks summarized
    bool rolled_back = false;
};
struct BaselineBook {
    std::vector<ReleaseBaseline> releases; ///< oldest first
    /// The newest release other than `current` not rolled back with a value for `condition`.
    const ReleaseBaseline* previous_good(const std::string& current,
                                         const std::string& condition) const;
    std::string to_json() const;
    /// Throws util::Error on malformed text.
    static BaselineBook from_json(std::string_view text);
};

struct Evaluation {
    DecisionRecord record;
    /// True when the record is worth keeping: an action other than none, a verdict that changed
    /// since the previous tick, or the first tick. (Every notable record is written to disk.)
    bool notable = false;
};

class Evaluator {
  public:
    Evaluator(std::vector<ConditionSpec> conditions, DecisionPolicy policy,
              BaselineBook baselines = {});
    ~Evaluator();
    Evaluator(Evaluator&&) noexcept;
    Evaluator& operator=(Evaluator&&) noexcept;

    /// Adds one sample of `source`. Samples of a source must come in time order: a sample with
    /// the same time as the previous one is a duplicate and ignored (idempotent redelivery); an
    /// older one is late and ignored. Returns false when ignored. Unknown sources are ignored.
    bool add_sample(const std::string& source, Sample sample);

    /// A deploy marker: `release` is current from `time` on. The current release's summary goes
    /// into the baseline book; before_deploy baselines are computed from the samples before `time`
    /// at the first tick at or after it.
    void deployed(SystemTime time, std::string release);
    /// A rollback run finished at `time`: the current release is marked rolled back (never a
    /// baseline) and, for `watch_after`, firing conditions are reported as a recurrence (notify)
    /// instead of triggering again.
    void rolled_back(SystemTime time);
    /// What the incident policy remembers beyond one evaluator's life: no automatic trigger
    /// before `cooldown_until`; until `watch_until` (a rollback's end + watch_after) a firing
    /// condition is a recurrence (notify), not a trigger. `rollback monitor` keeps it in the
    /// state directory so that a restart or a reload (a new Evaluator) does not act twice on
    /// one incident.
    struct PolicyMemory {
        std::optional<SystemTime> cooldown_until;
        std::optional<SystemTime> watch_until;
        bool operator==(const PolicyMemory&) const = default;
    };
    PolicyMemory policy_memory() const;
    /// Carries `memory` over (the later of each time and this evaluator's own wins).
    void resume_policy(const PolicyMemory& memory);

    /// A baseline supplied from outside (e.g. computed by `rollback deployed` and kept in the
    /// deploy marker). Overrides a computed one.
    void set_baseline(const std::string& condition, BaselineInfo baseline);

    /// Evaluates every condition at `now` (non-decreasing between calls).
    Evaluation evaluate(SystemTime now);

    /// The book with the running release's summary included (for persisting).
    BaselineBook baselines() const;
    const std::vector<ConditionSpec>& conditions() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

} // namespace rollback::decision
