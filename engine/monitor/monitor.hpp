// SPDX-License-Identifier: MIT
#pragma once

// The live half of the decision engine: reads the configured sources every tick and feeds one
// long-lived decision::Evaluator, so counting state (`for`, m_of_n), incidents and the cooldown
// carry from tick to tick. Starting runs, signals and the clock belong to the caller
// (`rollback monitor`); this class does no sleeping.

#include "config/config.hpp"
#include "decision/evaluator.hpp"
#include "exec/runner.hpp"

#include <map>
#include <optional>
#include <string>

namespace rollback::monitor {

using util::SystemTime;

class Monitor {
  public:
    /// `baselines`: the book kept in the state directory (empty when none).
    Monitor(config::Config cfg, decision::BaselineBook baselines = {});

    /// Reads every source a condition uses (commands: run once; access logs: the complete
    /// intervals not read yet, quiet intervals as zero requests; http, prometheus and sql: an
    /// error sample naming the gap) and evaluates at `now` (non-decreasing between calls).
    decision::Evaluation tick(exec::ProcessRunner& runner, SystemTime now);

    /// Lifecycle events, passed on to the Evaluator.
    void deployed(SystemTime time, std::string release);
    void rolled_back(SystemTime time);

    const config::Config& config() const { return m_cfg; }
    decision::BaselineBook baselines() const { return m_eval.baselines(); }

  private:
    void read_access_log(const config::SourceConfig& src, util::Millis reach, SystemTime now);

    config::Config m_cfg;
    decision::Evaluator m_eval;
    std::map<std::string, SystemTime> m_read_until; ///< access logs: intervals fed so far
};

/// Milliseconds until the next tick boundary: ticks are aligned to multiples of `interval` since
/// the epoch, as `check --replay` aligns them, so both see the same windows.
util::Millis until_next_tick(SystemTime now, util::Millis interval);

} // namespace rollback::monitor
