// SPDX-License-Identifier: MIT
// Command substitutions whose output may hold a value handed to a shell script although their
// text expands none (break-it 41/01): `x=$(printenv N)`, `x=$(f)` with f a function that prints
// it, `printf %s "$N" | { x=$(cat); }`, `echo "$N" > f; x=$(cat f)`. Such a substitution is
// marked — `: $ROLLBACK_FED_OUTPUT;` put at its start — so the analysis of shell_values.cpp
// follows its output as a copy of the value, into arithmetic, names and the command position.
#include "playbook/script_syntax.hpp"
#include "playbook/shell_fed.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_set>

namespace rollback::playbook::detail {

namespace {

/// The closer of each `(` of the text (t.size() when none), from one pass.
std::vector<size_t> paren_match(std::string_view t) {
    std::vector<size_t> match(t.size() + 1, t.size());
    std::vector<size_t> open;
    for (size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '(') {
            open.push_back(i);
        } else if (t[i] == ')' && !open.empty()) {
            match[open.back()] = i;
            open.pop_back();
        }
    }
    return match;
}

struct Region {
    size_t begin; ///< the first character of the command text
    size_t end;   ///< one past its last
};

/// The command substitutions: `$(...)` (not `$((`, arithmetic) and backquotes, in the order
/// they open. Quotes are not followed (one in single quotes or a comment counts too): more is
/// found than runs, never less.
std::vector<Region> substitutions(std::string_view t, const std::vector<size_t>& match) {
    std::vector<Region> out;
    size_t tick = std::string_view::npos;
    for (size_t i = 0; i < t.size(); ++i) {
        const char c = t[i];
        if (c == '\\') {
            ++i;
        } else if (c == '`') {
            if (tick == std::string_view::npos) {
                tick = i;
            } else {
                out.push_back({tick + 1, i});
                tick = std::string_view::npos;
            }
        } else if (c == '$' && i + 2 < t.size() && t[i + 1] == '(' && t[i + 2] != '(') {
            out.push_back({i + 2, std::min(match[i + 1], t.size())});
        }
    }
    return out;
}

/// `t[i]` begins a word in the command position: after the start, `;`, `&`, `|`, `(`, `{`, a
/// line break or `then`/`do`/`else`/`elif`/`!` (blanks between).
bool command_start(std::string_view t, size_t i) {
    while (i > 0 && (t[i - 1] == ' ' || t[i - 1] == '\t')) {
        --i;
    }
    if (i == 0 || std::string_view(";&|({\n").find(t[i - 1]) != std::string_view::npos) {
        return true;
    }
    for (std::string_view k : {"then", "do", "else", "elif", "!"}) {
        if (i >= k.size() && t.substr(i - k.size(), k.size()) == k &&
            (i == k.size() || !ident_char(t[i - k.size() - 1]))) {
            return true;
        }
    }
    return false;
}

/// The word `w` stands at t[i] on its own.
bool word(std::string_view t, size_t i, std::string_view w) {
    return t.substr(i, w.size()) == w && (i == 0 || !ident_char(t[i - 1])) &&
           (i + w.size() >= t.size() || !ident_char(t[i + w.size()]));
}

/// The end of the line that ends the here-document whose `<<` is at t[i] (`<<EOF`, `<<-'EOF'`,
/// `<< "EOF"`): the body is text, not commands.
size_t heredoc_end(std::string_view t, size_t i) {
    size_t k = i + 2;
    const bool tabs = k < t.size() && t[k] == '-';
    k = std::min(t.find_first_not_of(" \t", k + (tabs ? 1 : 0)), t.size());
    std::string delimiter;
    for (; k < t.size() && !std::isspace(static_cast<unsigned char>(t[k])) &&
           std::string_view(";&|<>()").find(t[k]) == std::string_view::npos;
         ++k) {
        if (t[k] != '\'' && t[k] != '"' && t[k] != '\\') {
            delimiter += t[k];
        }
    }
    for (size_t line = t.find('\n', k); line != std::string_view::npos;
         line = t.find('\n', line + 1)) {
        size_t b = line + 1;
        while (tabs && b < t.size() && t[b] == '\t') {
            ++b;
        }
        const size_t e = std::min(t.find('\n', b), t.size());
        if (!delimiter.empty() && t.substr(b, e - b) == delimiter) {
            return e;
        }
    }
    return t.size();
}

/// Where the script writes a value into something a later command reads — a pipe, a file, a
/// here-string or here-document, a process substitution `>(...)`, a coprocess: a description,
/// or empty. Rough but never misses one: quotes and comments are followed (a `$(...)` or
/// backquote inside double quotes is a script of its own), and so are a case statement's patterns
/// (their `|` is an alternative, as in the hint's `case $N in ''|*[!0-9]*)`), arithmetic `(( a > b
/// ))`,
/// `[[ a > b ]]`, `${x//|/}` and here-document bodies; `||`, `>&2`, `2>&1` and writes to
/// /dev/null, /dev/stderr or /dev/tty are not writes.
std::string stream_write(std::string_view t, const Fed& fed, const std::vector<size_t>& match) {
    struct Context {
        size_t end;         ///< the `)` of a `$(`, or npos for a backquote
        bool double_quoted; ///< the double quotes it stands in
    };
    std::vector<Context> contexts;
    bool dbl = false;
    // Each open case statement: 0 before `in`, 1 in a pattern (from `pattern`), 2 in commands.
    std::vector<int> cases;
    size_t pattern = 0;
    // A here-document's body: from the end of the line of its `<<` to the delimiter's line.
    size_t body = std::string_view::npos, body_end = 0;
    for (size_t i = 0; i < t.size(); ++i) {
        const char c = t[i];
        if (i == body) {
            i = body_end;
            body = std::string_view::npos;
            continue;
        }
        if (!contexts.empty() && contexts.back().end == i && c == ')') {
            dbl = contexts.back().double_quoted;
            contexts.pop_back();
            continue;
        }
        if (c == '\\') {
            ++i;
        } else if (c == '`' && !contexts.empty() && contexts.back().end == std::string_view::npos) {
            dbl = contexts.back().double_quoted;
            contexts.pop_back();
        } else if (c == '`' || (t.substr(i, 2) == "$(" && t.substr(i, 3) != "$((")) {
            contexts.push_back({c == '`' ? std::string_view::npos : match[i + 1], dbl});
            dbl = false;
            i += c == '`' ? 0 : 1;
        } else if (c == '"') {
            dbl = !dbl;
        } else if (dbl) {
            continue; // literal text: `|`, `>`, `'` inside double quotes
        } else if (c == '\'') {
            const size_t e = t.find('\'', i + 1);
            i = e == std::string_view::npos ? t.size() : e;
        } else if (c == '#' && (i == 0 || std::isspace(static_cast<unsigned char>(t[i - 1])) ||
                                std::string_view(";&|(").find(t[i - 1]) != t.npos)) {
            i = std::min(t.find('\n', i), t.size()) - 1; // a comment
        } else if (!cases.empty() && word(t, i, "esac")) {
            cases.pop_back();
            i += 3;
        } else if (!cases.empty() && cases.back() == 1) {
            if (c == ')') {
                cases.back() = 2;
            } else if (c == ';' || c == '&' || c == '<' || c == '>' ||
                       (c == '\n' && t.substr(pattern, i - pattern).find_first_not_of(" \t\n(") !=
                                         std::string_view::npos)) {
                cases.clear(); // not a pattern after all: read it again as commands
                i = pattern - 1;
            }
        } else if (word(t, i, "case") && command_start(t, i)) {
            cases.push_back(0);
            i += 3;
        } else if (!cases.empty() && cases.back() == 0 && word(t, i, "in")) {
            cases.back() = 1;
            pattern = i + 2;
            ++i;
        } else if (!cases.empty() && cases.back() == 2 &&
                   (t.substr(i, 2) == ";;" || t.substr(i, 2) == ";&")) {
            i += t.substr(i, 3) == ";;&" ? 2 : 1;
            cases.back() = 1;
            pattern = i + 1;
        } else if (t.substr(i, 2) == "((" || t.substr(i, 3) == "$((") {
            i = std::min(match[c == '$' ? i + 1 : i], t.size()); // arithmetic
        } else if (t.substr(i, 2) == "[[") {
            const size_t e = t.find("]]", i);
            i = e == std::string_view::npos ? t.size() : e + 1;
        } else if (t.substr(i, 2) == "${") {
            i = closing(t, i + 1, '{', '}');
        } else if (t.substr(i, 2) == "||") {
            ++i;
        } else if (c == '|') {
            return "a pipe";
        } else if (t.substr(i, 3) == "<<<") {
            const size_t e = t.find_first_of(";&|\n", i + 3);
            if (fed.expands(t.substr(i + 3, e == std::string_view::npos ? e : e - i - 3))) {
                return "a here-string";
            }
            i += 2;
        } else if (t.substr(i, 2) == "<<") {
            const size_t end = heredoc_end(t, i);
            if (fed.expands(t.substr(i, end - i))) {
                return "a here-document";
            }
            // The rest of its line is read on; the body (after any before it) is skipped.
            body = std::min(body, std::min(t.find('\n', i), t.size()));
            body_end = std::max(body_end, end);
            ++i;
        } else if (t.substr(i, 2) == "<>" || t.substr(i, 2) == ">(") {
            return t[i] == '<' ? "a file opened for writing (<>)" : "a process substitution >(...)";
        } else if (c == '>') {
            size_t k = i + 1;
            k += k < t.size() && (t[k] == '>' || t[k] == '|') ? 1 : 0;
            k = std::min(t.find_first_not_of(" \t", k), t.size());
            const std::string_view target = t.substr(k);
            if (!target.starts_with("&") && !target.starts_with("/dev/null") &&
                !target.starts_with("/dev/stderr") && !target.starts_with("/dev/tty") &&
                !target.starts_with("(")) {
                return "a file (a redirection)";
            }
            i = k - 1;
        } else if (word(t, i, "coproc")) {
            return "a coprocess";
        }
    }
    return "";
}

/// The names of the functions the script defines (`name() ...`, `function name`).
std::unordered_set<std::string> functions(std::string_view t) {
    std::unordered_set<std::string> out;
    auto name_before = [&](size_t end) {
        size_t b = end;
        while (b > 0 &&
               (ident_char(t[b - 1]) || t[b - 1] == '-' || t[b - 1] == '.' || t[b - 1] == ':')) {
            --b;
        }
        return std::string(t.substr(b, end - b));
    };
    for (size_t i = t.find("()"); i != std::string_view::npos; i = t.find("()", i + 2)) {
        size_t e = i;
        while (e > 0 && (t[e - 1] == ' ' || t[e - 1] == '\t')) {
            --e;
        }
        if (std::string n = name_before(e); !n.empty()) {
            out.insert(n);
        }
    }
    for (size_t i = t.find("function "); i != std::string_view::npos;
         i = t.find("function ", i + 1)) {
        size_t b = std::min(t.find_first_not_of(" \t", i + 9), t.size()), e = b;
        while (e < t.size() && !std::isspace(static_cast<unsigned char>(t[e])) && t[e] != '(' &&
               t[e] != '{' && t[e] != ';') {
            ++e;
        }
        if (e > b) {
            out.insert(std::string(t.substr(b, e - b)));
        }
    }
    return out;
}

bool word_at(std::string_view t, size_t i, size_t n) {
    const auto ident = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; };
    return (i == 0 || !ident(t[i - 1])) && (i + n >= t.size() || !ident_char(t[i + n]));
}

/// What in the text of a substitution prints or reads the environment a fed value is in:
/// printenv, env, `set`/`export -p`/`declare -p` (every variable), a program reading its
/// environment (ENVIRON, os.environ, getenv, $ENV, %ENV, process.env, /proc/*/environ), or the
/// name of an exported variable that holds the value (`printenv N`, `jq -n env.N`).
std::string reads_environment(std::string_view text, const Fed& exported) {
    for (const auto& words : simple_commands(text)) {
        const size_t c = command_word(words);
        if (c >= words.size()) {
            continue;
        }
        const std::string& w = words[c];
        const bool listing = c + 1 == words.size() ||
                             std::any_of(words.begin() + static_cast<long>(c) + 1, words.end(),
                                         [](const std::string& a) { return a == "-p"; });
        if (w == "printenv" || w == "env" ||
            ((w == "set" || w == "export" || w == "declare" || w == "typeset" || w == "readonly" ||
              w == "local") &&
             listing)) {
            return w + " (it prints the environment)";
        }
    }
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    for (std::string_view key : {"environ", "getenv"}) {
        if (lower.find(key) != std::string::npos) {
            return std::string(key) + " (it reads the environment)";
        }
    }
    for (size_t i = lower.find("env"); i != std::string::npos; i = lower.find("env", i + 1)) {
        if (word_at(lower, i, 3)) {
            return std::string(text.substr(i, 3)) + " (it reads the environment)";
        }
    }
    for (size_t i = 0; i < text.size(); ++i) {
        if (!ident_start(text[i]) || (i > 0 && (ident_char(text[i - 1]) || text[i - 1] == '$'))) {
            continue;
        }
        size_t e = i;
        while (e < text.size() && ident_char(text[e])) {
            ++e;
        }
        if (exported.name(text.substr(i, e - i))) {
            return "the name " + std::string(text.substr(i, e - i)) + " (a variable holding it)";
        }
        i = e;
    }
    return "";
}

/// The fed names a child process sees in its environment: the environment's own (`given`), the
/// ones the script exports (`export x`, `declare -x x`, `x=... cmd`), every one after `set -a`.
std::vector<std::string> exported_names(std::string_view script,
                                        const std::vector<std::string>& all,
                                        const std::vector<std::string>& given) {
    std::unordered_set<std::string> fed(all.begin(), all.end());
    std::vector<std::string> out = given;
    for (const auto& words : simple_commands(script)) {
        const size_t c = command_word(words);
        const std::string none;
        const std::string& w = c < words.size() ? words[c] : none;
        if ((w == "set" && std::any_of(words.begin(), words.end(), [](const std::string& a) {
                 return (a.starts_with("-") && a.find('a') != std::string::npos) ||
                        a == "allexport";
             }))) {
            return all;
        }
        const bool exporting =
            w == "export" ||
            ((w == "declare" || w == "typeset" || w == "local" || w == "readonly") &&
             std::any_of(words.begin() + static_cast<long>(c), words.end(),
                         [](const std::string& a) {
                             return a.starts_with("-") && a.find('x') != std::string::npos;
                         }));
        for (size_t k = 0; k < words.size(); ++k) {
            const std::string name = words[k].substr(0, words[k].find_first_of("=+["));
            if ((k < c || (exporting && k > c)) && fed.count(name) != 0) {
                out.push_back(name); // a prefix assignment reaches its command too
            }
        }
    }
    return out;
}

/// The substitutions to mark, each with why, for the fed names `all` of `script`.
std::vector<std::pair<Region, std::string>> fed_outputs(std::string_view script,
                                                        const std::vector<size_t>& match,
                                                        const std::vector<std::string>& all,
                                                        const std::vector<std::string>& given,
                                                        bool positional) {
    std::vector<std::pair<Region, std::string>> out;
    const std::vector<Region> subs = substitutions(script, match);
    if (subs.empty()) {
        return out;
    }
    const std::unordered_set<std::string> index(all.begin(), all.end());
    const Fed fed{all, positional, &index};
    const bool has_fed = fed.expands(script);
    if (const std::string stream = has_fed ? stream_write(script, fed, match) : "";
        !stream.empty()) {
        for (const Region& r : subs) {
            out.push_back({r, "the script writes it to " + stream +
                                  " and a command substitution may read it back"});
        }
        return out;
    }
    const std::vector<std::string> env = exported_names(script, all, given);
    const std::unordered_set<std::string> env_index(env.begin(), env.end());
    const Fed exported{env, false, &env_index};
    const std::unordered_set<std::string> defined =
        has_fed ? functions(script) : decltype(defined){};
    for (const Region& r : subs) {
        const std::string_view text = script.substr(r.begin, r.end - r.begin);
        std::string why = env.empty() ? "" : reads_environment(text, exported);
        for (const auto& words :
             defined.empty() ? decltype(simple_commands(text)){} : simple_commands(text)) {
            const size_t c = command_word(words);
            if (why.empty() && c < words.size() && defined.count(words[c]) != 0) {
                why = words[c] + " (a function of the script, which expands it)";
            }
        }
        if (!why.empty()) {
            out.push_back({r, "a command substitution prints it: " + why});
        }
    }
    return out;
}

} // namespace

std::string substitution_command(std::string_view t, const Fed& fed) {
    const std::vector<size_t> match = paren_match(t);
    static const std::vector<std::string_view> before{
        "then", "do",   "else",    "elif",    "if",     "while",  "until",     "time",
        "!",    "exec", "command", "builtin", "coproc", "noglob", "nocorrect", "{"};
    const auto blank = [](char c) { return c == ' ' || c == '\t'; };
    for (const Region& r : substitutions(t, match)) {
        size_t q = r.begin - (t[r.begin - 1] == '`' ? 1 : 2); // its `$(` or backquote
        q -= q > 0 && t[q - 1] == '"' ? 1 : 0;
        if (q > 0 && !std::isspace(static_cast<unsigned char>(t[q - 1])) &&
            std::string_view(";|&(`{").find(t[q - 1]) == std::string_view::npos) {
            continue; // inside a word: x=$(...), a$(...)
        }
        size_t p = q;
        while (p > 0 && blank(t[p - 1])) {
            --p;
        }
        size_t b = p;
        while (b > 0 && !std::isspace(static_cast<unsigned char>(t[b - 1])) &&
               std::string_view(";|&(`").find(t[b - 1]) == std::string_view::npos) {
            --b;
        }
        const std::string_view word = t.substr(b, p - b);
        const bool command = p == 0 || std::string_view(";|&(\n{").find(t[p - 1]) != t.npos ||
                             std::find(before.begin(), before.end(), word) != before.end() ||
                             assignment_word(word) || is_wrapper(basename_of(word));
        if (command && fed.expands(t.substr(r.begin, r.end - r.begin))) {
            return "the command position (the output of a command substitution that holds the "
                   "value would be run as a command)";
        }
    }
    return "";
}

std::string mark_fed_outputs(std::string_view script, const std::vector<std::string>& names,
                             bool positional, std::vector<std::string>& fed_names,
                             std::string& unfollowed, std::string& why) {
    why.clear();
    const std::vector<size_t> match = paren_match(script);
    if (substitutions(script, match).empty()) {
        return std::string(script);
    }
    std::vector<std::string> marked_names = names;
    marked_names.emplace_back(k_output_marker);
    std::string text(script);
    std::vector<size_t> marked;               // the begin of each marked substitution
    std::vector<std::string> all = fed_names; // the copies in `text`
    // Each round follows the copies of what the last one marked (`x=$(printenv N); echo "$x" >
    // f; y=$(cat f)` takes three); after a bounded number every substitution counts (sound).
    constexpr int k_rounds = 4;
    for (int round = 0;; ++round) {
        auto found = fed_outputs(script, match, all, names, positional);
        if (round == k_rounds) {
            found.clear();
            for (const Region& r : substitutions(script, match)) {
                found.push_back({r, "a command substitution may print it (its copies were "
                                    "followed as far as the analysis goes)"});
            }
        }
        std::vector<size_t> begins;
        for (const auto& [r, reason] : found) {
            begins.push_back(r.begin);
            why = why.empty() ? reason : why;
        }
        if (begins == marked) {
            break;
        }
        marked = begins;
        text.clear();
        size_t from = 0;
        for (size_t b : marked) {
            text.append(script.substr(from, b - from));
            text += ": $";
            text += k_output_marker;
            text += "; ";
            from = b;
        }
        text.append(script.substr(from));
        all = copies(text, marked_names, positional, &unfollowed);
        if (round == k_rounds) {
            break;
        }
    }
    if (marked.empty()) {
        why.clear();
    } else {
        fed_names = std::move(all);
    }
    return text;
}

} // namespace rollback::playbook::detail
