// SPDX-License-Identifier: MIT
#pragma once

// Loading a playbook the way every command and the monitor load it: the loader's checks with
// every action's own keys and checks (the registry), in one pass.

#include "playbook/model.hpp"

#include <filesystem>
#include <map>
#include <string>

namespace rollback::actions {

/// Loads and validates a playbook completely — the loader's checks and every action's own
/// checks in one pass. Throws util::InvalidInput (exit 2) with every diagnostic.
/// `unset_env_is_warning` (validate): see playbook::LoadOptions.
playbook::Playbook load_playbook(const std::filesystem::path& file,
                                 const std::map<std::string, std::string>& overrides = {},
                                 bool unset_env_is_warning = false);

} // namespace rollback::actions
