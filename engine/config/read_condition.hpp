// SPDX-License-Identifier: MIT
#pragma once

// Internal to config/: reading one [[condition]] table.

#include "config/config.hpp"
#include "playbook/toml_reader.hpp"

#include <cstddef>
#include <vector>

namespace rollback::config {

/// Reads the `index`-th [[condition]] table into cfg.conditions (its source must already be in
/// cfg.sources); every problem is a diagnostic in `rd`, a likely mistake a warning in cfg.warnings.
void read_condition(playbook::TomlReader& rd, const playbook::tree::Table& t, size_t index,
                    Config& cfg);

/// The live monitor's read-back at its start, over an access log's intervals, is bounded as a
/// replay's samples are (sources::k_max_replay_samples): a condition whose window (or
/// before_deploy baseline window), max_lateness and counting span (`for`, consecutive, m_of_n,
/// max_missed) cover more intervals of its source is an error at `where` (of cfg.conditions, in
/// order) — a typo, 400d for 40m, would take gigabytes at each start (break-it 44/07). Run once
/// the sources' and the decision's intervals are final.
void check_read_back(playbook::TomlReader& rd, const Config& cfg,
                     const std::vector<util::Location>& where);

} // namespace rollback::config
