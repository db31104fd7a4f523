// SPDX-License-Identifier: MIT
#pragma once
// The live monitor's state of one followed access log (internal to monitor/: monitor.cpp reads
// the log, log_checks.cpp judges whether its lines can be counted).

#include "monitor/monitor.hpp"

#include "sources/access_log.hpp"
#include "sources/tailer.hpp"

#include <deque>
#include <optional>
#include <string>

namespace rollback::monitor {

/// One followed access log: the tailer, the parser's state and the aggregator's output waiting
/// for its time.
struct Monitor::LogState {
    LogState(const config::SourceConfig& src, int64_t interval_s, int64_t first_s,
             int64_t first_fed_ms, int old_idle_polls)
        : tailer(src.path, /*from_start=*/true, /*predecessor_since=*/first_s, old_idle_polls),
          format(sources::LogFormat::compile(src.format)),
          agg(
              interval_s, [this](decision::Sample s) { ready.push_back(std::move(s)); },
              src.max_lateness.count() / 1000, sources::RequestAggregator::Clock::caller),
          cutoff_s(first_s), fed_until_ms(first_fed_ms) {
        agg.count_from(cutoff_s);
    }

    sources::LogTailer tailer;
    sources::LogFormat format;
    sources::TimeCache cache;
    sources::RequestAggregator agg;
    std::deque<decision::Sample> ready; ///< complete intervals, in time order, not fed yet
    int64_t cutoff_s;                   ///< lines older than this (read at start) are not needed
    int64_t fed_until_ms;               ///< end of the last interval fed to the Evaluator
    Monitor::LogCounts counts;          ///< late: counted at feeding (the aggregator's own + ours)
    uint64_t implausible_logged = 0;    ///< the aggregator's implausible() last written to the log
    uint64_t late_logged = 0;           ///< the late lines last written to the log
    uint64_t carry_late = 0;            ///< late lines not yet carried by a fed sample
    /// The current run of ticks whose lines mostly do not match the format: since when (the
    /// first such tick), its lines and rejected lines, and when it was last logged.
    std::optional<SystemTime> rejecting_since;
    uint64_t run_lines = 0, run_rejected = 0;
    std::optional<SystemTime> rejected_logged_at;
    std::string first_rejected; ///< the run's first line that does not match (truncated)
    /// The current run of ticks whose lines mostly came later than max_lateness: since when,
    /// its lines, the late ones, the oldest age of a line read (s), when it was last logged.
    std::optional<SystemTime> lagging_since;
    uint64_t lag_lines = 0, lag_late = 0;
    int64_t lag_age_s = 0;
    std::optional<SystemTime> lag_logged_at;
    bool readable_at_start = true; ///< the first tick read it (else: nothing to warm up on)
    /// The start of the first interval every line of which this monitor reads as it is written
    /// (s; INT64_MAX until the file is first read): from there on, an interval without a line
    /// is one the monitor watched stay quiet.
    int64_t watched_from_s = INT64_MAX;
};

inline int64_t to_ms(util::SystemTime t) {
    return std::chrono::duration_cast<util::Millis>(t.time_since_epoch()).count();
}

} // namespace rollback::monitor
