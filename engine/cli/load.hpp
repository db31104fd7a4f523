// SPDX-License-Identifier: MIT
#pragma once

#include "actions/load.hpp"
#include "config/config.hpp"

#include <map>
#include <string>
#include <vector>

namespace rollback::cli {

/// The playbook loader of every command (actions/load.hpp).
using actions::load_playbook;

/// --var NAME=VALUE options → overrides; a malformed one throws util::Error (exit 2).
std::map<std::string, std::string> parse_var_overrides(const std::vector<std::string>& vars);

/// The `[decision] playbook` of `cfg`, loaded and validated as `validate` does (an unset
/// environment variable is a warning): what `validate -c` and the monitor's start check, so a
/// missing or invalid playbook is exit 2 there, not a trigger whose run cannot start. nullopt
/// when the config names none. Throws util::Error (exit 2) when the file does not exist,
/// util::InvalidInput with the playbook's located diagnostics when it does not validate.
std::optional<playbook::Playbook> load_decision_playbook(const config::Config& cfg);

} // namespace rollback::cli
