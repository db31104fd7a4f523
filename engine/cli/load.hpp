// SPDX-License-Identifier: MIT
#pragma once

#include "playbook/model.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace rollback::cli {

/// Loads and validates a playbook completely — the loader's checks and every action's own
/// checks in one pass. Throws util::InvalidInput (exit 2) with every diagnostic.
/// `unset_env_is_warning` (validate): see playbook::LoadOptions.
playbook::Playbook load_playbook(const std::filesystem::path& file,
                                 const std::map<std::string, std::string>& overrides = {},
                                 bool unset_env_is_warning = false);

/// --var NAME=VALUE options → overrides; a malformed one throws util::Error (exit 2).
std::map<std::string, std::string> parse_var_overrides(const std::vector<std::string>& vars);

} // namespace rollback::cli
