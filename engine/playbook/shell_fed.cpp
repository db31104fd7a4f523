// SPDX-License-Identifier: MIT
// Where a shell script expands a variable that holds a value handed to it.
#include "playbook/shell_fed.hpp"

#include <algorithm>
#include <cctype>

namespace rollback::playbook::detail {

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

bool assignment_word(std::string_view w) {
    const size_t eq = w.find('=');
    if (eq == std::string_view::npos || eq == 0 || !ident_start(w[0])) {
        return false;
    }
    size_t e = 0;
    while (e < eq && ident_char(w[e])) {
        ++e;
    }
    return e == eq || w[e] == '[' || (w[e] == '+' && e + 1 == eq);
}

size_t command_word(const std::vector<std::string>& words, size_t j, bool prefixes) {
    static const std::vector<std::string_view> keywords{
        "{", "}", "!", "if", "then", "else", "elif", "do", "while", "until", "time"};
    while (j < words.size()) {
        const std::string& w = words[j];
        if (std::find(keywords.begin(), keywords.end(), w) != keywords.end()) {
            ++j;
            while (w == "time" && j < words.size() && (words[j] == "-p" || words[j] == "--")) {
                ++j;
            }
            continue;
        }
        if (assignment_word(w) || (prefixes && (w == "noglob" || w == "nocorrect" || w == "-"))) {
            ++j;
            continue;
        }
        if (!prefixes || (w != "command" && w != "builtin")) {
            return j;
        }
        size_t k = j + 1;
        bool lookup = false;
        for (; k < words.size() && words[k].size() >= 2 && words[k][0] == '-'; ++k) {
            if (words[k] == "--") {
                ++k;
                break;
            }
            lookup =
                lookup || (w == "command" && words[k].find_first_of("vV") != std::string::npos);
        }
        if (lookup || k >= words.size()) {
            return j;
        }
        j = k;
    }
    return words.size();
}

bool Fed::name(std::string_view n) const {
    if (positional && !n.empty() &&
        (n == "@" || n == "*" || (n != "0" && std::all_of(n.begin(), n.end(), [](char c) {
                                      return std::isdigit(static_cast<unsigned char>(c)) != 0;
                                  })))) {
        return true;
    }
    if (every) {
        return !n.empty() && ident_start(n[0]);
    }
    if (index != nullptr) {
        return index->count(std::string(n)) != 0;
    }
    return std::find(names.begin(), names.end(), n) != names.end();
}

/// An expansion of a fed name in `t` ($N, ${N...}, ${!N}, ${#N}, $1, $@, ${(e)N}).
bool Fed::expands(std::string_view t) const {
    for (size_t i = 0; i + 1 < t.size(); ++i) {
        if (expands_at(t, i)) {
            return true;
        }
    }
    return false;
}

/// The expansion that begins at t[i] (a `$`) is one of a fed name.
bool Fed::expands_at(std::string_view t, size_t i) const {
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
bool Fed::names_program(std::string_view w) const {
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
bool Fed::in_arithmetic(std::string_view t) const {
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
        if (name(t.substr(i, e - i))) {
            return true;
        }
        i = e;
    }
    return false;
}

} // namespace rollback::playbook::detail
