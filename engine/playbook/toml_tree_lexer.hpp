// SPDX-License-Identifier: MIT
#pragma once

// The characters of a plain TOML document for tree::parse_plain (toml_tree_parse.cpp): blanks,
// comments, line breaks, strings, integers, and where each is (line, and column in code points,
// as toml++ counts them). Whatever is not of the plain shape is a GiveUp. Internal to playbook/.

#include "playbook/toml_tree.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace rollback::playbook::tree::detail {

/// Why reading stopped: the text is not of the plain shape (or not TOML at all). Thrown once per
/// document at most, and caught by parse_plain.
struct GiveUp {};

class Lexer {
  public:
    /// Decoded strings go to `b` (Builder::keep).
    Lexer(std::string_view text, Builder& b) : m_s(text), m_b(b) {}

  protected:
    static bool is_bare(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    }

    void skip_blanks() {
        while (m_at < m_s.size() && (m_s[m_at] == ' ' || m_s[m_at] == '\t')) {
            ++m_at;
        }
    }

    /// Whether a scalar may end at m_at (what toml++ calls a value terminator).
    bool at_terminator() const {
        if (m_at == m_s.size()) {
            return true;
        }
        const char c = m_s[m_at];
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ']' ||
               c == '}' || c == '#';
    }

    /// Where byte `at` (on the current line) is: its column counts code points. Asked for in
    /// about increasing order, so a line's continuation bytes are counted once, not per ask.
    Position position(std::size_t at) {
        if (m_first_wide == std::string_view::npos || at <= m_first_wide) {
            return {m_line, static_cast<std::uint32_t>(at - m_line_start + 1)};
        }
        return wide_position(at);
    }

    /// From '#' to the end of the line (not included): a tab, printable ASCII or UTF-8.
    void comment();
    /// A UTF-8 sequence at m_at of a code point from U+00A0 (no C1 control), past it.
    void wide_character();
    /// A "basic string" on one line from its opening quote, past its closing one: its value
    /// (a view of the text when it has no escape).
    std::string_view basic_string();
    /// The escape at m_at (a backslash), decoded onto `out`, and m_at past it.
    void escape(std::string& out);
    /// A 'literal string' on one line, past its closing quote: a view of the text.
    std::string_view literal_string();
    /// A decimal integer of at most 18 digits: [+-]?(0|[1-9](_?[0-9])*).
    std::int64_t integer();
    /// Blanks, then an optional comment, then a line break or the end of the text.
    void end_of_line();
    void line_break();

    std::string_view m_s;
    Builder& m_b;
    std::size_t m_at = 0;
    std::uint32_t m_line = 1;
    std::size_t m_line_start = 0;
    std::size_t m_first_wide = std::string_view::npos; ///< first non-ASCII byte of the line

  private:
    /// position() past the line's first non-ASCII byte.
    Position wide_position(std::size_t at);

    std::uint32_t m_counted_line = 0; ///< wide_position(): continuation bytes of this line
    std::size_t m_counted_to = 0;     ///< counted from m_first_wide up to here
    std::size_t m_continuations = 0;
};

} // namespace rollback::playbook::tree::detail
