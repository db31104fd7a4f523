// SPDX-License-Identifier: MIT
#pragma once

// Virtual time: the loop of `rollback check --replay`, here so that the live monitor's tests can
// hold the two to identical records. No sleeping: ticks are interval boundaries over a recorded
// span, and each tick sees exactly the samples with time <= the tick, as the monitor does.

#include "decision/evaluator.hpp"

#include <functional>
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

/// Evaluates `ev` at every multiple of `interval` in [first, last] (`first` rounded up), after
/// adding the samples of `source` (time order) that are due; `on_tick` gets every evaluation.
/// Samples before `first` are fed before the first tick: they fill its windows. `deploys` (time
/// order) are passed to `ev.deployed` before the first tick at or after their time, as the live
/// monitor passes the marker it reads at each tick: markers before `first` are all fed at the
/// first tick (the newest is the release running then); of several between two ticks, the
/// newest is the one the evaluator applies, as live.
ReplayStats replay(decision::Evaluator& ev, const std::string& source,
                   std::vector<decision::Sample> samples, util::SystemTime first,
                   util::SystemTime last, util::Millis interval,
                   const std::function<void(const decision::Evaluation&)>& on_tick,
                   const std::vector<Deploy>& deploys = {});

} // namespace rollback::monitor
