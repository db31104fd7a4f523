// SPDX-License-Identifier: MIT
#pragma once

// Internal to config/: reading one [[condition]] table.

#include "config/config.hpp"
#include "playbook/toml_reader.hpp"

#include <cstddef>

namespace rollback::config {

/// Reads the `index`-th [[condition]] table into cfg.conditions (its source must already be in
/// cfg.sources); every problem is a diagnostic in `rd`, a likely mistake a warning in cfg.warnings.
void read_condition(playbook::TomlReader& rd, const playbook::tree::Table& t, size_t index,
                    Config& cfg);

} // namespace rollback::config
