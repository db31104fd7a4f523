// SPDX-License-Identifier: MIT
#pragma once

// The file a person names for a command's output (`report -o`, `explain -o`, `state export -o`):
// one rule for every command (util::write_output_file), with the state directory protected.

#include "util/output_file.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace rollback::cli {

/// An HTML page (`report --html`, `explain --html`): replaces only an earlier page or an empty
/// file, never a file of `state_dir`.
util::OutputRule page_output(const std::filesystem::path& state_dir);

/// A run's journal (`state export RUN_ID`): replaces only an earlier export of the same run (a
/// journal whose header names `run_id`) or an empty file, never a file of `state_dir` (another
/// run's journal there would be gone, and its name would then hold this run).
util::OutputRule journal_output(const std::filesystem::path& state_dir, const std::string& run_id);

/// Writes `content` to `output` by `rule`; "" or "-" is standard output. True when a file was
/// written (the caller says so on stderr). util::Error (exit 2) as util::write_output_file.
bool write_output(const std::string& output, std::string_view content,
                  const util::OutputRule& rule);

} // namespace rollback::cli
