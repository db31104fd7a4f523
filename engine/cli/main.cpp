// SPDX-License-Identifier: MIT
#include "cli/main.hpp"

#include "cli/commands.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <csignal>
#include <cstdio>
#include <exception>

namespace rollback::cli {

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    Args args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "-h" || args[0] == "--help") {
        return cmd_help({});
    }
    if (args[0] == "--version") {
        return cmd_version({});
    }
    const std::string name = args[0];
    args.erase(args.begin());
    try {
        for (const auto& c : commands()) {
            if (c.name == name) {
                int rc = c.run(args);
                log::shutdown();
                return rc;
            }
        }
        std::vector<std::string> names;
        for (const auto& c : commands()) {
            names.emplace_back(c.name);
        }
        std::string guess = util::closest_match(name, names);
        throw util::Error("unknown command " + util::quoted(name) +
                              (guess.empty() ? "" : " (did you mean " + util::quoted(guess) + "?)"),
                          util::ExitCode::invalid, "run 'rollback help' for the list of commands");
    } catch (const util::InvalidInput& e) {
        std::fputs(util::terminal_text(e.what()).c_str(), stderr);
        log::error("{}", e.what());
        log::shutdown();
        return util::to_int(e.code());
    } catch (const util::Error& e) {
        std::string msg = "rollback: error: " + std::string(e.what()) + "\n";
        if (!e.hint().empty()) {
            msg += "  hint: " + e.hint() + "\n";
        }
        std::fputs(util::terminal_text(msg).c_str(), stderr);
        log::error("{}", e.what());
        log::shutdown();
        return util::to_int(e.code());
    } catch (const std::exception& e) {
        std::string msg = "rollback: internal error: " + std::string(e.what()) + "\n";
        std::fputs(util::terminal_text(msg).c_str(), stderr);
        log::error("internal error: {}", e.what());
        log::shutdown();
        return util::to_int(util::ExitCode::run_failed);
    }
}

} // namespace rollback::cli
