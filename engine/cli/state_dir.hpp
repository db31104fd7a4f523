// SPDX-License-Identifier: MIT
#pragma once

// Where the state lives (journals, the run lock, decision records, approvals, logs): one rule for
// every command, so a person's run, the monitor's, `trigger` and `approve` of one target share one
// lock and every reading command sees every run (docs/config.md "The state directory").

#include "cli/options.hpp"
#include "config/config.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace rollback::cli {

/// The configuration file by the documented search: `-c FILE` (util::Error, exit 2, when it does
/// not exist), else `./rollback.toml`, else `rollback.toml` in the playbook's directory or the one
/// above it (when `playbook` is not empty). nullopt when there is none.
std::optional<std::filesystem::path> find_config(const CommonOptions& common,
                                                 const std::filesystem::path& playbook);

struct StateDir {
    std::filesystem::path dir; ///< absolute, normalized
    std::string origin;        ///< how it was chosen, for messages: "--state-dir", …
};

/// The rule, first match wins: `--state-dir DIR`; `$ROLLBACK_STATE_DIR`; the `[target] state_dir`
/// of the config find_config() finds (default `.rollback/` beside it); `.rollback/` beside the
/// playbook; `./.rollback`. Loads the config only when the first two do not decide; a config
/// that does not load throws its util::InvalidInput (exit 2): the state cannot be known.
StateDir resolve_state_dir(const CommonOptions& common, const std::filesystem::path& playbook);

/// The same rule for a command that loaded the config already (`cfg` is the one find_config()
/// finds).
StateDir resolve_state_dir(const CommonOptions& common, const config::Config& cfg);

} // namespace rollback::cli
