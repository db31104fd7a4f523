// SPDX-License-Identifier: MIT
#pragma once

// Internal to substitute.cpp: where the literal text of a shell script leaves /bin/sh's parser,
// so that a {{variable}} becomes exactly one word there (or is refused).

#include "playbook/substitute_sql.hpp"
#include "playbook/variables.hpp"
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
            } else if (top == 'u' && text.substr(i, 2) == "((" && m_word == "(") {
                // the (( ... )) command (track_word saw the first parenthesis already)
                m_word.clear();
                m_stack.push_back('a');
                ++i;
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
            return "inside a string that " + m_nested_by + " parses again as code";
        }
        switch (m_stack.back()) {
        case '{':
            return "inside ${...}";
        case 'a':
            return "inside $((...)) or ((...)) arithmetic";
        case 'h':
            return "inside a here-document (a line of the value could end it)";
        default:
            break;
        }
        if (m_eval) {
            return "after eval (the shell parses the line twice)";
        }
        if (m_stack.back() == '(' || m_stack.back() == '`') {
            return "";
        }
        return re_evaluated();
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
    /// Where bash evaluates a word's text again, however it is quoted: arithmetic (the
    /// operands of [[ ]], let, integer variables, array subscripts) and variable names
    /// (printf -v, read, unset, declare ...: a name's subscript is arithmetic), and a word
    /// another program runs as code (argument_roles over the command's words).
    std::string re_evaluated() const {
        std::vector<std::string> words = m_words;
        words.push_back(m_word.empty() ? std::string("x") : m_word);
        const size_t here = words.size() - 1;
        if (m_dbl_bracket) {
            return "inside [[ ]] (bash evaluates its operands as arithmetic; compare with [ ] "
                   "or case)";
        }
        const std::string& first = words.front();
        if (first == "let") {
            return "in a let expression (arithmetic)";
        }
        auto bracket = m_word.find('[');
        if (bracket != std::string::npos && m_word.find(']', bracket) == std::string::npos &&
            bracket > 0) {
            return "inside an array subscript (arithmetic)";
        }
        static const std::vector<std::string_view> name_builtins{
            "unset",   "read",    "mapfile", "readarray", "export", "readonly",
            "declare", "typeset", "local",   "getopts",   "printf"};
        const bool assignment = is_assignment(m_word);
        if (std::find(name_builtins.begin(), name_builtins.end(), first) != name_builtins.end()) {
            if (first == "printf") {
                if (here >= 1 && words[here - 1] == "-v") {
                    return "as printf -v's variable name (its subscript is arithmetic)";
                }
            } else if (!assignment) {
                return "as a variable name of " + first + " (its subscript is arithmetic)";
            }
        }
        if (assignment && m_integer_vars) {
            return "in an assignment in a script with integer variables (declare -i: the "
                   "value is evaluated as arithmetic)";
        }
        const ArgRoles roles = argument_roles(words);
        if (roles.role[here] != ArgRole::data) {
            return "in a word " + roles.program[here] + " runs as code";
        }
        return "";
    }
    static bool is_assignment(std::string_view word) {
        size_t eq = word.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            return false;
        }
        size_t end = word.find_first_of("[+=");
        return end != 0 &&
               std::all_of(word.begin(), word.begin() + static_cast<long>(end), is_ident_char);
    }
    /// A word of the current simple command is complete.
    void end_word() {
        if (m_word.empty()) {
            return;
        }
        if (m_word == "[[") {
            m_dbl_bracket = true;
        } else if (m_word == "]]") {
            m_dbl_bracket = false;
        }
        if (!m_words.empty() && m_word.size() >= 2 && m_word[0] == '-' && m_word[1] != '-' &&
            m_word.find('i') != std::string::npos) {
            const std::string& cmd = m_words.front();
            if (cmd == "declare" || cmd == "typeset" || cmd == "local" || cmd == "export" ||
                cmd == "readonly") {
                m_integer_vars = true;
            }
        }
        m_words.push_back(m_word);
        m_word.clear();
    }
    /// The words of the current simple command, unquoted context only (enough to see
    /// `sh -c`, `bash -lc`, `su -c`, `ssh HOST` before a quoted string).
    void track_word(char c) {
        if (c == ';' || c == '\n' || c == '|' || c == '&') {
            end_word(); // (`[[ a && b ]]` stays inside [[ ]])
            m_words.clear();
        } else if (c == ' ' || c == '\t') {
            end_word();
        } else {
            m_word += c; // (a quote too: the quoted text, not followed here, is part of the word)
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
        for (const auto& w : words) {
            const std::string b = base(w);
            if (b == "ssh" || b == "eval" || b == "trap") {
                m_nested_depth = m_stack.size();
                m_nested_by = b;
                return;
            }
        }
        // The quoted text is (part of) this word: the current one, or a new one.
        if (m_word.empty()) {
            words.push_back("x");
        }
        const ArgRoles roles = argument_roles(words);
        if (roles.role.back() != ArgRole::data) {
            m_nested_depth = m_stack.size();
            m_nested_by = roles.program.back();
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
    bool m_dbl_bracket = false;  ///< inside [[ ... ]]
    bool m_integer_vars = false; ///< the script declares integer variables (declare -i)
    bool m_strip_tabs = false;
    std::string m_pending_delimiter, m_delimiter, m_line;
};

} // namespace rollback::playbook::detail
