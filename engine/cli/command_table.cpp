// SPDX-License-Identifier: MIT
#include "cli/commands.hpp"

namespace rollback::cli {

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"help", "help [COMMAND]", "show the commands, or one command's options", cmd_help},
        {"version", "version", "print the version", cmd_version},
    };
    return table;
}

} // namespace rollback::cli
