// SPDX-License-Identifier: MIT
#pragma once

// Shared by `check`, `explain` and `deployed`: the config, deploy markers, evaluating every
// condition now with the configured sources, and decision records on disk.

#include "cli/options.hpp"
#include "config/config.hpp"
#include "decision/evaluator.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rollback::cli {

/// The config find_config() finds (-c FILE, else ./rollback.toml); util::Error (exit 2) when there
/// is none. Validated completely.
config::Config load_rollback_config(const CommonOptions& common);

/// Evaluates every condition once at `now`: one tick of a fresh monitor::Monitor (access logs: the
/// part of the file covering the windows; commands, http probes, Prometheus and SQL: once).
decision::DecisionRecord evaluate_now(const config::Config& cfg,
                                      const std::filesystem::path& state_dir, util::SystemTime now);

/// One line per record for people: time, action, and each condition's verdict with its numbers.
std::string summarize_record(const decision::DecisionRecord& r);

} // namespace rollback::cli
