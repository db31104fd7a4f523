// SPDX-License-Identifier: MIT
#pragma once

#include "actions/load.hpp"

#include <map>
#include <string>
#include <vector>

namespace rollback::cli {

/// The playbook loader of every command (actions/load.hpp).
using actions::load_playbook;

/// --var NAME=VALUE options → overrides; a malformed one throws util::Error (exit 2).
std::map<std::string, std::string> parse_var_overrides(const std::vector<std::string>& vars);

} // namespace rollback::cli
