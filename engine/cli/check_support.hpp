// SPDX-License-Identifier: MIT
#pragma once

// Shared by `check`, `explain` and `deployed`: the config, evaluating every condition now with
// the configured sources, a record's line for people.

#include "cli/options.hpp"
#include "config/config.hpp"
#include "decision/evaluator.hpp"
#include "monitor/decision_actions.hpp"
#include "state/store.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rollback::cli {

/// The config find_config() finds (-c FILE, else ./rollback.toml); util::Error (exit 2) when there
/// is none. Validated completely.
config::Config load_rollback_config(const CommonOptions& common);

/// Evaluates every condition once at `now`: one tick of a fresh monitor::Monitor (access logs: the
/// part of the file covering the windows; commands, http probes, Prometheus and SQL: once), with
/// the baselines and the deploy marker of `store` (the state the rule found: shared or local),
/// and the alert conditions over the alerts the monitor keeps active there (those whose endsAt
/// passed are over; a `confirm` query is asked) — one record of both. Kept alerts that cannot be
/// read (a damaged alerts.json) are said on stderr and give the alert conditions no data. The
/// record is never `executed`: nothing is acted on.
decision::DecisionRecord evaluate_now(const config::Config& cfg, const state::Store& store,
                                      util::SystemTime now);

/// One line per record for people (monitor/decision_actions.hpp).
using monitor::summarize_record;

} // namespace rollback::cli
