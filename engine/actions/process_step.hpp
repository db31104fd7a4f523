// SPDX-License-Identifier: MIT
#pragma once

// What every action that runs a child process shares: building the Command from the step,
// preflight of the program and cwd, and turning an exec::Outcome into a Result.

#include "actions/action.hpp"

#include <string>
#include <vector>

namespace rollback::actions {

/// The argv the step runs: its argv, or {"/bin/sh", "-c", argv[0]} when `shell = true`.
std::vector<std::string> command_argv(const playbook::Step& step);

/// A Command for `argv` with the step's cwd, env and timeout, output streamed to ctx.progress
/// when verbose.
exec::Command make_command(const Context& ctx, std::vector<std::string> argv);

/// "echo hi  (in /srv/app)" — argv elements quoted only when they need it.
std::string describe_command(const std::vector<std::string>& argv, const std::string& cwd);

/// Read-only: the program exists and is executable; the cwd exists.
std::vector<Check> check_command(const std::vector<std::string>& argv, const std::string& cwd);
/// The same where the step runs: on ctx.host (if set) through ctx.runner, with one program
/// (`command -v`, `test -d`), each problem naming the host; else check_command above.
std::vector<Check> check_command(const Context& ctx, const std::vector<std::string>& argv,
                                 const std::string& cwd);

/// exited 0 → succeeded; timed_out / interrupted map across; anything else failed, with a summary
/// such as "exit 3", "killed by signal 9", "cannot execute 'x': No such file or directory".
Result result_of(const exec::Outcome& outcome);

} // namespace rollback::actions
