// SPDX-License-Identifier: MIT
#pragma once

#include "util/exit_code.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace rollback::cli {

using Args = std::vector<std::string>;

/// One row of the command table: drives dispatch, `rollback help` and "did you mean".
struct Command {
    std::string_view name;
    std::string_view usage;   ///< e.g. "validate FILE..."
    std::string_view summary; ///< one line
    int (*run)(const Args& args);
    std::vector<util::ExitCode> exit_codes; ///< what the command can return, for its help
    std::string_view example;               ///< one typical use, without the leading "rollback "
    bool hidden =
        false; ///< dispatched, but left out of `rollback help`, completion and the man page
};

/// The table, in the order `rollback help` shows it.
const std::vector<Command>& commands();

// One cmd_<name>.cpp per subcommand. Each returns an exit code (util::ExitCode).
int cmd_help(const Args& args);
int cmd_version(const Args& args);
int cmd_backup(const Args& args);
int cmd_rehearse(const Args& args);
int cmd_status(const Args& args);
int cmd_history(const Args& args);
int cmd_report(const Args& args);
int cmd_audit(const Args& args);
int cmd_state(const Args& args);
int cmd_validate(const Args& args);
int cmd_plan(const Args& args);
int cmd_run(const Args& args);
int cmd_resume(const Args& args);
int cmd_check(const Args& args);
int cmd_explain(const Args& args);
int cmd_deployed(const Args& args);
int cmd_trigger(const Args& args);
int cmd_approve(const Args& args);
int cmd_monitor(const Args& args);
int cmd_completion(const Args& args);

} // namespace rollback::cli
