// SPDX-License-Identifier: MIT
#include "cli/load.hpp"

#include "util/error.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <cctype>
#include <cstdio>
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

void warn_secrets_on_command_line(const playbook::Playbook& pb) {
    for (const auto& v : pb.variables) {
        if (!v.secret || v.origin != "--var") {
            continue;
        }
        std::string msg =
            "rollback: warning: secret variable " + util::quoted(v.name) +
            " was given with --var: a command line is readable by every local user (ps, "
            "/proc/PID/cmdline) until the engine has read it, and stays in the shell's history; "
            "the engine wiped it from its own command line once read (ps shows " +
            v.name +
            "=***)\n  hint: give a secret through the environment (the variable's env = "
            "\"NAME\": export NAME from a file of mode 0600, or a systemd EnvironmentFile) or "
            "a .env file beside the playbook (mode 0600), not --var\n";
        std::fputs(util::terminal_text(msg).c_str(), stderr);
    }
}

playbook::Playbook load_playbook_with_vars(const std::filesystem::path& file,
                                           const std::vector<std::string>& vars,
                                           bool unset_env_is_warning) {
    auto pb = load_playbook(file, parse_var_overrides(vars), unset_env_is_warning);
    warn_secrets_on_command_line(pb);
    return pb;
}

} // namespace rollback::cli
