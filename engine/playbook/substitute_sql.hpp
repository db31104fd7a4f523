// SPDX-License-Identifier: MIT
#pragma once

// Internal to substitute.cpp: where the literal text of a SQL statement leaves PostgreSQL's
// lexer, so that a {{variable}} becomes a bound parameter only where SQL takes a value.

#include "util/encode.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::playbook::detail {

inline bool is_ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Where the literal SQL written so far leaves PostgreSQL's lexer.
class SqlState {
  public:
    enum Where { code, string, estring, ident, dollar, line_comment, block_comment };

    void advance(std::string_view text, const std::string& out_so_far) {
        advance(text, out_so_far, [](size_t) {});
    }

    /// As above, and calls on_code(i) for each character of `text` that is SQL code: not inside
    /// a string, quoted identifier, dollar quote or comment, nor the quote or comment mark that
    /// opens one.
    template <class OnCode>
    void advance(std::string_view text, const std::string& out_so_far, OnCode on_code) {
        for (size_t i = 0; i < text.size(); ++i) {
            char c = text[i];
            char next = i + 1 < text.size() ? text[i + 1] : '\0';
            switch (m_where) {
            case code:
                if (c == '\'' && i > 0 && (text[i - 1] == 'E' || text[i - 1] == 'e') &&
                    (i == 1 || !is_ident_char(text[i - 2]))) {
                    // E'...': PostgreSQL's escape string, where \' does not end the literal.
                    m_where = estring;
                } else if (c == '\'') {
                    m_where = string;
                    // Where the literal's content begins in the output.
                    m_string_start = out_so_far.size() + i + 1;
                } else if (c == '"') {
                    m_where = ident;
                } else if (c == '-' && next == '-') {
                    m_where = line_comment;
                    ++i;
                } else if (c == '/' && next == '*') {
                    m_where = block_comment;
                    m_depth = 1;
                    ++i;
                } else if (c == '$' && (i == 0 || !is_ident_char(text[i - 1]))) {
                    size_t close = text.find('$', i + 1);
                    if (close != std::string_view::npos) {
                        std::string_view tag = text.substr(i, close - i + 1);
                        bool is_tag =
                            std::all_of(tag.begin() + 1, tag.end() - 1, is_ident_char) &&
                            !(tag.size() > 2 && std::isdigit(static_cast<unsigned char>(tag[1])));
                        if (is_tag) {
                            m_where = dollar;
                            m_tag = std::string(tag);
                            i = close;
                        } else {
                            on_code(i);
                        }
                    } else {
                        on_code(i);
                    }
                } else {
                    on_code(i);
                }
                break;
            case string:
                if (c == '\'') {
                    if (next == '\'') {
                        ++i;
                    } else {
                        m_where = code;
                    }
                }
                break;
            case estring:
                if (c == '\\') {
                    ++i;
                } else if (c == '\'') {
                    if (next == '\'') {
                        ++i;
                    } else {
                        m_where = code;
                    }
                }
                break;
            case ident:
                if (c == '"') {
                    if (next == '"') {
                        ++i;
                    } else {
                        m_where = code;
                    }
                }
                break;
            case dollar:
                if (text.substr(i, m_tag.size()) == m_tag) {
                    m_where = code;
                    i += m_tag.size() - 1;
                }
                break;
            case line_comment:
                if (c == '\n') {
                    m_where = code;
                }
                break;
            case block_comment:
                if (c == '*' && next == '/') {
                    m_depth -= 1;
                    m_where = m_depth == 0 ? code : block_comment;
                    ++i;
                } else if (c == '/' && next == '*') {
                    m_depth += 1;
                    ++i;
                }
                break;
            }
        }
    }
    Where where() const { return m_where; }
    size_t string_start() const { return m_string_start; }
    void leave_string() { m_where = code; }

  private:
    Where m_where = code;
    size_t m_string_start = 0;
    int m_depth = 0;
    std::string m_tag;
};

} // namespace rollback::playbook::detail
