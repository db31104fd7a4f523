// SPDX-License-Identifier: MIT
#include "actions/process_step.hpp"

#include "util/duration.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <filesystem>

namespace rollback::actions {

std::vector<std::string> command_argv(const playbook::Step& step) {
    if (step.shell && !step.argv.empty()) {
        return {"/bin/sh", "-c", util::join(step.argv, " ")};
    }
    return step.argv;
}

exec::Command make_command(const Context& ctx, std::vector<std::string> argv) {
    exec::Command cmd;
    cmd.argv = std::move(argv);
    cmd.cwd = ctx.step.cwd.empty() ? ctx.playbook.directory.string() : ctx.step.cwd;
    cmd.env = ctx.step.env;
    cmd.timeout = ctx.step.timeout;
    if (ctx.verbose && ctx.progress) {
        auto progress = ctx.progress;
        cmd.on_output = [progress](std::string_view chunk, bool) {
            for (const auto& line : util::split(util::trim(chunk), '\n')) {
                progress(line);
            }
        };
    }
    return cmd;
}

std::string describe_command(const std::vector<std::string>& argv, const std::string& cwd) {
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) {
            out += ' ';
        }
        bool plain =
            !a.empty() && a.find_first_of(" \t\n\"'\\$`;&|<>(){}*?#~") == std::string::npos;
        out += plain ? a : util::quoted(a);
    }
    if (!cwd.empty()) {
        out += "  (in " + cwd + ")";
    }
    return out;
}

std::vector<Check> check_command(const std::vector<std::string>& argv, const std::string& cwd) {
    std::vector<Check> checks;
    if (argv.empty()) {
        checks.push_back(
            {false, "program", "argv is empty", "give argv = [\"program\", \"arg\", ...]"});
        return checks;
    }
    auto path = util::find_program(argv[0]);
    if (path.empty()) {
        checks.push_back({false, "program " + argv[0],
                          argv[0].find('/') != std::string::npos
                              ? "does not exist or is not executable"
                              : "not found in PATH",
                          "install it or give its absolute path"});
    } else {
        checks.push_back({true, "program " + path.string() + " is executable", {}, {}});
    }
    if (!cwd.empty()) {
        std::error_code ec;
        if (std::filesystem::is_directory(cwd, ec)) {
            checks.push_back({true, "cwd " + cwd + " exists", {}, {}});
        } else {
            checks.push_back({false, "cwd " + cwd, "is not a directory", {}});
        }
    }
    return checks;
}

std::vector<Check> check_command(const Context& ctx, const std::vector<std::string>& argv,
                                 const std::string& cwd) {
    if (ctx.host.empty() || argv.empty()) {
        return check_command(argv, cwd);
    }
    // Exit 3: no such directory; 4: no such program, or not an executable regular file (a
    // directory, a file without x, a shell builtin); the program's path on stdout otherwise.
    // The same lookup as the remote wrapper's (remote/wrapper.cpp), from the step's cwd.
    exec::Command cmd;
    cmd.argv = {"/bin/sh",
                "-c",
                "if [ -n \"$2\" ] && [ \"$2\" != . ]; then cd \"$2\" 2>/dev/null || exit 3; fi; "
                "v=; case $1 in */*) v=$1;; *) set -f; IFS=:; for d in $PATH; do "
                "[ -f \"${d:-.}/$1\" ] && [ -x \"${d:-.}/$1\" ] && { v=${d:-.}/$1; break; }; "
                "done;; esac; "
                "[ -n \"$v\" ] && [ -f \"$v\" ] && [ -x \"$v\" ] || exit 4; "
                "printf '%s\\n' \"$v\"",
                "rollback-check",
                argv[0],
                cwd};
    // The lookup gets the step's timeout (at least 30 s, at most 5 minutes): a host that answers
    // as slowly as a loaded machine does would run the step in that time too (20 hosts at once
    // on a loaded 2-core machine took more than 30 s: tests/bench/fleet_bench.sh).
    cmd.timeout = std::clamp<util::Millis>(ctx.step.timeout, std::chrono::seconds(30),
                                           std::chrono::minutes(5));
    exec::Outcome o = ctx.runner.run(cmd);
    const std::string on = " on host " + ctx.host;
    std::vector<Check> checks;
    if (o.ending == exec::Ending::exited && o.exit_code == 3) {
        checks.push_back({false, "cwd " + cwd + on, "is not a directory", {}});
    } else if (o.ending == exec::Ending::exited && o.exit_code == 4) {
        checks.push_back({false, "program " + argv[0] + on,
                          argv[0].find('/') != std::string::npos
                              ? "does not exist or is not executable"
                              : "not found in PATH",
                          "install it on the host or give its absolute path"});
    } else if (!o.ok()) {
        checks.push_back({false, "program " + argv[0] + on, result_of(o).summary, {}});
    } else {
        checks.push_back(
            {true,
             "program " + std::string(util::trim(o.stdout_tail)) + " is executable" + on,
             {},
             {}});
    }
    return checks;
}

Result result_of(const exec::Outcome& o) {
    Result r;
    r.exit_code = o.exit_code;
    std::string out = o.stdout_tail;
    if (!o.stderr_tail.empty()) {
        if (!out.empty() && out.back() != '\n') {
            out += '\n';
        }
        out += o.stderr_tail;
    }
    r.output_tail = util::tail(out, 4096);
    switch (o.ending) {
    case exec::Ending::exited:
        r.status = o.exit_code == 0 ? Status::succeeded : Status::failed;
        r.summary = "exit " + std::to_string(o.exit_code);
        break;
    case exec::Ending::signaled:
        r.status = Status::failed;
        r.summary = "killed by signal " + std::to_string(o.signal);
        break;
    case exec::Ending::timed_out:
        r.status = Status::timed_out;
        r.summary = "timed out after " + util::format_duration(o.duration);
        break;
    case exec::Ending::interrupted:
        r.status = Status::interrupted;
        r.summary = "interrupted";
        break;
    case exec::Ending::failed_to_start:
        r.status = Status::failed;
        r.summary = o.error;
        break;
    }
    return r;
}

} // namespace rollback::actions
