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
/// python*, pypy*, perl*, ruby, node, php, lua*, tclsh, wish, pwsh, Rscript, expect.
bool is_interpreter(std::string_view prog);
/// Programs that run their arguments as a command after their own options (env, timeout, nice,
/// sudo, prlimit, setpriv, ...).
bool is_wrapper(std::string_view prog);
/// The element a wrapper at argv[p] runs as its program (program_position.cpp's table of
/// wrapper grammars: options with values, fixed operands, `--`), argv.size() when none. The
/// option values that name a program (su/runuser -s SHELL) go to `option_programs`, env's and
/// sudo's NAME=VALUE operands to `assignments`, if given.
size_t wrapped_program(const std::vector<std::string>& argv, size_t p,
                       std::vector<size_t>* option_programs = nullptr,
                       std::vector<size_t>* assignments = nullptr);
/// The wrapper's grammar is known to wrapped_program (not only its name to is_wrapper).
bool has_wrapper_syntax(std::string_view prog);
/// The shell's -c command string after argv[j] (the shell), or 0: the first operand after the
/// options (letter groups, `-o NAME` also at the end of a group, `--rcfile FILE`, `--`) when
/// some group holds `c`. The option words and values before it go to `options` if given.
size_t shell_script_after(const std::vector<std::string>& argv, size_t j,
                          std::vector<size_t>* options = nullptr);
/// The index of the code argument of an interpreter at argv[j] given as an option, or 0.
size_t interpreter_code(const std::vector<std::string>& argv, size_t j, std::string_view prog);
/// The script file the shell or interpreter at argv[j] runs: its first operand after the
/// options when no option gave the code (`bash -x FILE`, `sh -- FILE`, `python3 -u FILE`,
/// `perl -n FILE`, `node -- FILE`, `pwsh FILE`, `Rscript FILE`); 0 when the code comes from
/// -c/-e, a module (-m), a program file option (handled as code) or standard input (`-`, `-s`,
/// no operand), and for any other program.
size_t script_operand(const std::vector<std::string>& argv, size_t j);

/// What the option grammar of a program that runs code (code_grammar.cpp) says of its
/// arguments: every element that is code or not provably data.
struct CodeScan {
    std::vector<size_t> code; ///< indices (into argv) that are not data
    size_t code_value = 0;    ///< the code itself (an option's value or the program operand)
    size_t program = 0;       ///< awk/sed/jq: the operand that is the program text
    bool code_given = false;  ///< code came from the command line (-c, -e, the program operand)
    bool file_given = false;  ///< a program file was named (-f FILE)
    /// An interpreter given no code, no program file and no module: its first operand, the
    /// script it runs (`python3 -u FILE`, `perl -n FILE`, `node -- FILE`); 0 when none or `-`.
    size_t script = 0;
};
/// What the program at argv[j] itself runs as shell or code among its arguments (not looking
/// past it as a wrapper). `stops`: the program does not run the element after its options as
/// a program (a shell, an interpreter; false for env without -S, su USER, flock FILE).
ScriptArg own_arguments(const std::vector<std::string>& argv, size_t j, bool& stops);
/// Fills `out` for a program with a known grammar (python*, perl*, ruby, node, php, lua*,
/// tclsh, pwsh, awk family, sed, jq, psql, mysql, env, gdb, vim family) and returns true.
bool code_program(const std::vector<std::string>& argv, size_t j, std::string_view prog,
                  CodeScan& out);
/// `--name=VALUE` (the element itself) or `--name VALUE` (the next one) is code, `--name` also
/// abbreviated to a unique prefix as getopt_long takes it (`--to-comm`, `--use-compress-prog`);
/// a prefix that is itself an option of the program (`--checkpoint` of tar) is not.
bool long_code_option(const std::vector<std::string>& argv, size_t& i, std::string_view name,
                      ScriptArg& out);
/// tar (also the old bundled form `tar cIf PROG ...`), rsync, make (--eval, VAR=VALUE), zip
/// (-TT), scp/sftp (-o, -F, -S, -D), gcc/clang (-wrapper, -fplugin, -B, -specs): fills `out`
/// with the option values that are code and returns true; false for any other program.
bool option_program_arguments(const std::vector<std::string>& argv, size_t j, std::string_view prog,
                              ScriptArg& out);
/// The option word of `a` (`--eval`, `-exec`, `--foo-command` of `--foo-command=X`) when its
/// name says it takes a command, whatever the program; else empty.
std::string_view command_option(std::string_view a);
/// Standard input, or any other descriptor a here-string can feed (`-`, `/dev/stdin`, `<(`,
/// `/dev/fd/N`, `/proc/self/fd/N`).
bool is_stdin_path(std::string_view w);
/// The program at words[j] takes its program from standard input (stdin_programs.cpp): a
/// description, or empty.
std::string program_from_stdin(const std::vector<std::string>& words, size_t j,
                               const std::string& prog);
/// In simple_commands' words: a `$` that stood in single quotes (not expanded).
inline constexpr char k_quoted_dollar = '\x01';
/// In simple_commands' words: the `(` of an unquoted array assignment `a=(x y)`, kept in the
/// word with its elements (a quoted "a=(...)" keeps a plain `(`).
inline constexpr char k_array_paren = '\x02';
/// The simple commands of a shell script as words, quotes removed, redirections dropped:
/// rough, but never splits inside quotes. `<(` (process substitution) stays a word of its own.
std::vector<std::vector<std::string>> simple_commands(std::string_view text);
/// For a program that runs an argument (or the rest of its arguments) through a shell or as
/// code by a syntax of its own — watch (without -x), ssh, git (-c, --upload-pack, rebase -x,
/// submodule foreach, config alias.*), rsync -e, tar --to-command, tmux, screen, parallel, sg —
/// fills `out` (indices relative to argv) and returns true; false for any other program.
bool program_code_arguments(const std::vector<std::string>& argv, size_t j, std::string_view prog,
                            ScriptArg& out);

} // namespace rollback::playbook::detail
