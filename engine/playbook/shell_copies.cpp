// SPDX-License-Identifier: MIT
// The copies a shell script makes of a value handed to it (break-it 37/03), and the variables
// whose attributes evaluate what is assigned to them.
#include "playbook/code_env.hpp"
#include "playbook/script_syntax.hpp"
#include "playbook/shell_fed.hpp"

#include <algorithm>
#include <cstdint>

namespace rollback::playbook::detail {

/// The variables a script fills from fed values (`x=$N`, `local x="$1"`, `for x in "$@"`,
/// `for x;`, `printf -v x ... "$1"`, `x=$(cmd "$1")`, `${x:=$1}`, `y=x` naming a fed variable)
/// are fed too: followed until nothing new is found.
std::vector<std::string> copies(std::string_view script, std::vector<std::string> names,
                                bool positional) {
    const auto commands = detail::simple_commands(script);
    // The closer of each `(` of the text, from one pass (for `x=$(...)`).
    std::vector<size_t> match(script.size(), script.size());
    {
        std::vector<size_t> open;
        for (size_t i = 0; i < script.size(); ++i) {
            if (script[i] == '(') {
                open.push_back(i);
            } else if (script[i] == ')' && !open.empty()) {
                match[open.back()] = i;
                open.pop_back();
            }
        }
    }
    // The next `}`, `${` and backquote at or after each position (a search per `=` would be
    // quadratic in `${a=${a=...`).
    std::vector<size_t> next_close(script.size() + 3, script.size());
    std::vector<size_t> next_open = next_close, next_tick = next_close;
    for (size_t i = script.size(); i-- > 0;) {
        next_close[i] = script[i] == '}' ? i : next_close[i + 1];
        next_tick[i] = script[i] == '`' ? i : next_tick[i + 1];
        next_open[i] = script.substr(i, 2) == "${" ? i : next_open[i + 1];
    }
    static const std::vector<std::string_view> keywords{
        "{", "}", "!", "if", "then", "else", "elif", "do", "while", "until", "time"};
    for (bool grew = true; grew;) {
        grew = false;
        const Fed fed{names, positional};
        std::vector<std::string> found;
        // fed_before[i]: fed expansions that begin before i; a range holds one when it differs.
        std::vector<uint32_t> fed_before(script.size() + 1, 0);
        for (size_t i = 0; i < script.size(); ++i) {
            fed_before[i + 1] = fed_before[i] + (fed.expands_at(script, i) ? 1 : 0);
        }
        const auto fed_in = [&](size_t from, size_t to) {
            return fed_before[std::min(to, script.size())] > fed_before[from];
        };
        // NAME=$(...), NAME=`...`, ${NAME=...}, ${NAME:=...}: the raw text, as simple_commands
        // splits command substitutions apart.
        for (size_t i = 1; i + 1 < script.size(); ++i) {
            if (script[i] != '=' || !ident_char(script[i - 1])) {
                continue;
            }
            size_t b = i;
            while (b > 0 && ident_char(script[b - 1])) {
                --b;
            }
            size_t to = i + 1;
            if (b >= 2 && script.substr(b - 2, 2) == "${") {
                to = std::min(next_close[i], next_open[i + 2]);
            } else if (script.substr(i + 1, 2) == "$(") {
                to = match[i + 2];
            } else if (script[i + 1] == '`') {
                to = next_tick[i + 2];
            }
            if (ident_start(script[b]) && fed_in(i + 1, to)) {
                found.emplace_back(script.substr(b, i - b));
            }
        }
        for (size_t i = 2; i + 1 < script.size(); ++i) { // ${NAME:=...}
            if (script.substr(i, 2) != ":=" || !ident_char(script[i - 1])) {
                continue;
            }
            size_t b = i;
            while (b > 0 && ident_char(script[b - 1])) {
                --b;
            }
            const size_t to = std::min(next_close[i], next_open[i + 2]);
            if (b >= 2 && script.substr(b - 2, 2) == "${" && fed_in(i + 2, to)) {
                found.emplace_back(script.substr(b, i - b));
            }
        }
        for (const auto& words : commands) {
            static const std::vector<std::string_view> declaring{
                "local", "declare", "typeset", "export", "readonly", "integer", "nameref"};
            size_t j = 0;
            while (j < words.size() &&
                   std::find(keywords.begin(), keywords.end(), words[j]) != keywords.end()) {
                ++j;
            }
            const bool declares = j < words.size() && std::find(declaring.begin(), declaring.end(),
                                                                words[j]) != declaring.end();
            const bool any_fed = std::any_of(words.begin() + static_cast<long>(j), words.end(),
                                             [&](const std::string& w) { return fed.expands(w); });
            for (size_t k = j; k < words.size(); ++k) {
                const std::string& w = words[k];
                const size_t eq = w.find('=');
                if ((k == j || declares || words[k - 1].find('=') != std::string::npos) &&
                    eq != std::string::npos && eq > 0 && ident_start(w[0])) {
                    size_t e = 0;
                    while (e < eq && ident_char(w[e])) {
                        ++e;
                    }
                    const std::string_view value = std::string_view(w).substr(eq + 1);
                    // `y=x` with x fed: y holds the name arithmetic and ${!y} follow.
                    if (fed.expands(value) ||
                        std::find(names.begin(), names.end(), value) != names.end()) {
                        found.push_back(w.substr(0, e));
                    }
                }
                // printf -v NAME FORMAT ARGS: NAME holds what the arguments make.
                if (words[j] == "printf" && any_fed && k + 1 < words.size() && w == "-v") {
                    found.push_back(words[k + 1]);
                } else if (words[j] == "printf" && any_fed && w.starts_with("-v") && w.size() > 2) {
                    found.push_back(w.substr(2));
                }
            }
            const bool loop = j + 1 < words.size() && (words[j] == "for" || words[j] == "select");
            if (loop && j + 2 < words.size() && words[j + 2] == "in" &&
                std::any_of(words.begin() + static_cast<long>(j) + 3, words.end(),
                            [&](const std::string& w) { return fed.expands(w); })) {
                found.push_back(words[j + 1]);
            } else if (loop && positional && (j + 2 == words.size() || words[j + 2] == "do")) {
                found.push_back(words[j + 1]); // `for n; do`: the positional parameters
            }
        }
        for (auto& f : found) {
            if (std::find(names.begin(), names.end(), f) == names.end()) {
                names.push_back(std::move(f));
                grew = true;
            }
        }
    }
    return names;
}

/// The names a script gives bash's integer attribute (declare/typeset/local -i, zsh/ksh
/// `integer`) or makes namerefs (-n, `nameref`): a value assigned to them is evaluated.
std::string attributed_copy(std::string_view script, const std::vector<std::string>& fed_names,
                            const std::vector<std::string>& given) {
    for (const auto& words : detail::simple_commands(script)) {
        size_t j = 0;
        while (j < words.size() && (words[j] == "{" || words[j] == "then" || words[j] == "do")) {
            ++j;
        }
        if (j >= words.size()) {
            continue;
        }
        const std::string& b = words[j];
        bool integer = b == "integer", nameref = b == "nameref";
        if (!integer && !nameref && b != "declare" && b != "typeset" && b != "local") {
            continue;
        }
        for (size_t k = j + 1; k < words.size(); ++k) {
            const std::string& w = words[k];
            if (w.size() >= 2 && w[0] == '-') {
                integer = integer || w.find('i') != std::string::npos;
                nameref = nameref || w.find('n') != std::string::npos;
                continue;
            }
            const std::string name = w.substr(0, w.find_first_of("=+["));
            if ((integer || nameref) &&
                std::find(fed_names.begin(), fed_names.end(), name) != fed_names.end()) {
                return integer ? "an assignment to " + name +
                                     ", an integer variable (declare/typeset/local -i: "
                                     "every assignment and += is arithmetic)"
                               : "a write through the nameref " + name +
                                     " (declare -n: the variable it names is not followed)";
            }
        }
    }
    for (const std::string& n : fed_names) {
        if (is_code_env_name(n) && std::find(given.begin(), given.end(), n) == given.end()) {
            return "the value of " + n +
                   ", which programs run as code or load code from (docs/security.md)";
        }
    }
    return "";
}

} // namespace rollback::playbook::detail
