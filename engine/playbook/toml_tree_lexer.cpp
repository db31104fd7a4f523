// SPDX-License-Identifier: MIT
#include "playbook/toml_tree_lexer.hpp"

namespace rollback::playbook::tree::detail {

/// From '#' to the end of the line (not included): a tab, printable ASCII or UTF-8.
void Lexer::comment() {
    ++m_at;
    while (m_at < m_s.size()) {
        const auto c = static_cast<unsigned char>(m_s[m_at]);
        if (c == '\n' || c == '\r') {
            return;
        }
        if (c >= 0x80) {
            wide_character();
            continue;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7F) {
            throw GiveUp{};
        }
        ++m_at;
    }
}

/// A UTF-8 sequence at m_at of a code point from U+00A0 (no C1 control), past it.
void Lexer::wide_character() {
    if (m_first_wide == std::string_view::npos) {
        m_first_wide = m_at;
    }
    const auto byte = [&](std::size_t i) {
        return m_at + i < m_s.size() ? static_cast<unsigned char>(m_s[m_at + i]) : 0u;
    };
    const unsigned b0 = byte(0);
    auto cont = [&](std::size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
        const unsigned b = byte(i);
        if (b < lo || b > hi) {
            throw GiveUp{};
        }
    };
    std::size_t n = 0;
    if (b0 == 0xC2) {
        cont(1, 0xA0); // U+00A0..U+00BF: U+0080..U+009F are C1 controls
        n = 2;
    } else if (b0 >= 0xC3 && b0 <= 0xDF) {
        cont(1);
        n = 2;
    } else if (b0 == 0xE0) {
        cont(1, 0xA0);
        cont(2);
        n = 3;
    } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
        cont(1);
        cont(2);
        n = 3;
    } else if (b0 == 0xED) {
        cont(1, 0x80, 0x9F); // no surrogates
        cont(2);
        n = 3;
    } else if (b0 == 0xF0) {
        cont(1, 0x90);
        cont(2);
        cont(3);
        n = 4;
    } else if (b0 >= 0xF1 && b0 <= 0xF3) {
        cont(1);
        cont(2);
        cont(3);
        n = 4;
    } else if (b0 == 0xF4) {
        cont(1, 0x80, 0x8F);
        cont(2);
        cont(3);
        n = 4;
    } else {
        throw GiveUp{};
    }
    m_at += n;
}

/// A "basic string" on one line from its opening quote, past its closing one: its value
/// (a view of the text when it has no escape).
std::string_view Lexer::basic_string() {
    if (m_s.substr(m_at, 3) == "\"\"\"") {
        throw GiveUp{}; // a multi-line string
    }
    ++m_at;
    const std::size_t begin = m_at;
    std::string decoded;
    bool escaped = false;
    while (m_at < m_s.size()) {
        const auto c = static_cast<unsigned char>(m_s[m_at]);
        if (c == '"') {
            const std::string_view raw = m_s.substr(begin, m_at - begin);
            ++m_at;
            return escaped ? m_b.keep(decoded) : raw;
        }
        if (c == '\\') {
            if (!escaped) {
                decoded.assign(m_s.substr(begin, m_at - begin));
                escaped = true;
            }
            escape(decoded);
            continue;
        }
        const std::size_t from = m_at;
        if (c >= 0x80) {
            wide_character();
        } else if ((c < 0x20 && c != '\t') || c == 0x7F) {
            throw GiveUp{};
        } else {
            ++m_at;
        }
        if (escaped) {
            decoded.append(m_s.substr(from, m_at - from));
        }
    }
    throw GiveUp{};
}

/// The escape at m_at (a backslash), decoded onto `out`, and m_at past it.
void Lexer::escape(std::string& out) {
    if (m_at + 1 >= m_s.size()) {
        throw GiveUp{};
    }
    const char e = m_s[m_at + 1];
    m_at += 2;
    switch (e) {
    case 'b':
        out += '\b';
        return;
    case 't':
        out += '\t';
        return;
    case 'n':
        out += '\n';
        return;
    case 'f':
        out += '\f';
        return;
    case 'r':
        out += '\r';
        return;
    case '"':
        out += '"';
        return;
    case '\\':
        out += '\\';
        return;
    case 'u':
    case 'U':
        break;
    default:
        throw GiveUp{};
    }
    const std::size_t digits = e == 'u' ? 4 : 8;
    if (m_at + digits > m_s.size()) {
        throw GiveUp{};
    }
    std::uint32_t cp = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        const char h = m_s[m_at + i];
        std::uint32_t v = 0;
        if (h >= '0' && h <= '9') {
            v = static_cast<std::uint32_t>(h - '0');
        } else if (h >= 'a' && h <= 'f') {
            v = static_cast<std::uint32_t>(h - 'a' + 10);
        } else if (h >= 'A' && h <= 'F') {
            v = static_cast<std::uint32_t>(h - 'A' + 10);
        } else {
            throw GiveUp{};
        }
        cp = cp * 16 + v;
    }
    m_at += digits;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        throw GiveUp{};
    }
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// A 'literal string' on one line, past its closing quote: a view of the text.
std::string_view Lexer::literal_string() {
    if (m_s.substr(m_at, 3) == "'''") {
        throw GiveUp{};
    }
    ++m_at;
    const std::size_t begin = m_at;
    while (m_at < m_s.size()) {
        const auto c = static_cast<unsigned char>(m_s[m_at]);
        if (c == '\'') {
            ++m_at;
            return m_s.substr(begin, m_at - 1 - begin);
        }
        if (c >= 0x80) {
            wide_character();
        } else if ((c < 0x20 && c != '\t') || c == 0x7F) {
            throw GiveUp{};
        } else {
            ++m_at;
        }
    }
    throw GiveUp{};
}

/// A decimal integer of at most 18 digits: [+-]?(0|[1-9](_?[0-9])*).
std::int64_t Lexer::integer() {
    bool negative = false;
    if (m_s[m_at] == '+' || m_s[m_at] == '-') {
        negative = m_s[m_at] == '-';
        ++m_at;
    }
    std::int64_t value = 0;
    std::size_t digits = 0;
    bool after_underscore = false;
    const std::size_t first = m_at;
    while (m_at < m_s.size()) {
        const char c = m_s[m_at];
        if (c >= '0' && c <= '9') {
            if (++digits > 18 || (digits == 2 && m_s[first] == '0')) {
                throw GiveUp{};
            }
            value = value * 10 + (c - '0');
            after_underscore = false;
        } else if (c == '_') {
            if (digits == 0 || after_underscore) {
                throw GiveUp{};
            }
            after_underscore = true;
        } else {
            break;
        }
        ++m_at;
    }
    if (digits == 0 || after_underscore || !at_terminator()) {
        throw GiveUp{}; // a float, a date, hex, inf, nan, or not TOML
    }
    return negative ? -value : value;
}

/// Blanks, then an optional comment, then a line break or the end of the text.
void Lexer::end_of_line() {
    skip_blanks();
    if (m_at < m_s.size() && m_s[m_at] == '#') {
        comment();
    }
    if (m_at == m_s.size()) {
        return;
    }
    line_break();
}

void Lexer::line_break() {
    if (m_s[m_at] == '\r') {
        ++m_at;
        if (m_at == m_s.size() || m_s[m_at] != '\n') {
            throw GiveUp{};
        }
    }
    if (m_s[m_at] != '\n') {
        throw GiveUp{};
    }
    ++m_at;
    ++m_line;
    m_line_start = m_at;
    m_first_wide = std::string_view::npos;
}
Position Lexer::wide_position(std::size_t at) {
    // Asked for in about increasing order: a line's continuation bytes are counted once.
    if (m_counted_line != m_line || at < m_counted_to) {
        m_counted_line = m_line;
        m_counted_to = m_first_wide;
        m_continuations = 0;
    }
    for (; m_counted_to < at; ++m_counted_to) {
        // A continuation byte is no column of its own.
        m_continuations += (static_cast<unsigned char>(m_s[m_counted_to]) & 0xC0) == 0x80;
    }
    return {m_line, static_cast<std::uint32_t>(at - m_line_start + 1 - m_continuations)};
}

} // namespace rollback::playbook::tree::detail
