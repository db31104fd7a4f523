// SPDX-License-Identifier: MIT
#pragma once

// Internal to playbook/: how programs read their command lines (script_argument.cpp) and the
// programs that run an argument as code by a syntax of their own (program_syntax.cpp).

#include "playbook/variables.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace rollback::playbook::detail {

/// The last path component of a program name.
std::string_view basename_of(std::string_view prog);
/// sh, bash, dash, ksh, zsh, ash, mksh, posh.
bool is_shell(std::string_view prog);
/// python*, pypy*, perl*, ruby, node, php, lua*, tclsh, pwsh.
bool is_interpreter(std::string_view prog);
/// Programs that run their arguments as a command after their own options (env, timeout, nice,
/// sudo, prlimit, setpriv, ...).
bool is_wrapper(std::string_view prog);
/// The shell's -c command string after argv[j] (the shell), or 0.
size_t shell_script_after(const std::vector<std::string>& argv, size_t j);
/// The index of the code argument of an interpreter at argv[j] given as an option, or 0.
size_t interpreter_code(const std::vector<std::string>& argv, size_t j, std::string_view prog);
/// For a program that runs an argument (or the rest of its arguments) through a shell or as
/// code by a syntax of its own — watch (without -x), ssh, git (-c, --upload-pack, rebase -x,
/// submodule foreach, config alias.*), rsync -e, tar --to-command, tmux, screen, parallel, sg —
/// fills `out` (indices relative to argv) and returns true; false for any other program.
bool program_code_arguments(const std::vector<std::string>& argv, size_t j, std::string_view prog,
                            ScriptArg& out);

} // namespace rollback::playbook::detail
