// SPDX-License-Identifier: MIT
#include "cli/load.hpp"

#include "actions/action.hpp"
#include "playbook/loader.hpp"
#include "util/error.hpp"

namespace rollback::cli {

playbook::Playbook load_playbook(const std::filesystem::path& file,
                                 const std::map<std::string, std::string>& overrides,
                                 bool unset_env_is_warning) {
    playbook::LoadOptions options;
    options.overrides = overrides;
    options.unset_env_is_warning = unset_env_is_warning;
    for (const auto& name : actions::action_names()) {
        const actions::Action* a = actions::find_action(name);
        options.actions.push_back({name, a->keys(), a->required_keys(), a->encodings()});
    }
    options.validate_step = [](const playbook::Playbook& pb, const playbook::Step& step) {
        const actions::Action* a = actions::find_action(step.action);
        return a == nullptr ? std::vector<util::Diagnostic>{} : a->validate(pb, step);
    };
    return playbook::load(file, options);
}

std::map<std::string, std::string> parse_var_overrides(const std::vector<std::string>& vars) {
    std::map<std::string, std::string> out;
    for (const auto& v : vars) {
        auto eq = v.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw util::Error("--var " + v + ": expected NAME=VALUE", util::ExitCode::invalid);
        }
        out[v.substr(0, eq)] = v.substr(eq + 1);
    }
    return out;
}

} // namespace rollback::cli
