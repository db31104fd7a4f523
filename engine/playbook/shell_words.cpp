// SPDX-License-Identifier: MIT
// A shell script as simple commands of words (simple_commands): rough, as the analyses of
// shell text need it, but in step with the shell's quoting — a comment or a here-document body
// holding a lone `'` or `"` no longer swallows the rest of the script into one quoted word
// (every command after it went unseen).
#include "playbook/script_syntax.hpp"

#include <algorithm>

namespace rollback::playbook::detail {

namespace {

/// A here-document opened on the current line: its delimiter, whether the body is literal
/// (a quoted delimiter: no expansion in it) and whether leading tabs are stripped (`<<-`).
struct Heredoc {
    std::string delimiter;
    bool literal = false;
    bool tabs = false;
};

/// The here-document operator at text[i] (`<<`, not `<<<`), or a delimiter-less one.
Heredoc heredoc_at(std::string_view text, size_t i) {
    Heredoc h;
    size_t k = i + 2;
    h.tabs = k < text.size() && text[k] == '-';
    k = std::min(text.find_first_not_of(" \t", k + (h.tabs ? 1 : 0)), text.size());
    for (; k < text.size() &&
           std::string_view(" \t\n;&|<>()").find(text[k]) == std::string_view::npos;
         ++k) {
        if (text[k] == '\'' || text[k] == '"' || text[k] == '\\') {
            h.literal = true;
        } else {
            h.delimiter += text[k];
        }
    }
    return h;
}

/// The command substitutions in the text of an unquoted here-document's body (`$(...)`,
/// backquotes): they run.
std::vector<std::string_view> body_substitutions(std::string_view body) {
    std::vector<std::string_view> out;
    for (size_t i = 0; i < body.size(); ++i) {
        if (body[i] == '\\') {
            ++i;
        } else if (body[i] == '`') {
            const size_t e = body.find('`', i + 1);
            out.push_back(body.substr(i + 1, e == body.npos ? e : e - i - 1));
            i = e == body.npos ? body.size() : e;
        } else if (body.substr(i, 2) == "$(") {
            int depth = 0;
            size_t e = i + 1;
            for (; e < body.size(); ++e) {
                depth += body[e] == '(' ? 1 : body[e] == ')' ? -1 : 0;
                if (depth == 0) {
                    break;
                }
            }
            out.push_back(body.substr(i + 2, e < body.size() ? e - i - 2 : body.npos));
            i = e;
        }
    }
    return out;
}

} // namespace

std::vector<std::vector<std::string>> simple_commands(std::string_view text) {
    std::vector<std::vector<std::string>> out(1);
    std::string word;
    bool word_started = false;
    char quote = 0;
    std::vector<Heredoc> heredocs; // opened on this line: their bodies follow it
    auto end_word = [&] {
        if (word_started) {
            out.back().push_back(word);
        }
        word.clear();
        word_started = false;
    };
    auto end_command = [&] {
        end_word();
        if (!out.back().empty()) {
            out.emplace_back();
        }
    };
    // The bodies of the here-documents opened on the line that ends at text[i] (a line
    // break): skipped as text, but for the commands their substitutions run. A body whose
    // delimiter never comes is not taken as one (`$(( 1 << n ))` on a line of its own is not a
    // here-document): the text after it is read as commands.
    auto skip_bodies = [&](size_t i) {
        size_t from = i + 1;
        for (const Heredoc& h : heredocs) {
            size_t line = from;
            size_t next = std::string_view::npos;
            while (line < text.size()) {
                const size_t e = std::min(text.find('\n', line), text.size());
                size_t b = line;
                while (h.tabs && b < e && text[b] == '\t') {
                    ++b;
                }
                if (!h.delimiter.empty() && text.substr(b, e - b) == h.delimiter) {
                    next = e;
                    break;
                }
                line = e + 1;
            }
            if (next == std::string_view::npos) {
                break; // no delimiter: read on as commands from here
            }
            if (!h.literal) {
                for (std::string_view sub : body_substitutions(text.substr(from, line - from))) {
                    for (auto& words : simple_commands(sub)) {
                        if (!words.empty()) {
                            out.back() = std::move(words);
                            out.emplace_back();
                        }
                    }
                }
            }
            i = next;
            from = next + 1;
        }
        heredocs.clear();
        return i;
    };
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quote != 0) {
            if (c == quote) {
                quote = 0;
            } else if (c == '\\' && quote == '"' && i + 1 < text.size()) {
                word += text[++i];
            } else {
                // A `$` in '...' is not expanded here: kept apart from one that is.
                word += c == '$' && quote == '\'' ? k_quoted_dollar : c;
            }
            continue;
        }
        if (c == '#' && !word_started) {
            // A comment, to the end of the line (a `#` inside a word is not one: $#, ${#a}).
            i = std::min(text.find('\n', i), text.size()) - 1;
        } else if (c == '\'' || c == '"') {
            quote = c;
            word_started = true;
        } else if (c == '(' && word_started && !word.empty() && word.back() == '=') {
            // An array assignment a=(x "$N" y): one word, its elements inside.
            word += k_array_paren;
            char in_quote = 0;
            for (++i; i < text.size() && (in_quote != 0 || text[i] != ')'); ++i) {
                in_quote = in_quote == 0 && (text[i] == '\'' || text[i] == '"') ? text[i]
                           : in_quote == text[i]                                ? 0
                                                                                : in_quote;
                word += text[i];
            }
            word += ')';
        } else if (c == '\\' && i + 1 < text.size()) {
            word += text[++i];
            word_started = true;
        } else if (c == '<' && i + 1 < text.size() && text[i + 1] == '(') {
            end_word();
            out.back().push_back("<(");
            end_command();
            ++i;
        } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '(') {
            end_command();
            ++i;
        } else if (c == '\n' && !heredocs.empty()) {
            end_command();
            i = skip_bodies(i);
        } else if (std::string_view(";|&\n()`").find(c) != std::string_view::npos) {
            end_command();
        } else if (c == ' ' || c == '\t' || c == '\r') {
            end_word();
        } else {
            if (c == '<' && text.substr(i, 2) == "<<" && text.substr(i, 3) != "<<<" &&
                (i == 0 || text[i - 1] != '<')) {
                heredocs.push_back(heredoc_at(text, i));
            }
            word += c;
            word_started = true;
        }
    }
    end_command();
    // Redirections: `<file`, `< file`, `2>&1`, `<<<word`, `<<EOF`: dropped with their target.
    for (auto& words : out) {
        std::vector<std::string> kept;
        for (size_t i = 0; i < words.size(); ++i) {
            const std::string& w = words[i];
            const size_t op = w.find_first_not_of("0123456789");
            if (w != "<(" && op != std::string::npos && (w[op] == '<' || w[op] == '>')) {
                if (w.find_first_not_of("<>&-", op) == std::string::npos) {
                    ++i; // the operator alone: its target is the next word
                }
                continue;
            }
            kept.push_back(w);
        }
        words = std::move(kept);
    }
    return out;
}

} // namespace rollback::playbook::detail
