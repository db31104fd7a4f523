// SPDX-License-Identifier: MIT
#include "cli/main.hpp"

#include "cli/commands.hpp"
#include "exec/core_dump.hpp"
#include "util/command_line.hpp"
#include "util/error.hpp"
#include "util/error_json.hpp"
#include "util/heap.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <cstdio>
#include <exception>

namespace rollback::cli {

namespace {

// Prints a failure the way the caller asked (`--json`: the one error object on stderr, stdout
// keeps only results) and returns its exit code.
int fail(const util::Error* e, const std::exception& ex, bool json) {
    const util::ExitCode code = e ? e->code() : util::ExitCode::run_failed;
    if (json) {
        std::fprintf(
            stderr, "%s\n",
            util::json_text(e ? util::error_json(*e) : util::internal_error_json(ex)).c_str());
    } else if (dynamic_cast<const util::InvalidInput*>(e) != nullptr) {
        std::fputs(util::terminal_text(e->what()).c_str(), stderr); // located diagnostics
    } else if (e != nullptr) {
        std::string msg = "rollback: error: " + std::string(e->what()) + "\n";
        if (!e->hint().empty()) {
            msg += "  hint: " + e->hint() + "\n";
        }
        std::fputs(util::terminal_text(msg).c_str(), stderr);
    } else {
        std::fputs(util::terminal_text("rollback: internal error: " + std::string(ex.what()) + "\n")
                       .c_str(),
                   stderr);
    }
    log::error("{}{}", e ? "" : "internal error: ", ex.what());
    log::shutdown();
    return util::to_int(code);
}

} // namespace

int main(int argc, char** argv) {
    // First, before any command reads a .env, a secret variable or a DSN (docs/security.md).
    exec::forbid_core_dumps();
    // Before any secret is registered: each one found in argv is wiped from it (util/command_line).
    util::remember_command_line(argc, argv);
    std::signal(SIGPIPE, SIG_IGN);
    Args args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "-h" || args[0] == "--help") {
        args.insert(args.begin(), "help"); // `rollback --help --json` is `rollback help --json`
        if (args.size() > 1) {
            args.erase(args.begin() + 1);
        }
    } else if (args[0] == "--version") {
        args[0] = "version";
    }
    const std::string name = args[0];
    args.erase(args.begin());
    // The commands that read a whole journal or playbook into memory at once and exit: their
    // page faults were a third of their time on a 20,000-step run (docs/benchmarks.md).
    for (const char* reader : {"status", "report", "resume", "validate", "plan"}) {
        if (name == reader) {
            util::reserve_heap_in_huge_pages(std::size_t{64} << 20);
        }
    }
    const bool json = std::find(args.begin(), args.end(), "--json") != args.end();
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
    } catch (const util::Error& e) {
        return fail(&e, e, json);
    } catch (const std::exception& e) {
        return fail(nullptr, e, json);
    }
}

} // namespace rollback::cli
