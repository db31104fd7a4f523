// SPDX-License-Identifier: MIT
#pragma once

// What a command the engine prints for a person (`rollback resume RUN`, `rollback approve RUN
// STEP`, `rollback report RUN`, ...) carries so that it finds the same state again from any
// directory — a phone-paged person in `~`, a hook, another host. The one helper every printed
// command goes through (docs/config.md "The state directory").

#include <filesystem>
#include <string>

namespace rollback::state {

/// Where a state was found (cli::StateDir, as plain data).
struct StateLocation {
    std::filesystem::path dir = {}; ///< the local state directory (absolute)
    bool shared = false;            ///< the state is in PostgreSQL; `dir` keeps this host's files
    std::filesystem::path config = {}; ///< the configuration that named the state; empty: none
    /// That configuration's own state directory (its `state_dir`); empty: not known.
    std::filesystem::path config_dir = {};
};

/// The arguments a printed command adds, each path one shell word (quoted when it must be):
/// for a shared state " -c FILE" (the configuration that names it; "" when none is known); for
/// a state directory " --state-dir DIR". With `with_config` (a command that also reads the
/// configuration: `approve DECISION_ID` starts its playbook) a state directory is " -c FILE",
/// followed by " --state-dir DIR" unless DIR is the file's own, when a configuration is known.
std::string state_args(const StateLocation& at, bool with_config = false);

/// `text` as one word of a POSIX shell command line: as it is when it holds only characters no
/// shell reads specially, else in single quotes.
std::string shell_word(const std::string& text);

} // namespace rollback::state
