// SPDX-License-Identifier: MIT
#pragma once

#include "actions/load.hpp"
#include "config/config.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace rollback::cli {

/// The playbook loader of every command (actions/load.hpp).
using actions::load_playbook;

/// --var NAME=VALUE options → overrides; a malformed one throws util::Error (exit 2).
std::map<std::string, std::string> parse_var_overrides(const std::vector<std::string>& vars);

/// Warns on stderr of each `secret = true` variable of `pb` whose value came from `--var`: a
/// command line is readable by every local user (`ps`, /proc/PID/cmdline) from the moment the
/// engine starts until it has read the playbook and wiped the value from its own argv
/// (util::hide_in_command_line), and it stays in the shell's history. The hint names the
/// environment variable or the `.env` file to use instead.
void warn_secrets_on_command_line(const playbook::Playbook& pb);

/// load_playbook with the --var options parsed (parse_var_overrides), then
/// warn_secrets_on_command_line.
playbook::Playbook load_playbook_with_vars(const std::filesystem::path& file,
                                           const std::vector<std::string>& vars,
                                           bool unset_env_is_warning = false);

/// The `[decision] playbook` of `cfg`, loaded and validated as `validate` does (an unset
/// environment variable is a warning): what `validate -c` and the monitor's start check, so a
/// missing or invalid playbook is exit 2 there, not a trigger whose run cannot start. nullopt
/// when the config names none. Throws util::Error (exit 2) when the file does not exist,
/// util::InvalidInput with the playbook's located diagnostics when it does not validate.
std::optional<playbook::Playbook> load_decision_playbook(const config::Config& cfg);

} // namespace rollback::cli
