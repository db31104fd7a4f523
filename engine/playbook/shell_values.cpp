// SPDX-License-Identifier: MIT
// Values handed to a shell script the way docs/playbook.md prescribes — env = { N = "{{v}}" }
// read as "$N", or an argument after the command string read as "$1" — stay data only where
// the shell expands them as words. Where bash, ksh or zsh evaluate a variable's value again
// (arithmetic, names, indirection) or run it as a command, the value would be code.
#include "playbook/code_env.hpp"
#include "playbook/script_syntax.hpp"
#include "playbook/shell_fed.hpp"
#include "playbook/variables.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace rollback::playbook {

namespace {

using detail::closing;
using detail::Fed;
using detail::ident_char;
using detail::ident_start;

/// Arithmetic and subscript contexts in the raw text (quotes are not looked at: a nested
/// command string counts too). Linear in the text, however deep its brackets nest (break-it
/// 30/09: `$((((...))))` took seconds per 20 KB): every bracket's match comes from one pass, a
/// region found free of fed names is not looked into again for the regions nested in it (each is
/// part of it: what is fed there is fed in it), and a suffix found free of fed expansions is not
/// scanned again from a later position.
std::string arithmetic_use(std::string_view t, const Fed& fed) {
    constexpr size_t npos = std::string_view::npos;
    // match[o]: the closer of the opener at o, what closing(t, o, ...) finds; t.size() if none.
    std::vector<uint32_t> match(t.size(), static_cast<uint32_t>(t.size()));
    {
        std::vector<uint32_t> parens, brackets, braces;
        for (size_t i = 0; i < t.size(); ++i) {
            std::vector<uint32_t>* open = t[i] == '(' || t[i] == ')'   ? &parens
                                          : t[i] == '[' || t[i] == ']' ? &brackets
                                          : t[i] == '{' || t[i] == '}' ? &braces
                                                                       : nullptr;
            if (open == nullptr) {
                continue;
            }
            if (t[i] == '(' || t[i] == '[' || t[i] == '{') {
                open->push_back(static_cast<uint32_t>(i));
            } else if (!open->empty()) {
                match[open->back()] = static_cast<uint32_t>(i);
                open->pop_back();
            }
        }
    }
    // The end of the last region of each kind found free of fed names: an opener before it lies
    // inside that region, and so does everything up to its own closer.
    size_t paren_clear = 0, bracket_clear = 0, brace_clear = 0, test_clear = 0;
    // fed.expands(t.substr(p)) is false for every p >= suffix_clear (a suffix of a suffix).
    size_t suffix_clear = npos;
    auto suffix_expands = [&](size_t p) {
        if (p >= t.size() || p >= suffix_clear) {
            return false;
        }
        if (fed.expands(t.substr(p))) {
            return true;
        }
        suffix_clear = p;
        return false;
    };
    // The first `c` (`]]` for ']') at or after `from`, remembered: a search from a later `from`
    // that is not past it finds it again.
    struct Next {
        char c;
        size_t from = npos;
        size_t at = npos;
    };
    Next next_close{')'}, next_dollar{'$'}, next_test_end{']'};
    auto next = [&](Next& n, size_t from) {
        if (n.from == npos || from < n.from || (n.at != npos && n.at < from)) {
            n.at = n.c == ']' ? t.find("]]", from) : t.find(n.c, from);
            n.from = from;
        }
        return n.at;
    };
    // fed.expands("$" + t.substr(from)) for the expansion that leading `$` starts (the others
    // are suffix_expands(from)): the name it reads ends before the next `$`, after its zsh flags.
    size_t flags_close = npos;
    bool flags_fed = false;
    auto prepended_expands = [&](size_t from) {
        size_t stop = from;
        if (t.substr(from, 2) == "{(") {
            const size_t close = next(next_close, from + 2);
            if (close == npos) {
                return false; // flags never closed: no name follows
            }
            if (close == flags_close) {
                return flags_fed; // the same name as for the last one with these flags
            }
            const size_t end = std::min(next(next_dollar, close + 1), t.size());
            flags_close = close;
            flags_fed = fed.expands("${()" + std::string(t.substr(close + 1, end - close - 1)));
            return flags_fed;
        }
        const size_t end = std::min(next(next_dollar, stop), t.size());
        return fed.expands("$" + std::string(t.substr(from, end - from)));
    };
    for (size_t i = 0; i < t.size(); ++i) {
        if (t.substr(i, 2) == "((") {
            if (i < paren_clear) {
                continue;
            }
            const size_t end = match[i];
            if (fed.in_arithmetic(t.substr(i, end - i))) {
                return "an arithmetic expression (( )) / $(( ))";
            }
            paren_clear = end;
        } else if (t.substr(i, 2) == "$[") {
            if (i + 1 < bracket_clear) {
                continue;
            }
            const size_t end = match[i + 1];
            if (fed.in_arithmetic(t.substr(i + 2, end - i - 2))) {
                return "an arithmetic expression $[ ]";
            }
            bracket_clear = end;
        } else if (t.substr(i, 2) == "[[") {
            if (i < test_clear) {
                continue;
            }
            const size_t end = next(next_test_end, i);
            const std::string_view test = t.substr(i, end == t.npos ? t.npos : end - i);
            // An operator between blanks (a space, a tab, a line break).
            static const std::vector<std::string_view> ops{"-eq", "-ne", "-lt", "-le",
                                                           "-gt", "-ge", "-v",  "-R"};
            const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n'; };
            bool evaluates = false;
            for (size_t o = test.find('-'); o != std::string_view::npos && !evaluates;
                 o = test.find('-', o + 1)) {
                evaluates = o > 0 && blank(test[o - 1]) &&
                            std::any_of(ops.begin(), ops.end(), [&](std::string_view op) {
                                return test.substr(o, op.size()) == op &&
                                       o + op.size() < test.size() && blank(test[o + op.size()]);
                            });
            }
            if (evaluates && fed.in_arithmetic(test)) {
                return "[[ ]] with -eq/-ne/-lt/-le/-gt/-ge or -v (its operands are evaluated)";
            }
            // A later [[ before the same ]] tests a part of this text.
            test_clear = end == t.npos ? t.size() : end;
        } else if (t[i] == '[' && i >= bracket_clear &&
                   (i == 0 ||
                    std::string_view(" \t\n(").find(t[i - 1]) != std::string_view::npos) &&
                   match[i] + 1 < t.size() &&
                   (t[match[i] + 1] == '=' || t.substr(match[i] + 1, 2) == "+=")) {
            // An element of a compound assignment, `a=([$N]=x)`, `a+=([N]=x)`, `declare -a
            // a=([$N]=x)`: an indexed array's subscript (an associative array's key is refused
            // alike, as in `m[$N]=x`).
            const size_t end = match[i];
            if (fed.in_arithmetic(t.substr(i + 1, end - i - 1))) {
                return "an array subscript in a compound assignment ([index]=value)";
            }
            bracket_clear = end;
        } else if (t[i] == '[' && i > 0 && ident_char(t[i - 1])) {
            // An indexed array's subscript: ${a[$N]}, a[$N]=x, ${#a[N]} (a name before it:
            // not `\033[2J`).
            size_t start = i;
            while (start > 0 && ident_char(t[start - 1])) {
                --start;
            }
            const size_t end = match[i];
            if (i >= bracket_clear && ident_start(t[start]) && end < t.size()) {
                if (fed.in_arithmetic(t.substr(i + 1, end - i - 1))) {
                    return "an array subscript";
                }
                bracket_clear = end;
            }
        } else if (t.substr(i, 2) == "$~" && fed.expands_at(t, i)) {
            return "a zsh glob pattern $~name (a glob qualifier (e:...:) or (+cmd) in the value "
                   "runs code)";
        } else if (t.substr(i, 2) == "${") {
            // The parameter: a name, a number or a special one, then an array's subscript
            // (`${a[@]:$N}`, `${a[0]:1:$N}` slice too).
            size_t k = i + 2;
            while (k < t.size() && (ident_char(t[k]) || t[k] == '@' || t[k] == '*')) {
                ++k;
            }
            if (k == i + 2 && k < t.size() && std::string_view("#?$!-").find(t[k]) != t.npos &&
                k + 1 < t.size() && t[k + 1] == ':') {
                ++k; // ${#:1}, ${-:0:1}: a special parameter
            }
            if (k > i + 2 && k < t.size() && t[k] == '[' && match[k] < t.size()) {
                k = match[k] + 1;
            }
            if (i >= brace_clear && k + 1 < t.size() && t[k] == ':' &&
                std::string_view("-=?+").find(t[k + 1]) == std::string_view::npos) {
                const size_t end = match[i + 1];
                if (fed.in_arithmetic(t.substr(k + 1, end - k - 1))) {
                    return "a substring offset or length ${v:offset:length}";
                }
                brace_clear = end;
            }
            if (t.substr(i + 2, 1) == "~" && fed.expands_at(t, i)) {
                return "a zsh glob pattern ${~name} (a glob qualifier (e:...:) or (+cmd) in "
                       "the value runs code)";
            }
            if (const size_t end = match[i + 1];
                end < t.size() && t.substr(end - 2, 2) == "@P" &&
                fed.expands_at(std::string(t.substr(i, end - i - 2)) + "}", 0)) {
                return "a prompt expansion ${name@P} (the value's $(...) and `...` run)";
            }
            // fed.expands("$" + t.substr(i + 3)): the expansion its `$` starts, and the rest.
            if (t.substr(i + 2, 1) == "!" && (prepended_expands(i + 3) || suffix_expands(i + 3))) {
                return "an indirect expansion ${!name}";
            }
            if (t.substr(i + 2, 1) == "(" && suffix_expands(i)) {
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
    if (b == "let") {
        // Every argument is an arithmetic expression: a bare name in it is evaluated too.
        for (size_t k = j + 1; k < words.size(); ++k) {
            if (fed.in_arithmetic(words[k])) {
                return "let (its arguments are arithmetic: a name in them is evaluated)";
            }
        }
        return "";
    }
    if (b == "eval" || b == "unset" || b == "mapfile" || b == "readarray" || b == "getopts" ||
        b == "source" || b == "." || b == "trap" || b == "alias") {
        return any_from(j + 1) ? b + " (its arguments are names, arithmetic or code)" : "";
    }
    // Builtins whose arguments become code or a program: compgen/complete -W (each word is
    // expanded again, $(...) included), -C and -F (a command, a function), hash -p (the program
    // a name runs), enable -f (a shared object loaded), bind -x, fc -e, zsh's sched and
    // zmodload.
    static const std::vector<std::string_view> coding{"compgen",  "complete", "compopt", "hash",
                                                      "enable",   "bind",     "fc",      "sched",
                                                      "zmodload", "history"};
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
                                : std::string_view(w).substr(0, eq)) ||
                (evaluated_values && eq != std::string::npos &&
                 fed.in_arithmetic(std::string_view(w).substr(eq + 1)))) {
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
        // `command -v NAME` looks a name up; only command's own options say so (`command
        // test -v "$N"` runs test).
        for (size_t k = j + 1;
             k < words.size() && words[k].size() >= 2 && words[k][0] == '-' && words[k] != "--";
             ++k) {
            if (words[k].find_first_of("vV") != std::string::npos) {
                return false;
            }
        }
        return true;
    }
    if (w == "jobs") {
        return j + 1 < words.size() && words[j + 1] == "-x"; // jobs -x COMMAND ARGS
    }
    // zsh's precommand modifiers: noglob, nocorrect, `-` (argv[0] with a dash).
    return w == "exec" || w == "builtin" || w == "coproc" || w == "noglob" || w == "nocorrect" ||
           w == "-" || detail::is_wrapper(w);
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
                   ", which programs run as code or load code from (" + code_env_reason(name) +
                   "; docs/security.md)";
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
        const size_t c = detail::command_word(words); // `builtin setopt ...` too
        if (c >= words.size()) {
            continue;
        }
        for (size_t k = c + 1; k < words.size(); ++k) {
            const std::string w = normal(words[k]);
            if ((words[c] == "setopt" || words[c] == "set") && w == "globsubst") {
                return true;
            }
            if (words[c] == "emulate" && (w == "sh" || w == "ksh")) {
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
    if (std::string c = detail::substitution_command(script, fed); !c.empty()) {
        return c;
    }
    if (turns_on_glob_subst(detail::simple_commands(script)) && fed.expands(script)) {
        return "zsh's GLOB_SUBST option (setopt globsubst, emulate sh/ksh: an unquoted "
               "expansion is a glob pattern, and a qualifier (e:...:) in the value runs code)";
    }
    for (const auto& words : detail::simple_commands(script)) {
        // Past keywords (`time -p` too) and assignments; the loop below follows the prefixes.
        const size_t j = detail::command_word(words, 0, false);
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
            if (const size_t s = detail::script_operand(words, k);
                s != 0 && fed.names_program(words[s])) {
                return "the script " + std::string(detail::basename_of(words[k])) +
                       " runs (its program file: the value would choose what runs)";
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
            if (detail::has_wrapper_syntax(detail::basename_of(words[k]))) {
                // The wrapper grammar argv arrays are read with (program_position.cpp):
                // `flock F "$1"`, `sudo -u app "$1"`, `exec -a N "$1"`, `su -s "$1"`.
                std::vector<size_t> option_programs;
                const size_t next = detail::wrapped_program(words, k, &option_programs);
                for (size_t v : option_programs) {
                    if (fed.names_program(words[v])) {
                        return "the program " + words[k] +
                               " runs (its option value; the value would be run as a command)";
                    }
                }
                k = next;
                continue;
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

using detail::attributed_copy;
using detail::copies;

namespace {

/// misuse() and attributed_copy() of `text` with the fed names `all` (`every`: any name).
std::string evaluated(std::string_view text, const std::vector<std::string>& all,
                      const std::vector<std::string>& names, bool positional, bool every) {
    const std::unordered_set<std::string> index(all.begin(), all.end());
    if (std::string m = misuse(text, Fed{all, positional, &index, every}, 0); !m.empty()) {
        return m;
    }
    return attributed_copy(text, all, names);
}

} // namespace

std::string fed_value_use(std::string_view script, const std::vector<std::string>& names,
                          bool positional) {
    if (names.empty() && !positional) {
        return "";
    }
    std::string unfollowed; // a builtin filling a variable named by an expansion
    std::vector<std::string> all;
    // A function's arguments and `set -- "$N"` make the positional parameters copies too.
    if (!positional && !names.empty()) {
        all = copies(script, names, false, &unfollowed);
        const std::unordered_set<std::string> index(all.begin(), all.end());
        const Fed fed{all, false, &index};
        const bool defines_function = script.find("()") != std::string_view::npos ||
                                      script.find("function ") != std::string_view::npos;
        for (const auto& words : detail::simple_commands(script)) {
            const size_t c = detail::command_word(words);
            const bool sets = c < words.size() && words[c] == "set";
            const bool fed_word = std::any_of(words.begin() + (words.empty() ? 0 : 1), words.end(),
                                              [&](const std::string& w) { return fed.expands(w); });
            positional = positional || (fed_word && (sets || defines_function));
        }
    }
    if (all.empty() || positional) {
        all = copies(script, names, positional, &unfollowed);
    }
    // Command substitutions whose output may hold the value (shell_outputs.cpp) are marked and
    // followed as copies.
    std::string why;
    const std::vector<std::string> plain = all;
    const std::string text =
        detail::mark_fed_outputs(script, names, positional, all, unfollowed, why);
    std::string m = evaluated(text, all, names, positional, !unfollowed.empty());
    if (!m.empty() && (!why.empty() || !unfollowed.empty()) &&
        evaluated(script, plain, names, positional, false).empty()) {
        // Found only by what the text does not show: say how the value gets there.
        m += why.empty() ? "; every variable counts as holding the value, since " + unfollowed +
                               " fills a variable the script does not name"
                         : "; the value gets there as " + why;
    }
    if (!m.empty()) {
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
