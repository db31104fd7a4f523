// SPDX-License-Identifier: MIT
// The copies a shell script makes of a value handed to it (break-it 37/03), and the variables
// whose attributes evaluate what is assigned to them.
#include "playbook/code_env.hpp"
#include "playbook/script_syntax.hpp"
#include "playbook/shell_fed.hpp"

#include <algorithm>
#include <cstdint>
#include <unordered_set>

namespace rollback::playbook::detail {

namespace {

/// `read` and `mapfile`/`readarray` fill their variables from standard input — which a
/// here-string, a redirection or a pipe may feed from a value (`read n <<< "$1"`,
/// `printf %s "$1" | { read n; ... }`): the words the commands are split into keep no
/// redirection, so every variable they fill counts as fed (sound, not exact: one read from a
/// file is followed too).
void read_names(const std::vector<std::string>& words, size_t j, std::vector<std::string>& out,
                std::string& unfollowed) {
    const std::string& b = words[j];
    const bool read = b == "read";
    if (b == "select") {
        out.emplace_back("REPLY"); // the line select reads from its input
        return;
    }
    if (!read && b != "mapfile" && b != "readarray") {
        return;
    }
    // Options that take a value (bash 5): read -a NAME (the array is a name too) -d -i -n -N
    // -p -t -u; mapfile -d -n -O -s -u -C -c.
    const std::string_view with_value = read ? "adinNptu" : "dnOsuCc";
    bool named = false;
    for (size_t k = j + 1; k < words.size(); ++k) {
        const std::string& w = words[k];
        if (w == "--") {
            continue;
        }
        if (w.size() >= 2 && w[0] == '-') {
            const char opt = w.back();
            if (with_value.find(opt) != std::string_view::npos) {
                if (read && opt == 'a' && k + 1 < words.size()) {
                    out.push_back(words[k + 1]);
                    named = true;
                }
                ++k;
            }
            continue;
        }
        if (!w.empty() && ident_start(w[0])) {
            out.push_back(w.substr(
                0, w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789_")));
            named = true;
        } else if (w.find('$') != std::string::npos && unfollowed.empty()) {
            // `read "$@"`, `read -r "$name"`: which variable it fills is not in the text.
            unfollowed = b + " " + w;
            named = true;
        }
    }
    if (!named) {
        out.emplace_back(read ? "REPLY" : "MAPFILE");
    }
}

} // namespace

/// The variables a script fills from fed values (`x=$N`, `local x="$1"`, `for x in "$@"`,
/// `for x;`, `printf -v x ... "$1"`, `x=$(cmd "$1")`, `${x:=$1}`, `y=x` naming a fed variable)
/// are fed too: followed until nothing new is found. A name counts as fed from where it is found
/// on, in the same pass (a chain `a1=$1; a2=$a1; ...` written in order is one pass); at most
/// k_max_passes passes (a chain written backwards takes one per link): past them every variable
/// the script assigns counts as fed — sound, and the work stays within passes × text.
std::vector<std::string> copies(std::string_view script, std::vector<std::string> names,
                                bool positional, std::string* unfollowed) {
    const auto commands = detail::simple_commands(script);
    std::string dynamic; // a builtin that fills a variable named by an expansion
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
    constexpr int k_max_passes = 32;
    std::unordered_set<std::string> index(names.begin(), names.end());
    bool grew = true;
    for (int pass = 0; grew; ++pass) {
        grew = false;
        // Past the bound, one last pass in which every variable counts as fed.
        const Fed fed{names, positional, &index, pass >= k_max_passes};
        const auto add = [&](std::string name) {
            if (!name.empty() && index.insert(name).second) {
                names.push_back(std::move(name));
                grew = !fed.every;
            }
        };
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
        for (size_t i = 1; i + 2 < script.size(); ++i) {
            // NAME=, NAME+= (`x+=$(printenv N)`)
            const size_t name_end = script[i - 1] == '+' ? i - 1 : i;
            if (script[i] != '=' || name_end == 0 || !ident_char(script[name_end - 1])) {
                continue;
            }
            size_t b = name_end;
            while (b > 0 && ident_char(script[b - 1])) {
                --b;
            }
            // The value, quoted or not: `x="$(cmd)"`.
            const size_t v = script[i + 1] == '"' ? i + 2 : i + 1;
            size_t to = i + 1;
            if (b >= 2 && script.substr(b - 2, 2) == "${") {
                to = std::min(next_close[i], next_open[i + 2]);
            } else if (script.substr(v, 2) == "$(") {
                to = match[v + 1];
            } else if (v < script.size() && script[v] == '`') {
                to = next_tick[v + 1];
            }
            if (ident_start(script[b]) && (fed.every || fed_in(i + 1, to))) {
                add(std::string(script.substr(b, name_end - b)));
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
            if (b >= 2 && script.substr(b - 2, 2) == "${" && (fed.every || fed_in(i + 2, to))) {
                add(std::string(script.substr(b, i - b)));
            }
        }
        // `for NAME in ... $(...)`: the raw text, as simple_commands splits `$(` apart.
        for (size_t i = script.find("for "); i != std::string_view::npos;
             i = script.find("for ", i + 1)) {
            if (i > 0 && ident_char(script[i - 1])) {
                continue;
            }
            size_t b = script.find_first_not_of(" \t", i + 4);
            size_t e = b;
            while (e < script.size() && ident_char(script[e])) {
                ++e;
            }
            size_t in = script.find_first_not_of(" \t", e);
            if (b == std::string_view::npos || e == b || in == std::string_view::npos ||
                script.substr(in, 3) != "in " ||
                index.count(std::string(script.substr(b, e - b))) != 0) {
                continue;
            }
            size_t to = in + 3; // the list ends at `;` or a line break outside $(...)
            while (to < script.size() && script[to] != ';' && script[to] != '\n') {
                to = script.substr(to, 2) == "$(" ? std::min(match[to + 1], script.size()) : to;
                ++to;
            }
            if (fed.every || fed_in(in, to)) {
                add(std::string(script.substr(b, e - b)));
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
            // The command itself, past assignment prefixes and `command`/`builtin` (`builtin
            // read x`, `command printf -v x`, `command declare x=$N`).
            const size_t c = command_word(words);
            const std::string none;
            const std::string& cmd = c < words.size() ? words[c] : none;
            const bool declares =
                std::find(declaring.begin(), declaring.end(), cmd) != declaring.end();
            const bool any_fed =
                fed.every || std::any_of(words.begin() + static_cast<long>(j), words.end(),
                                         [&](const std::string& w) { return fed.expands(w); });
            if ((cmd == "cd" || cmd == "pushd" || cmd == "popd") && any_fed) {
                // The directory a value names: the shell's own record of it.
                add("PWD");
                add("OLDPWD");
                add("DIRSTACK");
            }
            if (cmd == "getopts" && (positional || any_fed) && c + 1 < words.size()) {
                add("OPTARG"); // the option's value, from the positional parameters
                add(words.size() > c + 2 ? words[c + 2] : std::string());
            }
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
                    if (fed.every || fed.expands(value) || index.count(std::string(value)) != 0) {
                        add(w.substr(0, e));
                    }
                }
                // printf -v NAME FORMAT ARGS: NAME holds what the arguments make.
                if (cmd == "printf" && any_fed && k + 1 < words.size() && w == "-v") {
                    add(words[k + 1]);
                } else if (cmd == "printf" && any_fed && w.starts_with("-v") && w.size() > 2) {
                    add(w.substr(2));
                }
                if (((cmd == "printf" && any_fed && k > c && words[k - 1] == "-v") ||
                     (declares && any_fed && k > c && !w.starts_with("-"))) &&
                    w.find('$') != std::string::npos &&
                    w.find('$') < std::min(w.find('='), w.size()) && dynamic.empty()) {
                    dynamic = cmd + " " + w; // `printf -v "$name"`, `declare "$name=$N"`
                }
            }
            if (c < words.size()) {
                std::vector<std::string> read;
                read_names(words, c, read, dynamic);
                for (auto& r : read) {
                    add(std::move(r));
                }
            }
            const bool loop = j + 1 < words.size() && (words[j] == "for" || words[j] == "select");
            if (loop && j + 2 < words.size() && words[j + 2] == "in" &&
                (fed.every || std::any_of(words.begin() + static_cast<long>(j) + 3, words.end(),
                                          [&](const std::string& w) { return fed.expands(w); }))) {
                add(words[j + 1]);
            } else if (loop && (positional || fed.every) &&
                       (j + 2 == words.size() || words[j + 2] == "do")) {
                add(words[j + 1]); // `for n; do`: the positional parameters
            }
        }
        // What bash fills by itself: `$_` (the last argument of the command before), the
        // groups of `[[ $x =~ (re) ]]`, the positional parameters again in BASH_ARGV.
        if (fed.every || fed_before[script.size()] > 0) {
            add("_");
            if (script.find("=~") != std::string_view::npos) {
                add("BASH_REMATCH");
            }
        }
        if (positional) {
            add("BASH_ARGV");
        }
    }
    if (unfollowed != nullptr) {
        *unfollowed = dynamic;
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
        j = command_word(words, j); // `command declare -i x`, `builtin local -i x`
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
    // bash's own integer variables: an assignment to them is arithmetic, as to `declare -i`.
    static const std::vector<std::string_view> integers{"OPTIND", "RANDOM", "SRANDOM", "BASHPID",
                                                        "HISTCMD"};
    for (const std::string& n : fed_names) {
        if (std::find(integers.begin(), integers.end(), n) != integers.end()) {
            return "an assignment to " + n +
                   ", an integer variable of bash (every assignment is "
                   "arithmetic)";
        }
    }
    for (const std::string& n : fed_names) {
        if (is_code_env_name(n) && std::find(given.begin(), given.end(), n) == given.end()) {
            return "the value of " + n + ", which programs run as code or load code from (" +
                   code_env_reason(n) + "; docs/security.md)";
        }
    }
    return "";
}

} // namespace rollback::playbook::detail
