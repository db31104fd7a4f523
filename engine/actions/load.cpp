// SPDX-License-Identifier: MIT
#include "actions/load.hpp"

#include "actions/action.hpp"
#include "playbook/loader.hpp"

namespace rollback::actions {

playbook::Playbook load_playbook(const std::filesystem::path& file,
                                 const std::map<std::string, std::string>& overrides,
                                 bool unset_env_is_warning) {
    playbook::LoadOptions options;
    options.overrides = overrides;
    options.unset_env_is_warning = unset_env_is_warning;
    for (const auto& name : action_names()) {
        const Action* a = find_action(name);
        options.actions.push_back({name, a->keys(), a->required_keys(), a->encodings()});
    }
    options.validate_step = parse_step;
    return playbook::load(file, options);
}

} // namespace rollback::actions
