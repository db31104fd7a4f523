// SPDX-License-Identifier: MIT
#pragma once

// Turning a source into decision::Samples: a recorded file (replay) or one observation now.

#include "decision/sample.hpp"
#include "exec/runner.hpp"
#include "sources/access_log.hpp"
#include "sources/csv.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rollback::sources {

/// What reading a recorded file found besides its samples.
struct FileStats {
    bool is_csv = false;
    ParseStats stats;         ///< access logs: lines read and rejected
    uint64_t late = 0;        ///< access logs: lines later than `lateness_s` (not counted)
    uint64_t implausible = 0; ///< access logs: lines dated before 2000 or in the future
    CsvStats csv;             ///< CSV: rows going back in time (skipped)
    /// Access logs: the end of the last interval that holds a line (read, or before --from),
    /// nullopt when none.
    std::optional<decision::SystemTime> lines_end;
};

struct FileSamples : FileStats {
    std::vector<decision::Sample> samples; ///< time order
    /// An access log's input end (stream_samples' `on_input_end`): nullopt for a CSV or a log
    /// without a line.
    std::optional<decision::SystemTime> input_end;
};

/// The most samples a replay of an access log takes (one per interval, quiet ones included).
/// Replay streams them (memory does not grow with them): this bounds the work of a replay whose
/// lines span more than a question needs — two lines years apart — at 35 days at 1 s, a year at
/// 10 s (docs/decision.md, "Replay").
inline constexpr size_t k_max_replay_samples = 3'000'000;

/// Reads a recorded file for replay: a `timestamp,value` CSV (recognized by its header) or an
/// access log in `format`, aggregated into `interval_s` samples by event time, a line counted when
/// it is at most `lateness_s` later than the newest line before it (the source's max_lateness).
/// Calls `on_sample` with each sample in time order, an access log's as soon as its interval is
/// final: what is held is the open intervals, not the samples. Lines and samples outside
/// [from, to] (when given) are dropped before they are aggregated or held. Throws util::Error /
/// util::InvalidInput (a CSV is read and checked whole before its first sample); util::Error
/// (exit 2) as soon as the samples would exceed `max_samples` (two lines years apart), before
/// the first sample past it — or of a run of quiet intervals past it — is made; the file must be
/// a regular file. After an access log's last line, the quiet intervals the live monitor would
/// make as zero requests up to the replay's end follow: those final at `to` when given, else
/// those ending at most `quiet_tail_s` after the last line's interval (monitor::silence_tail;
/// docs/decision.md, "The end of a replay"). A CSV gets none: its rows are its samples.
/// `on_input_end` (an access log's, when given): called once, after the samples of the file's
/// own intervals and before the quiet ones that follow, with the end of the last interval that
/// holds a line (Evaluator::input_ends) — not called when the file has lines after `to`: the
/// input goes on past the range.
FileStats stream_samples(const std::filesystem::path& file, const std::string& format,
                         int64_t interval_s, int64_t lateness_s,
                         std::optional<decision::SystemTime> from,
                         std::optional<decision::SystemTime> to, size_t max_samples,
                         int64_t quiet_tail_s,
                         const std::function<void(decision::Sample)>& on_sample,
                         const std::function<void(decision::SystemTime)>& on_input_end = {});

/// stream_samples into a vector (tests, the differential test's driver).
FileSamples read_samples(const std::filesystem::path& file, const std::string& format,
                         int64_t interval_s, int64_t lateness_s,
                         std::optional<decision::SystemTime> from = std::nullopt,
                         std::optional<decision::SystemTime> to = std::nullopt,
                         size_t max_samples = k_max_replay_samples, int64_t quiet_tail_s = 0);

/// One observation of a `command` source: exit 0 and a number on stdout → a value sample; a
/// non-zero exit, a timeout or output that is not a number → an error sample (the check failed,
/// which is not the same as a bad value); a program that cannot be started → unavailable.
decision::Sample run_command(exec::ProcessRunner& runner, const std::vector<std::string>& argv,
                             util::Millis timeout, decision::SystemTime now);

} // namespace rollback::sources
