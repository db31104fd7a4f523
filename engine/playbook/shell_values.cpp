// SPDX-License-Identifier: MIT
// Values handed to a shell script the way docs/playbook.md prescribes — env = { N = "{{v}}" }
// read as "$N", or an argument after the command string read as "$1" — stay data only where
// the shell expands them as words. Where bash, ksh or zsh evaluate a variable's value again
// (arithmetic, names, indirection) or run it as a command, the value would be code.
#include "playbook/code_env.hpp"
#include "playbook/script_syntax.hpp"
#include "playbook/variables.hpp"

#include <algorithm>
#include <cctype>

namespace rollback::playbook {

namespace {

bool ident_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}

bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

/// The end of the bracketed text opened at `open` (depth counted), or the end of `t`.
size_t closing(std::string_view t, size_t open, char o, char c) {
    int depth = 0;
    for (size_t i = open; i < t.size(); ++i) {
        depth += t[i] == o ? 1 : t[i] == c ? -1 : 0;
        if (depth == 0) {
            return i;
        }
    }
    return t.size();
}

struct Fed {
    const std::vector<std::string>& names;
    bool positional;

    bool name(std::string_view n) const {
        if (positional && !n.empty() &&
            (n == "@" || n == "*" || (n != "0" && std::all_of(n.begin(), n.end(), [](char c) {
                                          return std::isdigit(static_cast<unsigned char>(c)) != 0;
                                      })))) {
            return true;
        }
        return std::find(names.begin(), names.end(), n) != names.end();
    }

    /// An expansion of a fed name in `t` ($N, ${N...}, ${!N}, ${#N}, $1, $@, ${(e)N}).
    bool expands(std::string_view t) const {
        for (size_t i = 0; i + 1 < t.size(); ++i) {
            if (expands_at(t, i)) {
                return true;
            }
        }
        return false;
    }

    /// The expansion that begins at t[i] (a `$`) is one of a fed name.
    bool expands_at(std::string_view t, size_t i) const {
        if (i + 1 >= t.size() || t[i] != '$') {
            return false;
        }
        size_t k = i + 1;
        if (t[k] == '{') {
            ++k;
            if (k < t.size() && t[k] == '(') { // zsh flags: ${(e)N}, ${(P)N}
                k = t.find(')', k);
                k = k == std::string_view::npos ? t.size() : k + 1;
            }
            while (k < t.size() && (t[k] == '!' || t[k] == '#')) {
                ++k;
            }
        }
        // zsh's ${~N}, $~N (a glob pattern), ${=N}, ${^N}: still an expansion of N.
        while (k < t.size() && (t[k] == '~' || t[k] == '=' || t[k] == '^')) {
            ++k;
        }
        size_t e = k;
        if (e < t.size() && (t[e] == '@' || t[e] == '*')) {
            ++e;
        } else if (e < t.size() && std::isdigit(static_cast<unsigned char>(t[e])) != 0) {
            // $1 is one digit; ${10} all of them.
            e = t[i + 1] == '{' ? t.find_first_not_of("0123456789", e) : e + 1;
            e = e == std::string_view::npos ? t.size() : e;
        } else {
            while (e < t.size() && ident_char(t[e])) {
                ++e;
            }
        }
        return e > k && name(t.substr(k, e - k));
    }

    /// A command word the value chooses: the expansion is the program's name, not only the
    /// directory of a fixed one (`"$D"/bin/tool` runs tool; `$N`, `/opt/$N`, "$@" run the value).
    bool names_program(std::string_view w) const {
        if (!expands(w)) {
            return false;
        }
        size_t last = w.rfind('$');
        size_t after = last + 1;
        if (after < w.size() && w[after] == '{') {
            after = closing(w, after, '{', '}') + 1;
        }
        return after >= w.size() || w.find('/', after) == std::string_view::npos;
    }

    /// In an arithmetic expression a bare name is evaluated too: `(( N + 1 ))`.
    bool in_arithmetic(std::string_view t) const {
        if (expands(t)) {
            return true;
        }
        for (size_t i = 0; i < t.size(); ++i) {
            if (!ident_start(t[i]) || (i > 0 && (ident_char(t[i - 1]) || t[i - 1] == '$'))) {
                continue;
            }
            size_t e = i;
            while (e < t.size() && ident_char(t[e])) {
                ++e;
            }
            if (std::find(names.begin(), names.end(), t.substr(i, e - i)) != names.end()) {
                return true;
            }
            i = e;
        }
        return false;
    }
};

/// Arithmetic and subscript contexts in the raw text (quotes are not looked at: a nested
/// command string counts too).
std::string arithmetic_use(std::string_view t, const Fed& fed) {
    for (size_t i = 0; i < t.size(); ++i) {
        if (t.substr(i, 2) == "((") {
            const size_t end = closing(t, i, '(', ')');
            if (fed.in_arithmetic(t.substr(i, end - i))) {
                return "an arithmetic expression (( )) / $(( ))";
            }
        } else if (t.substr(i, 2) == "$[") {
            const size_t end = closing(t, i + 1, '[', ']');
            if (fed.in_arithmetic(t.substr(i + 2, end - i - 2))) {
                return "an arithmetic expression $[ ]";
            }
        } else if (t.substr(i, 2) == "[[") {
            const size_t end = t.find("]]", i);
            const std::string_view test = t.substr(i, end == t.npos ? t.npos : end - i);
            static const std::vector<std::string_view> ops{" -eq ", " -ne ", " -lt ", " -le ",
                                                           " -gt ", " -ge ", " -v ",  " -R "};
            const bool evaluates = std::any_of(ops.begin(), ops.end(), [&](std::string_view op) {
                return test.find(op) != std::string_view::npos;
            });
            if (evaluates && fed.in_arithmetic(test)) {
                return "[[ ]] with -eq/-ne/-lt/-le/-gt/-ge or -v (its operands are evaluated)";
            }
        } else if (t[i] == '[' && i > 0 && ident_char(t[i - 1])) {
            // An indexed array's subscript: ${a[$N]}, a[$N]=x, ${#a[N]} (a name before it:
            // not `\033[2J`).
            size_t start = i;
            while (start > 0 && ident_char(t[start - 1])) {
                --start;
            }
            const size_t end = closing(t, i, '[', ']');
            if (ident_start(t[start]) && end < t.size() &&
                fed.in_arithmetic(t.substr(i + 1, end - i - 1))) {
                return "an array subscript";
            }
        } else if (t.substr(i, 2) == "$~" && fed.expands_at(t, i)) {
            return "a zsh glob pattern $~name (a glob qualifier (e:...:) or (+cmd) in the value "
                   "runs code)";
        } else if (t.substr(i, 2) == "${") {
            size_t k = i + 2;
            while (k < t.size() && (ident_char(t[k]) || t[k] == '@' || t[k] == '*')) {
                ++k;
            }
            if (k + 1 < t.size() && t[k] == ':' &&
                std::string_view("-=?+").find(t[k + 1]) == std::string_view::npos) {
                const size_t end = closing(t, i + 1, '{', '}');
                if (fed.in_arithmetic(t.substr(k + 1, end - k - 1))) {
                    return "a substring offset or length ${v:offset:length}";
                }
            }
            if (t.substr(i + 2, 1) == "~" && fed.expands_at(t, i)) {
                return "a zsh glob pattern ${~name} (a glob qualifier (e:...:) or (+cmd) in "
                       "the value runs code)";
            }
            if (const size_t end = closing(t, i + 1, '{', '}');
                end < t.size() && t.substr(end - 2, 2) == "@P" &&
                fed.expands_at(std::string(t.substr(i, end - i - 2)) + "}", 0)) {
                return "a prompt expansion ${name@P} (the value's $(...) and `...` run)";
            }
            if (t.substr(i + 2, 1) == "!" && fed.expands("$" + std::string(t.substr(i + 3)))) {
                return "an indirect expansion ${!name}";
            }
            if (t.substr(i + 2, 1) == "(" && fed.expands(t.substr(i))) {
                return "a zsh expansion flag ${(...)name}";
            }
        }
    }
    return "";
}

bool is_option(const std::string& w) {
    return w.size() >= 2 && (w[0] == '-' || w[0] == '+');
}

/// Builtins that take variable names (or code) as arguments: where a fed value there is
/// evaluated. `words[j]` is the builtin.
std::string name_use(const std::vector<std::string>& words, size_t j, const Fed& fed) {
    const std::string& b = words[j];
    auto any_from = [&](size_t k) {
        return std::any_of(words.begin() + static_cast<long>(k), words.end(),
                           [&](const std::string& w) { return fed.expands(w); });
    };
    if (b == "eval" || b == "let" || b == "unset" || b == "mapfile" || b == "readarray" ||
        b == "getopts" || b == "source" || b == "." || b == "trap" || b == "alias") {
        return any_from(j + 1) ? b + " (its arguments are names, arithmetic or code)" : "";
    }
    // Builtins whose arguments become code or a program: compgen/complete -W (each word is
    // expanded again, $(...) included), -C and -F (a command, a function), hash -p (the program
    // a name runs), enable -f (a shared object loaded), bind -x, fc -e, zsh's sched and
    // zmodload.
    static const std::vector<std::string_view> coding{
        "compgen", "complete", "compopt", "hash", "enable", "bind", "fc", "sched", "zmodload"};
    if (std::find(coding.begin(), coding.end(), b) != coding.end()) {
        return any_from(j + 1) ? b + " (its arguments become code or the program a name runs)" : "";
    }
    if (b == "printf" || b == "wait") {
        for (size_t k = j + 1; k < words.size(); ++k) {
            if ((words[k] == "-v" || words[k] == "-p") && k + 1 < words.size() &&
                fed.expands(words[k + 1])) {
                return b + " " + words[k] + " (a variable name)";
            }
            if ((words[k].starts_with("-v") || words[k].starts_with("-p")) &&
                fed.expands(words[k])) {
                return b + " -v (a variable name)";
            }
        }
        return "";
    }
    if (b == "read") {
        for (size_t k = j + 1; k < words.size(); ++k) {
            if (words[k] == "-d" || words[k] == "-i" || words[k] == "-p") {
                ++k; // a delimiter, default text or prompt: text
            } else if (fed.expands(words[k])) {
                return "read (its arguments are variable names)";
            }
        }
        return "";
    }
    if (b == "test" || b == "[") {
        for (size_t k = j + 1; k + 1 < words.size(); ++k) {
            if ((words[k] == "-v" || words[k] == "-R") && fed.expands(words[k + 1])) {
                return b + " -v (a variable name, its subscript evaluated)";
            }
        }
        return "";
    }
    if (b == "declare" || b == "typeset" || b == "local" || b == "export" || b == "readonly") {
        bool evaluated_values = false; // -i: arithmetic, -n: a name
        for (size_t k = j + 1; k < words.size(); ++k) {
            const std::string& w = words[k];
            if (is_option(w)) {
                evaluated_values = evaluated_values || w.find_first_of("in") != std::string::npos;
                continue;
            }
            const size_t eq = w.find('=');
            if (eq != std::string::npos && w.compare(eq, 2, "=(") == 0 &&
                fed.expands(std::string_view(w).substr(eq))) {
                // `declare -a "a=($N)"`: the argument, expanded, is parsed again as a
                // compound assignment (an unquoted a=(...) keeps its `(` apart: k_array_paren).
                return b + " with a quoted compound assignment \"name=(...)\" (parsed again "
                           "as shell words: the value's $(...) runs)";
            }
            if (fed.expands(evaluated_values || eq == std::string::npos
                                ? std::string_view(w)
                                : std::string_view(w).substr(0, eq))) {
                return b + (evaluated_values ? " -i/-n (the value is arithmetic or a name)"
                                             : " (a variable name)");
            }
        }
    }
    return "";
}

/// Words that run the word after them (and their own options) as a command.
bool runs_next(const std::vector<std::string>& words, size_t j) {
    const std::string_view w = detail::basename_of(words[j]);
    if (w == "command") {
        return std::none_of(words.begin() + static_cast<long>(j), words.end(),
                            [](const std::string& a) { return a == "-v" || a == "-V"; });
    }
    return w == "exec" || w == "builtin" || w == "coproc" || detail::is_wrapper(w);
}

/// `NAME=VALUE` with NAME an environment name that is code (code_env.cpp) and VALUE a fed
/// expansion, anywhere in a command: an assignment prefix (`BASH_ENV="$1" bash -c x`), a
/// plain assignment (`PS4=$N`), export/declare/local, env/sudo operands.
std::string code_name_assignment(const std::vector<std::string>& words, const Fed& fed) {
    for (const std::string& w : words) {
        const size_t eq = w.find('=');
        if (eq == std::string::npos || eq == 0 || !ident_start(w[0])) {
            continue;
        }
        const std::string_view name = std::string_view(w).substr(0, eq);
        if (std::all_of(name.begin(), name.end(), ident_char) && is_code_env_name(name) &&
            fed.expands(std::string_view(w).substr(eq + 1))) {
            return "the value of " + std::string(name) +
                   ", which programs run as code or load code from (docs/security.md)";
        }
    }
    return "";
}

/// zsh's GLOB_SUBST (setopt globsubst, set -o glob_subst, emulate sh/ksh): every unquoted
/// expansion is then a pattern, and a glob qualifier in it (`*(e:CODE:)`) runs code.
bool turns_on_glob_subst(const std::vector<std::vector<std::string>>& commands) {
    auto normal = [](std::string w) {
        std::string out;
        for (char c : w) {
            if (c != '_') {
                out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
        }
        return out;
    };
    for (const auto& words : commands) {
        if (words.empty()) {
            continue;
        }
        for (size_t k = 1; k < words.size(); ++k) {
            const std::string w = normal(words[k]);
            if ((words[0] == "setopt" || words[0] == "set") && w == "globsubst") {
                return true;
            }
            if (words[0] == "emulate" && (w == "sh" || w == "ksh")) {
                return true;
            }
        }
    }
    return false;
}

std::string misuse(std::string_view script, const Fed& fed, int depth) {
    if (std::string a = arithmetic_use(script, fed); !a.empty()) {
        return a;
    }
    if (turns_on_glob_subst(detail::simple_commands(script)) && fed.expands(script)) {
        return "zsh's GLOB_SUBST option (setopt globsubst, emulate sh/ksh: an unquoted "
               "expansion is a glob pattern, and a qualifier (e:...:) in the value runs code)";
    }
    static const std::vector<std::string_view> keywords{
        "{", "}", "!", "if", "then", "else", "elif", "do", "while", "until", "time"};
    for (const auto& words : detail::simple_commands(script)) {
        size_t j = 0;
        while (j < words.size() &&
               ((words[j].find('=') != std::string::npos && ident_start(words[j][0])) ||
                std::find(keywords.begin(), keywords.end(), words[j]) != keywords.end())) {
            ++j;
        }
        if (std::string c = code_name_assignment(words, fed); !c.empty()) {
            return c;
        }
        if (j >= words.size()) {
            continue;
        }
        // The command itself, and after exec/command/env/sudo/timeout ... the one they run
        // (their options, NAME=VALUE words and numbers skipped).
        for (size_t k = j; k < words.size() && words[j] != "[[";) {
            if (fed.names_program(words[k])) {
                return "the command position (the value would be run as a command)";
            }
            if (std::string n = name_use(words, k, fed); !n.empty()) {
                return n; // builtin eval "$1", command read "$N"
            }
            if (words[k].find('$') != std::string::npos && !fed.expands(words[k]) &&
                std::any_of(words.begin() + static_cast<long>(k), words.end(),
                            [&](const std::string& w) { return fed.expands(w); })) {
                return "a command named by an expansion (" + words[k] +
                       "), the value among its "
                       "arguments";
            }
            if (!runs_next(words, k)) {
                break;
            }
            for (++k; k < words.size() &&
                      (is_option(words[k]) || words[k].find('=') != std::string::npos ||
                       words[k].find_first_not_of("0123456789.smhd") == std::string::npos);
                 ++k) {
            }
        }
        // A shell's command string in this command: its own positional parameters are fed
        // when a later word is.
        const ArgRoles roles = argument_roles(words);
        for (size_t k = j; depth < 4 && k < words.size(); ++k) {
            if (roles.role[k] != ArgRole::shell) {
                continue;
            }
            const bool args_fed = std::any_of(words.begin() + static_cast<long>(k) + 1, words.end(),
                                              [&](const std::string& w) { return fed.expands(w); });
            const Fed inner{fed.names, fed.positional || args_fed};
            std::string text = words[k]; // its own single-quoted `$` expand there
            std::replace(text.begin(), text.end(), detail::k_quoted_dollar, '$');
            if (std::string m = misuse(text, inner, depth + 1); !m.empty()) {
                return m + " in " + roles.program[k] + "'s command string";
            }
        }
    }
    return "";
}

} // namespace

/// The variables a script fills from fed values (`x=$N`, `local x="$1"`, `for x in "$@"`) are
/// fed too: followed until nothing new is found.
std::vector<std::string> copies(std::string_view script, std::vector<std::string> names,
                                bool positional) {
    const auto commands = detail::simple_commands(script);
    for (bool grew = true; grew;) {
        grew = false;
        const Fed fed{names, positional};
        std::vector<std::string> found;
        for (const auto& words : commands) {
            static const std::vector<std::string_view> declaring{"local", "declare", "typeset",
                                                                 "export", "readonly"};
            const bool declares = !words.empty() && std::find(declaring.begin(), declaring.end(),
                                                              words[0]) != declaring.end();
            for (size_t k = 0; k < words.size(); ++k) {
                const std::string& w = words[k];
                const size_t eq = w.find('=');
                if ((k == 0 || declares || words[k - 1].find('=') != std::string::npos) &&
                    eq != std::string::npos && eq > 0 && ident_start(w[0]) &&
                    fed.expands(std::string_view(w).substr(eq + 1))) {
                    size_t e = 0;
                    while (e < eq && ident_char(w[e])) {
                        ++e;
                    }
                    found.push_back(w.substr(0, e));
                }
            }
            if (words.size() >= 3 && words[0] == "for" && words[2] == "in" &&
                std::any_of(words.begin() + 3, words.end(),
                            [&](const std::string& w) { return fed.expands(w); })) {
                found.push_back(words[1]);
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

std::string fed_value_use(std::string_view script, const std::vector<std::string>& names,
                          bool positional) {
    if (names.empty() && !positional) {
        return "";
    }
    // A function's arguments and `set -- "$N"` make the positional parameters copies too.
    if (!positional && !names.empty()) {
        const Fed fed{copies(script, names, false), false};
        const bool defines_function = script.find("()") != std::string_view::npos ||
                                      script.find("function ") != std::string_view::npos;
        for (const auto& words : detail::simple_commands(script)) {
            const bool sets = !words.empty() && words[0] == "set";
            const bool fed_word = std::any_of(words.begin() + (words.empty() ? 0 : 1), words.end(),
                                              [&](const std::string& w) { return fed.expands(w); });
            positional = positional || (fed_word && (sets || defines_function));
        }
    }
    const std::vector<std::string> all = copies(script, names, positional);
    if (std::string m = misuse(script, Fed{all, positional}, 0); !m.empty()) {
        return m;
    }
    if (!names.empty()) {
        // A string that runs what it reads (eval, source /dev/fd/3 3<<<"$N"): the
        // environment's values reach it as surely as its arguments.
        if (std::string reader = stdin_code_reader(script); !reader.empty()) {
            return "a string that runs what it reads (" + reader + ")";
        }
    }
    return "";
}

} // namespace rollback::playbook
