// SPDX-License-Identifier: MIT
#include "cli/load.hpp"

#include "util/error.hpp"

#include <cctype>
#include <filesystem>

namespace rollback::cli {

std::optional<playbook::Playbook> load_decision_playbook(const config::Config& cfg) {
    if (cfg.playbook.empty()) {
        return std::nullopt;
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(cfg.playbook, ec)) {
        throw util::Error(
            cfg.file.string() + ": [decision] playbook: " + cfg.playbook.string() +
                (std::filesystem::exists(cfg.playbook, ec) ? " is not a file" : " does not exist") +
                ": no rollback could start",
            util::ExitCode::invalid,
            "write the playbook there (rollback validate FILE checks it) or point "
            "[decision] playbook at it");
    }
    return load_playbook(cfg.playbook, {}, true);
}

std::map<std::string, std::string> parse_var_overrides(const std::vector<std::string>& vars) {
    std::map<std::string, std::string> out;
    for (const auto& v : vars) {
        auto eq = v.find('=');
        if (eq == std::string::npos || eq == 0) {
            // Never echoed past its name: the rest is likely a value, maybe a secret's, with a
            // typo for '=' (`--var "token VALUE"`, `--var token:VALUE`).
            size_t name_end = 0;
            while (name_end < v.size() && (std::isalnum(static_cast<unsigned char>(v[name_end])) ||
                                           v[name_end] == '_' || v[name_end] == '-')) {
                ++name_end;
            }
            std::string shown = v.substr(0, name_end);
            if (name_end < v.size()) {
                shown += std::isspace(static_cast<unsigned char>(v[name_end])) ? " ***" : "***";
            }
            throw util::Error("--var " + shown + ": expected NAME=VALUE", util::ExitCode::invalid,
                              "write --var NAME=VALUE (what follows the name is not shown)");
        }
        out[v.substr(0, eq)] = v.substr(eq + 1);
    }
    return out;
}

} // namespace rollback::cli
