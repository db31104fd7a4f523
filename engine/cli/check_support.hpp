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

struct DeployMarker {
    std::string release;
    util::SystemTime time;
};
/// `<state_dir>/deploy.json`, nullopt when absent; util::Error when malformed.
std::optional<DeployMarker> read_deploy_marker(const std::filesystem::path& state_dir);
/// Every marker `rollback deployed` recorded for `target` (`<state_dir>/deploys.jsonl`, else the
/// one `deploy.json`), in time order; empty when there is none. util::InvalidInput (exit 2)
/// locating a malformed line.
std::vector<DeployMarker> read_deploy_history(const std::filesystem::path& state_dir,
                                              const std::string& target);

/// Evaluates every condition once at `now`: one tick of a fresh monitor::Monitor (access logs: the
/// part of the file covering the windows; commands, http probes, Prometheus and SQL: once).
decision::DecisionRecord evaluate_now(const config::Config& cfg,
                                      const std::filesystem::path& state_dir, util::SystemTime now);

/// One line per record for people: time, action, and each condition's verdict with its numbers.
std::string summarize_record(const decision::DecisionRecord& r);

} // namespace rollback::cli
