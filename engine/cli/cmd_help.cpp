// SPDX-License-Identifier: MIT
#include "cli/command_help.hpp"
#include "cli/commands.hpp"
#include "cli/describe.hpp"
#include "cli/options.hpp"
#include "util/error.hpp"
#include "util/exit_code.hpp"
#include "util/json_text.hpp"
#include "util/strings.hpp"

#include <boost/json/serialize.hpp>
#include <cstdio>

namespace rollback::cli {

namespace {

// The words help and version take: --json, --man (help), -h/--help, and one command name (help).
struct HelpArgs {
    bool json = false;
    bool man = false;
    bool help = false;
    std::string command;
};

HelpArgs parse_help_args(std::string_view self, const Args& args, bool takes_command) {
    HelpArgs h;
    for (const auto& a : args) {
        if (a == "--json") {
            h.json = true;
        } else if (a == "--man" && takes_command) {
            h.man = true;
        } else if (a == "--help" || a == "-h") {
            h.help = true;
        } else if (takes_command && h.command.empty() && !a.empty() && a[0] != '-') {
            h.command = a;
        } else {
            throw util::Error(std::string(self) + ": unexpected argument " + util::quoted(a),
                              util::ExitCode::invalid,
                              "rollback help " + std::string(self) + " shows what it accepts");
        }
    }
    return h;
}

void print_json(const boost::json::value& v) {
    std::string text = util::json_text(v);
    text += '\n';
    std::fputs(text.c_str(), stdout);
}

int own_help(std::string_view name) {
    // help and version parse no options of their own: their help is the table's row and -h.
    po::options_description desc;
    desc.add_options()("help,h", "show this help");
    std::fputs(command_help(name, desc, {}).c_str(), stdout);
    return util::to_int(util::ExitCode::ok);
}

const Command& find_command(std::string_view name) {
    for (const auto& c : commands()) {
        if (c.name == name) {
            return c;
        }
    }
    std::vector<std::string> names;
    for (const auto& c : commands()) {
        names.emplace_back(c.name);
    }
    const std::string guess = util::closest_match(name, names);
    throw util::Error("help: no command " + util::quoted(name) +
                          (guess.empty() ? "" : " (did you mean " + guess + "?)"),
                      util::ExitCode::invalid, "rollback help lists the commands");
}

} // namespace

int cmd_help(const Args& args) {
    const HelpArgs h = parse_help_args("help", args, true);
    if (h.man) {
        std::fputs(man_page(describe_commands()).c_str(), stdout);
        return util::to_int(util::ExitCode::ok);
    }
    if (h.help && h.command.empty()) {
        return own_help("help");
    }
    if (!h.command.empty()) {
        const Command& c = find_command(h.command);
        if (h.json) {
            for (const auto& d : describe_commands()) {
                if (d.command == &c) {
                    print_json(command_json(d));
                    return util::to_int(util::ExitCode::ok);
                }
            }
            // A hidden command (completion) is not described: its row is all there is.
            print_json(command_json(CommandDoc{&c, {}, {}, usage_subcommands(c.usage)}));
            return util::to_int(util::ExitCode::ok);
        }
        if (c.run == cmd_help || c.run == cmd_version) {
            return own_help(c.name);
        }
        Args help{"--help"};
        return c.run(help);
    }
    if (h.json) {
        print_json(commands_json(describe_commands()));
        return util::to_int(util::ExitCode::ok);
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

int cmd_version(const Args& args) {
    const HelpArgs h = parse_help_args("version", args, false);
    if (h.help) {
        return own_help("version");
    }
    if (h.json) {
        print_json(boost::json::object{{"name", "rollback"}, {"version", ROLLBACK_VERSION}});
    } else {
        std::printf("rollback %s\n", ROLLBACK_VERSION);
    }
    return util::to_int(util::ExitCode::ok);
}

} // namespace rollback::cli
