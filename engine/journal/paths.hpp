// SPDX-License-Identifier: MIT
#pragma once

// Where a state directory keeps its runs: `<state_dir>/runs/<run_id>.jsonl` (the journal) and
// `<state_dir>/runs/<run_id>/` (artifacts: dumps, reconciliation exports, ...).

#include "util/time.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::journal {

namespace fs = std::filesystem;

/// A new run id, sortable by time and unique: `YYYYMMDDTHHMMSSZ-<6 lower-case hex random>`,
/// e.g. "20261126T143500Z-3fa9c1".
std::string new_run_id(util::SystemTime now = std::chrono::system_clock::now());

/// True for strings of new_run_id()'s shape (so a user-given id can never escape runs/).
bool is_valid_run_id(std::string_view id);

/// `<state_dir>/runs`.
fs::path runs_dir(const fs::path& state_dir);

/// `<state_dir>/runs/<run_id>.jsonl`. Throws util::Error (exit 2) for an invalid run id.
fs::path journal_path(const fs::path& state_dir, std::string_view run_id);

/// `<state_dir>/runs/<run_id>/` (not created here). Throws util::Error (exit 2) for an invalid id.
fs::path run_dir(const fs::path& state_dir, std::string_view run_id);

/// Ids of every run with a journal in the state directory, newest first; empty when none (or the
/// directory does not exist).
std::vector<std::string> list_runs(const fs::path& state_dir);

/// The newest run's id, if any.
std::optional<std::string> latest_run(const fs::path& state_dir);

} // namespace rollback::journal
