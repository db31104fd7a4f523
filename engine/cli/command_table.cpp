// SPDX-License-Identifier: MIT
#include "cli/commands.hpp"

namespace rollback::cli {

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"backup", "backup [list|verify] --catalog DIR [--dsn DSN]", "take, list or verify catalogued PostgreSQL backups", cmd_backup},
        {"rehearse", "rehearse -p PLAYBOOK [--dsn DSN]", "restore backups into scratch databases, verify, time; touches nothing live", cmd_rehearse},
        {"help", "help [COMMAND]", "show the commands, or one command's options", cmd_help},
        {"version", "version", "print the version", cmd_version},
    };
    return table;
}

} // namespace rollback::cli
