// SPDX-License-Identifier: MIT
#pragma once

// Virtual time: the loop of `rollback check --replay`, here so that the live monitor's tests can
// hold the two to identical records. No sleeping: ticks are interval boundaries over a recorded
// span, and each tick sees exactly the samples with time <= the tick, as the monitor does.

#include "decision/evaluator.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rollback::monitor {

struct ReplayStats {
    uint64_t ticks = 0, samples = 0;
    uint64_t deploys = 0; ///< deploy markers fed (dated at or before the last tick)
};

/// A deploy marker of the replayed history (`rollback deployed`, or `check --deploy`).
struct Deploy {
    util::SystemTime time;
    std::string release;
};

using OnTick = std::function<void(const decision::Evaluation&)>;

/// The replay as a stream: samples come one at a time, in time order, and each tick is
/// evaluated as soon as no sample can still come for it (a sample dated after it arrived, or
/// the end) — so a replay holds what the evaluator's windows hold, not the recorded span.
/// Ticks are the multiples of `interval` from `first` (rounded up; default: the first sample's
/// time) to the `last` given to finish(). Samples before `first` fill the first tick's windows.
/// `deploys` (time order) are passed to `ev.deployed` before the first tick at or after their
/// time, as the live monitor passes the marker it reads at each tick: markers before `first` are
/// all fed at the first tick (the newest is the release running then); of several between two
/// ticks, the newest is the one the evaluator applies, as live.
class ReplayLoop {
  public:
    ReplayLoop(decision::Evaluator& ev, std::string source, util::Millis interval,
               std::optional<util::SystemTime> first, OnTick on_tick,
               std::vector<Deploy> deploys = {});
    /// Adds the next sample of the source (time order): first evaluates the ticks before its
    /// time.
    void add(decision::Sample sample);
    /// The ticks from the first one through `t`: what evaluating up to `t` costs (0 before the
    /// first sample when no `first` was given).
    uint64_t ticks_through(util::SystemTime t) const;
    /// The first and the newest sample's time (nullopt before the first sample).
    std::optional<util::SystemTime> first_sample() const { return m_first_sample; }
    std::optional<util::SystemTime> last_sample() const { return m_last_sample; }
    /// Evaluates the remaining ticks up to `last`. Counts as fed the samples dated at or before
    /// the last tick.
    ReplayStats finish(util::SystemTime last);

  private:
    void run_ticks_before(int64_t end_ms, bool inclusive);

    decision::Evaluator& m_ev;
    std::string m_source;
    int64_t m_step;
    std::optional<int64_t> m_begin_ms; ///< the first tick
    int64_t m_next_ms = 0;             ///< the next tick to evaluate
    OnTick m_on_tick;
    std::vector<Deploy> m_deploys;
    size_t m_next_deploy = 0;
    std::optional<util::SystemTime> m_first_sample, m_last_sample;
    uint64_t m_added = 0;
    uint64_t m_after_tick = 0; ///< samples added since the newest tick evaluated, dated after it
    ReplayStats m_stats;
};

/// The same over samples in memory: evaluates `ev` at every multiple of `interval` in
/// [first, last] (`first` rounded up), after adding the samples of `source` (time order) that are
/// due; `on_tick` gets every evaluation. Samples after the last tick are not fed.
ReplayStats replay(decision::Evaluator& ev, const std::string& source,
                   std::vector<decision::Sample> samples, util::SystemTime first,
                   util::SystemTime last, util::Millis interval, const OnTick& on_tick,
                   const std::vector<Deploy>& deploys = {});

} // namespace rollback::monitor
