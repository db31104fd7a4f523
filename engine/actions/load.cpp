// SPDX-License-Identifier: MIT
#include "actions/load.hpp"
#include "actions/load_parsed.hpp"

#include "actions/action.hpp"
#include "playbook/loader.hpp"
#include "playbook/parsed_file.hpp"

namespace rollback::actions {

namespace {

playbook::LoadOptions load_options(const std::map<std::string, std::string>& overrides,
                                   bool unset_env_is_warning) {
    playbook::LoadOptions options;
    options.overrides = overrides;
    options.unset_env_is_warning = unset_env_is_warning;
    for (const auto& name : action_names()) {
        const Action* a = find_action(name);
        options.actions.push_back({name, a->keys(), a->required_keys(), a->encodings()});
    }
    options.validate_step = parse_step;
    return options;
}

} // namespace

playbook::Playbook load_playbook(const std::filesystem::path& file,
                                 const std::map<std::string, std::string>& overrides,
                                 bool unset_env_is_warning) {
    return playbook::load(file, load_options(overrides, unset_env_is_warning));
}

playbook::Playbook load_playbook(const playbook::ParsedFile& parsed,
                                 const std::map<std::string, std::string>& overrides,
                                 bool unset_env_is_warning) {
    return playbook::load(parsed, load_options(overrides, unset_env_is_warning));
}

} // namespace rollback::actions
