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
/// (when `positional`): assignments, for/select, printf -v, $(...), ${x:=...}, `y=x`.
std::vector<std::string> copies(std::string_view script, std::vector<std::string> names,
                                bool positional);
/// A fed name (`fed_names`) with the integer or nameref attribute, or an environment name that
/// is code and not one of the `given` ones: a description, or empty.
std::string attributed_copy(std::string_view script, const std::vector<std::string>& fed_names,
                            const std::vector<std::string>& given);

} // namespace rollback::playbook::detail
