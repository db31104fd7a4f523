// SPDX-License-Identifier: MIT
#pragma once

// Turning a source into decision::Samples: a recorded file (replay) or one observation now.

#include "decision/sample.hpp"
#include "exec/runner.hpp"
#include "sources/access_log.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rollback::sources {

struct FileSamples {
    std::vector<decision::Sample> samples; ///< time order
    bool is_csv = false;
    ParseStats stats;         ///< access logs: lines read and rejected
    uint64_t late = 0;        ///< access logs: lines later than `lateness_s` (not counted)
    uint64_t implausible = 0; ///< access logs: lines dated before 2000 or in the future
};

/// Reads a recorded file for replay: a `timestamp,value` CSV (recognized by its header) or an
/// access log in `format`, aggregated into `interval_s` samples by event time, a line counted when
/// it is at most `lateness_s` later than the newest line before it (the source's max_lateness).
/// Samples outside [from, to] (when given) are dropped. Throws util::Error / util::InvalidInput.
FileSamples read_samples(const std::filesystem::path& file, const std::string& format,
                         int64_t interval_s, int64_t lateness_s,
                         std::optional<decision::SystemTime> from = std::nullopt,
                         std::optional<decision::SystemTime> to = std::nullopt);

/// One observation of a `command` source: exit 0 and a number on stdout → a value sample; a
/// non-zero exit, a timeout or output that is not a number → an error sample (the check failed,
/// which is not the same as a bad value); a program that cannot be started → unavailable.
decision::Sample run_command(exec::ProcessRunner& runner, const std::vector<std::string>& argv,
                             util::Millis timeout, decision::SystemTime now);

} // namespace rollback::sources
