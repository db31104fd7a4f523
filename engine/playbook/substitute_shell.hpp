// SPDX-License-Identifier: MIT
#pragma once

// Internal to substitute.cpp: where the literal text of a shell script leaves /bin/sh's parser,
// so that a {{variable}} becomes exactly one word there (or is refused).

#include "util/encode.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::playbook::detail {

// Where the literal text written so far leaves a /bin/sh parser: the quoting of the innermost
// open construct. 'u' unquoted, 's' in '...', 'd' in "...", '(' in $(...), '`' in `...`,
// '{' in ${...}, 'a' in $((...)), 'h' in a here-document's body. In the last three, and after
// an `eval`, no quoting keeps a value one word: the shell parses or evaluates it once more
// (parameter-expansion words, arithmetic, here-document lines ending the document), so a
// reference there is refused (unsafe()).
class ShellState {
  public:
    void advance(std::string_view text) {
        for (size_t i = 0; i < text.size(); ++i) {
            if (m_nested_depth != 0 && m_stack.size() < m_nested_depth) {
                m_nested_depth = 0; // the nested command string closed
            }
            char c = text[i];
            char top = m_stack.back();
            if (top == 'h') {
                // A here-document's body: lines until the delimiter alone on a line.
                if (c == '\n') {
                    std::string_view line(m_line);
                    if (m_strip_tabs) {
                        line.remove_prefix(std::min(line.find_first_not_of('\t'), line.size()));
                    }
                    if (line == m_delimiter) {
                        m_stack.pop_back();
                    }
                    m_line.clear();
                } else {
                    m_line += c;
                }
                continue;
            }
            if (c == '\n' && !m_pending_delimiter.empty() && top == 'u') {
                m_delimiter = m_pending_delimiter;
                m_pending_delimiter.clear();
                m_line.clear();
                m_stack.push_back('h');
                continue;
            }
            if (top == 'u') {
                track_word(c);
            }
            if (top == 's') {
                if (c == '\'') {
                    m_stack.pop_back();
                }
            } else if (c == '\\') {
                ++i; // the next character is literal (in "..." too for the ones that matter)
            } else if (c == '$' && text.substr(i, 3) == "$((") {
                m_stack.push_back('a');
                i += 2;
            } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '(') {
                m_stack.push_back('(');
                ++i;
            } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
                m_stack.push_back('{');
                ++i;
            } else if (top == 'a') {
                if (text.substr(i, 2) == "))") {
                    m_stack.pop_back();
                    ++i;
                }
            } else if (c == '}' && top == '{') {
                m_stack.pop_back();
            } else if (c == '`') {
                if (top == '`') {
                    m_stack.pop_back();
                } else {
                    m_stack.push_back('`');
                }
            } else if (top == 'd') {
                if (c == '"') {
                    m_stack.pop_back();
                }
            } else if (c == '\'') {
                push_quote('s', top);
            } else if (c == '"') {
                push_quote('d', top);
            } else if (c == ')' && top == '(') {
                m_stack.pop_back();
            } else if (c == '<' && top == 'u' && text.substr(i, 2) == "<<" &&
                       text.substr(i, 3) != "<<<") {
                i = read_delimiter(text, i + 2);
            } else if (top != 'd' && is_word_start(text, i) && text.substr(i, 4) == "eval" &&
                       (i + 4 >= text.size() || is_blank(text[i + 4]))) {
                m_eval = true;
            }
        }
    }
    /// Why a value cannot be one word here, or empty when it can.
    std::string unsafe() const {
        if (m_nested_depth != 0 && m_stack.size() >= m_nested_depth) {
            // (checked again here: the literal text may end right after the quote closed)
            return "inside a command string another shell parses again (" + m_nested_by + ")";
        }
        switch (m_stack.back()) {
        case '{':
            return "inside ${...}";
        case 'a':
            return "inside $((...)) arithmetic";
        case 'h':
            return "inside a here-document (a line of the value could end it)";
        default:
            return m_eval ? "after eval (the shell parses the line twice)" : "";
        }
    }
    // The value as one word of the command, in the quoting the reference is written in.
    std::string encode(std::string_view value) const {
        switch (m_stack.back()) {
        case 's': // inside '...': close, an escaped quote, reopen
            return util::replace_all(std::string(value), "'", "'\\''");
        case 'd': // inside "...": close it, one single-quoted word, reopen
            return "\"" + util::shell_quote(value) + "\"";
        default:
            return util::shell_quote(value);
        }
    }

  private:
    /// The words of the current simple command, unquoted context only (enough to see
    /// `sh -c`, `bash -lc`, `su -c`, `ssh HOST` before a quoted string).
    void track_word(char c) {
        if (c == ';' || c == '\n' || c == '|' || c == '&') {
            m_words.clear();
            m_word.clear();
        } else if (c == ' ' || c == '\t') {
            if (!m_word.empty()) {
                m_words.push_back(m_word);
                m_word.clear();
            }
        } else if (c != '\'' && c != '"') {
            m_word += c;
        }
    }
    /// A quote opened in unquoted context: when the words before it run their argument through
    /// another shell, everything inside is parsed twice.
    void push_quote(char kind, char top) {
        m_stack.push_back(kind);
        if (top != 'u' || m_nested_depth != 0) {
            return;
        }
        std::vector<std::string> words = m_words;
        if (!m_word.empty()) {
            words.push_back(m_word);
        }
        auto base = [](const std::string& w) {
            size_t slash = w.rfind('/');
            return slash == std::string::npos ? w : w.substr(slash + 1);
        };
        for (size_t i = 0; i < words.size(); ++i) {
            const std::string b = base(words[i]);
            const bool shell = b == "sh" || b == "bash" || b == "dash" || b == "ksh" ||
                               b == "zsh" || b == "ash" || b == "su";
            if (b == "ssh" || b == "eval") {
                m_nested_depth = m_stack.size();
                m_nested_by = b;
                return;
            }
            if (shell) {
                for (size_t k = i + 1; k < words.size(); ++k) {
                    const std::string& w = words[k];
                    if (w.size() >= 2 && w[0] == '-' && w[1] != '-' &&
                        w.find('c') != std::string::npos) {
                        m_nested_depth = m_stack.size();
                        m_nested_by = b + " " + w;
                        return;
                    }
                }
            }
        }
    }
    static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == ';'; }
    static bool is_word_start(std::string_view text, size_t i) {
        return i == 0 || std::string_view(" \t\n;&|(").find(text[i - 1]) != std::string_view::npos;
    }
    /// After `<<`: `-` strips tabs; the delimiter word (quoted or not) is read; its body begins
    /// after the end of the line. Returns the index of the word's last character.
    size_t read_delimiter(std::string_view text, size_t i) {
        m_strip_tabs = i < text.size() && text[i] == '-';
        if (m_strip_tabs) {
            ++i;
        }
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) {
            ++i;
        }
        std::string word;
        for (; i < text.size() && !is_blank(text[i]) && text[i] != '<' && text[i] != '>' &&
               text[i] != '|' && text[i] != '&' && text[i] != ')';
             ++i) {
            if (text[i] != '\'' && text[i] != '"' && text[i] != '\\') {
                word += text[i];
            }
        }
        if (!word.empty()) {
            m_pending_delimiter = word;
        }
        return i - 1;
    }

    std::vector<char> m_stack{'u'};
    std::vector<std::string> m_words;
    std::string m_word;
    size_t m_nested_depth = 0; ///< the stack size at the nested script's opening quote; 0: none
    std::string m_nested_by;
    bool m_eval = false;
    bool m_strip_tabs = false;
    std::string m_pending_delimiter, m_delimiter, m_line;
};

} // namespace rollback::playbook::detail
