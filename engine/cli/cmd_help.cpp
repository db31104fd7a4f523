// SPDX-License-Identifier: MIT
#include "cli/command_help.hpp"
#include "cli/commands.hpp"
#include "cli/describe.hpp"
#include "cli/options.hpp"
#include "util/error.hpp"
#include "util/exit_code.hpp"
#include "util/strings.hpp"

#include <cstdio>

namespace rollback::cli {

int cmd_help(const Args& args) {
    if (!args.empty() && args[0] == "--man") {
        std::fputs(man_page(describe_commands()).c_str(), stdout);
        return util::to_int(util::ExitCode::ok);
    }
    if (!args.empty()) {
        for (const auto& c : commands()) {
            if (c.name == args[0] && (c.run == cmd_help || c.run == cmd_version)) {
                // They parse no options: their help is the table's row and -h.
                po::options_description desc;
                desc.add_options()("help,h", "show this help");
                std::fputs(command_help(c.name, desc, {}).c_str(), stdout);
                return util::to_int(util::ExitCode::ok);
            }
            if (c.name == args[0]) {
                Args help{"--help"};
                return c.run(help);
            }
        }
    }
    if (!args.empty() && args[0] != "--help" && args[0] != "-h") {
        std::vector<std::string> names;
        for (const auto& c : commands()) {
            names.emplace_back(c.name);
        }
        const std::string guess = util::closest_match(args[0], names);
        throw util::Error("help: no command " + util::quoted(args[0]) +
                              (guess.empty() ? "" : " (did you mean " + guess + "?)"),
                          util::ExitCode::invalid, "rollback help lists the commands");
    }
    std::printf("usage: rollback COMMAND [OPTIONS]\n\ncommands:\n");
    for (const auto& c : commands()) {
        if (c.hidden) {
            continue;
        }
        std::printf("  %-44.*s %.*s\n", static_cast<int>(c.usage.size()), c.usage.data(),
                    static_cast<int>(c.summary.size()), c.summary.data());
    }
    std::printf("\n`rollback help COMMAND` shows a command's arguments, options, exit codes and an "
                "example.\n");
    std::printf(
        "\nexit codes: 0 ok, 1 run failed, 2 invalid input (nothing ran), 3 verification failed,\n"
        "            4 locked by another run, 5 rollback recommended, 6 needs attention,\n"
        "            7 state directory cannot be written, 130 interrupted\n");
    return util::to_int(util::ExitCode::ok);
}

int cmd_version(const Args&) {
    std::printf("rollback %s\n", ROLLBACK_VERSION);
    return util::to_int(util::ExitCode::ok);
}

} // namespace rollback::cli
