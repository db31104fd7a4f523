// SPDX-License-Identifier: MIT
#pragma once

// Internal to playbook/: the variables that hold a value handed to a shell script (shell_fed.cpp),
// read by shell_values.cpp and shell_copies.cpp.

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace rollback::playbook::detail {

bool ident_start(char c);
bool ident_char(char c);
/// The end of the bracketed text opened at `open` (depth counted), or the end of `t`.
size_t closing(std::string_view t, size_t open, char o, char c);
/// `NAME=...`, `NAME+=...`, `NAME[...]=...` (simple_commands' words): an assignment word.
bool assignment_word(std::string_view w);
/// The word a simple command runs, from words[j] on: past keywords (`{`, `!`, `if`, `do`,
/// `time -p`, ...), assignment prefixes (`IFS= read`) and the prefixes that run the next word as
/// a builtin or a command however nested — `command` (with -p, --; `command -v`/`-V` only look a
/// name up and are the command themselves), `builtin` (--), zsh's `noglob`, `nocorrect`, `-`:
/// `command builtin read x` runs read. words.size() when none. With `prefixes` false, the
/// first of those prefixes (or the command).
size_t command_word(const std::vector<std::string>& words, size_t j = 0, bool prefixes = true);

/// The names that hold a fed value (environment names and their copies) and whether the
/// positional parameters do.
struct Fed {
    const std::vector<std::string>& names;
    bool positional;
    /// The same names for lookups in constant time (copies() keeps it); null: `names` is
    /// searched. A script with thousands of copies would otherwise cost text × names.
    const std::unordered_set<std::string>* index = nullptr;
    /// Every variable counts as fed (the bound on copies()' passes was reached).
    bool every = false;

    bool name(std::string_view n) const;
    /// An expansion of a fed name in `t` ($N, ${N...}, ${!N}, ${#N}, $1, $@, ${(e)N}).
    bool expands(std::string_view t) const;
    /// The expansion that begins at t[i] (a `$`) is one of a fed name.
    bool expands_at(std::string_view t, size_t i) const;
    /// A command word the value chooses: the expansion is the program's name, not only the
    /// directory of a fixed one.
    bool names_program(std::string_view w) const;
    /// In an arithmetic expression a bare name is evaluated too: `(( N + 1 ))`.
    bool in_arithmetic(std::string_view t) const;
};

/// `names` and the variables the script fills from them or from its positional parameters
/// (when `positional`): assignments, for/select, printf -v, $(...), ${x:=...}, `y=x`, read,
/// mapfile, getopts (OPTARG), cd/pushd (PWD, OLDPWD, DIRSTACK), and what bash fills by itself
/// (`_`, BASH_REMATCH, BASH_ARGV). `unfollowed`, if given, is set to the builtin that fills a
/// variable named by an expansion (`read "$@"`, `printf -v "$n"`): then any variable may hold
/// the value.
std::vector<std::string> copies(std::string_view script, std::vector<std::string> names,
                                bool positional, std::string* unfollowed = nullptr);
/// The variable shell_outputs.cpp marks a command substitution with when its output may hold
/// a fed value (`$(: $ROLLBACK_FED_OUTPUT; printenv N)`): a fed name of its own.
inline constexpr std::string_view k_output_marker = "ROLLBACK_FED_OUTPUT";
/// `script` with every command substitution whose output may hold a fed value although its text
/// expands none marked (k_output_marker): one that prints the environment or reads it
/// (printenv, env, declare -p, ENVIRON, os.environ, /proc/self/environ, the name of an exported
/// fed variable), one that calls a function of the script, and all of them when the script
/// writes a fed value to a pipe, a file, a here-string or here-document. `fed_names`: copies()
/// of `names` in `script`, replaced by those in the marked text when one is marked (copies()
/// sets `unfollowed` then). `why` says why the first one was marked; the script itself when
/// none is.
std::string mark_fed_outputs(std::string_view script, const std::vector<std::string>& names,
                             bool positional, std::vector<std::string>& fed_names,
                             std::string& unfollowed, std::string& why);
/// A command substitution in the command position (`$(printf %s "$N") arg`, `` `...` ``,
/// after `;`, `|`, `then`, `exec`, a wrapper) whose text expands a fed name: a description.
std::string substitution_command(std::string_view t, const Fed& fed);
/// A fed name (`fed_names`) with the integer or nameref attribute, or an environment name that
/// is code and not one of the `given` ones: a description, or empty.
std::string attributed_copy(std::string_view script, const std::vector<std::string>& fed_names,
                            const std::vector<std::string>& given);

} // namespace rollback::playbook::detail
