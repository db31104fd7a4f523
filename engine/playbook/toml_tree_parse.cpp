// SPDX-License-Identifier: MIT
// tree::parse_plain: a plain TOML document read in one pass, straight into a tree::Document.
// Anything it does not read the way toml++ would — every error, and every construct outside its
// subset — makes it give up (nullopt) at once, and toml++ reads the text as before: so every
// message about a bad file is still toml++'s, and a file is never taken for what toml++ would
// not take it for. tests/unit/test_playbook_toml_tree.cpp compares the two on the toml-test
// documents and on mutations of them.
#include "playbook/toml_tree.hpp"

#include "playbook/toml_tree_lexer.hpp"

#include <algorithm>
#include <cstring>

namespace rollback::playbook::tree {
namespace {

using detail::GiveUp;

// Limits within which the text can never nest deeper than TomlReader's k_max_toml_depth (64),
// however ShapeCheck counts: 4 + 4 + 8 x (1 + 4) < 64. Past them: toml++'s way.
constexpr std::size_t k_max_segments = 4;
constexpr int k_max_nesting = 8;

/// How a table came to be, which decides what may add to it later (toml++'s rules).
enum class Made : std::uint8_t {
    root,
    header,        ///< [a] or an element of [[a]]
    implicit,      ///< a, made by the header [a.b]
    dotted,        ///< a, made by the key a.b = ... in the table being written
    inline_table,  ///< {...}: nothing adds to it once closed
    inline_dotted, ///< a, made by the key a.b = ... inside an inline table
};

class Parser : detail::Lexer {
  public:
    Parser(std::string_view text, Builder& b) : Lexer(text, b) { m_made.push_back(Made::root); }

    void document() {
        if (m_s.substr(0, 3) == "\xEF\xBB\xBF") {
            throw GiveUp{}; // a byte order mark: toml++ skips it, and counts columns after it
        }
        std::uint32_t current = 0;
        while (m_at < m_s.size()) {
            skip_blanks();
            if (m_at == m_s.size()) {
                break;
            }
            const char c = m_s[m_at];
            if (c == '#' || c == '\n' || c == '\r') {
                end_of_line();
            } else if (c == '[') {
                current = header();
                end_of_line();
            } else if (is_bare(c) || c == '"' || c == '\'') {
                key_value(current);
                end_of_line();
            } else {
                throw GiveUp{};
            }
        }
    }

  private:
    struct Segment {
        std::string_view text;
        Region at;
    };

    /// A key of one or more segments (a.b."c"), and the blanks after it.
    void key(std::vector<Segment>& out) {
        out.clear();
        for (;;) {
            if (out.size() == k_max_segments || m_at == m_s.size()) {
                throw GiveUp{};
            }
            const std::size_t begin = m_at;
            std::string_view text;
            const char c = m_s[m_at];
            if (is_bare(c)) {
                while (m_at < m_s.size() && is_bare(m_s[m_at])) {
                    ++m_at;
                }
                text = m_s.substr(begin, m_at - begin);
            } else if (c == '"') {
                text = basic_string();
            } else if (c == '\'') {
                text = literal_string();
            } else {
                throw GiveUp{};
            }
            if (text.empty()) {
                throw GiveUp{}; // "" = 1 is TOML, but rare enough to leave to toml++
            }
            out.push_back({text, {position(begin), position(m_at)}});
            skip_blanks();
            if (m_at < m_s.size() && m_s[m_at] == '.') {
                ++m_at;
                skip_blanks();
                continue;
            }
            return;
        }
    }

    Node value(int depth) {
        if (m_at == m_s.size()) {
            throw GiveUp{};
        }
        const std::size_t begin = m_at;
        const char c = m_s[m_at];
        if (c == '"' || c == '\'') {
            const std::string_view s = c == '"' ? basic_string() : literal_string();
            return Builder::string(s, {position(begin), position(m_at)});
        }
        if (c == 't' || c == 'f') {
            const std::string_view word = c == 't' ? "true" : "false";
            if (m_s.substr(m_at, word.size()) != word) {
                throw GiveUp{};
            }
            m_at += word.size();
            if (!at_terminator()) {
                throw GiveUp{};
            }
            return Builder::boolean(c == 't', {position(begin), position(m_at)});
        }
        if (c == '[' || c == '{') {
            if (depth == k_max_nesting) {
                throw GiveUp{};
            }
            return c == '[' ? array(depth + 1) : inline_table(depth + 1);
        }
        if ((c >= '0' && c <= '9') || c == '+' || c == '-') {
            const std::int64_t v = integer();
            return Builder::integer(v, {position(begin), position(m_at)});
        }
        throw GiveUp{};
    }

    /// Blanks, line breaks and comments between the values of an array.
    void skip_array_space() {
        for (;;) {
            skip_blanks();
            if (m_at == m_s.size()) {
                throw GiveUp{};
            }
            if (m_s[m_at] == '#') {
                comment();
            } else if (m_s[m_at] == '\n' || m_s[m_at] == '\r') {
                line_break();
            } else {
                return;
            }
        }
    }

    Node array(int depth) {
        const Position begin = position(m_at);
        ++m_at;
        const std::size_t mark = m_stack.size();
        for (;;) {
            skip_array_space();
            if (m_s[m_at] == ']') {
                break;
            }
            m_stack.push_back(value(depth));
            skip_array_space();
            if (m_s[m_at] == ',') {
                ++m_at;
                continue;
            }
            if (m_s[m_at] != ']') {
                throw GiveUp{};
            }
            break;
        }
        ++m_at;
        Node n = m_b.array({begin, position(m_at)}, true);
        for (std::size_t i = mark; i < m_stack.size(); ++i) {
            m_b.append(Builder::index_of(n), m_stack[i]);
        }
        m_stack.resize(mark);
        return n;
    }

    Node inline_table(int depth) {
        const Position begin = position(m_at);
        ++m_at;
        Node n = m_b.table({begin, begin}, true);
        const std::uint32_t t = Builder::index_of(n);
        m_made.push_back(Made::inline_table);
        skip_blanks();
        if (m_at < m_s.size() && m_s[m_at] == '}') {
            ++m_at;
        } else {
            for (;;) {
                key_value(t, depth);
                skip_blanks();
                if (m_at == m_s.size()) {
                    throw GiveUp{};
                }
                if (m_s[m_at] == ',') {
                    ++m_at;
                    skip_blanks(); // then a key: a trailing comma is no TOML 1.0
                    continue;
                }
                if (m_s[m_at] != '}') {
                    throw GiveUp{};
                }
                ++m_at;
                break;
            }
        }
        return Builder::placed(n, {begin, position(m_at)});
    }

    /// `key = value` into table `table`; inside an inline table (`depth` > 0) the tables its
    /// dotted key makes are closed with it.
    void key_value(std::uint32_t table, int depth = 0) {
        std::vector<Segment>& segments = m_segments[depth];
        key(segments);
        if (m_at == m_s.size() || m_s[m_at] != '=') {
            throw GiveUp{};
        }
        ++m_at;
        skip_blanks();
        for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
            const Segment& seg = segments[i];
            if (const Node* found = m_b.find(table, seg.text)) {
                // Only a table an earlier dotted key made here: anything else is toml++'s.
                if (!found->is_table() || m_made[Builder::index_of(*found)] !=
                                              (depth > 0 ? Made::inline_dotted : Made::dotted)) {
                    throw GiveUp{};
                }
                table = Builder::index_of(*found);
                continue;
            }
            Node sub = m_b.table(seg.at);
            m_made.push_back(depth > 0 ? Made::inline_dotted : Made::dotted);
            m_b.add(table, Builder::key(seg.text, seg.at), sub);
            table = Builder::index_of(sub);
        }
        const Segment last = segments.back();
        if (m_b.find(table, last.text) != nullptr) {
            throw GiveUp{}; // a key defined twice
        }
        const Node v = value(depth);
        m_b.add(table, Builder::key(last.text, last.at), v);
    }

    /// [a.b] or [[a.b]] up to its closing bracket; returns the table it opens.
    std::uint32_t header() {
        const std::size_t begin_at = m_at;
        ++m_at;
        const bool is_array = m_at < m_s.size() && m_s[m_at] == '[';
        if (is_array) {
            ++m_at;
        }
        skip_blanks();
        std::vector<Segment>& segments = m_segments[0];
        key(segments);
        if (m_at == m_s.size() || m_s[m_at] != ']') {
            throw GiveUp{};
        }
        ++m_at;
        if (is_array) {
            if (m_at == m_s.size() || m_s[m_at] != ']') {
                throw GiveUp{};
            }
            ++m_at;
        }
        const Region at{position(begin_at), position(m_at)};
        std::uint32_t table = 0;
        for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
            const Segment& seg = segments[i];
            if (const Node* found = m_b.find(table, seg.text)) {
                if (found->is_table() && (m_made[Builder::index_of(*found)] == Made::header ||
                                          m_made[Builder::index_of(*found)] == Made::implicit)) {
                    table = Builder::index_of(*found);
                } else if (found->is_array() && !Builder::is_inline(*found)) {
                    table = Builder::index_of(m_b.last(Builder::index_of(*found)));
                } else {
                    throw GiveUp{};
                }
                continue;
            }
            Node sub = m_b.table(at);
            m_made.push_back(Made::implicit);
            m_b.add(table, Builder::key(seg.text, seg.at), sub);
            table = Builder::index_of(sub);
        }
        const Segment& last = segments.back();
        const Node* found = m_b.find(table, last.text);
        Node opened = m_b.table(at);
        m_made.push_back(Made::header);
        if (found != nullptr) {
            // Only a further element of an array of tables: a table made implicitly before
            // (promoted by toml++) and every redefinition are toml++'s.
            if (!is_array || !found->is_array() || Builder::is_inline(*found)) {
                throw GiveUp{};
            }
            m_b.append(Builder::index_of(*found), opened);
        } else if (is_array) {
            Node list = m_b.array(at);
            m_b.append(Builder::index_of(list), opened);
            m_b.add(table, Builder::key(last.text, last.at), list);
        } else {
            m_b.add(table, Builder::key(last.text, last.at), opened);
        }
        return Builder::index_of(opened);
    }
    std::vector<Made> m_made;                           ///< by table index
    std::vector<Node> m_stack;                          ///< elements of the arrays being read
    std::vector<Segment> m_segments[k_max_nesting + 1]; ///< the key being read, by depth
};
struct Counts {
    std::size_t equals = 0, commas = 0, brackets = 0;
    std::size_t line_brackets = 0;   ///< '[' first on its line: a header
    std::size_t double_brackets = 0; ///< "[[": mostly an array of tables' header
};

/// How many of each mark `s` holds: eight bytes at a time (a byte loop costs as much as the
/// parse of a short document).
Counts count_marks(std::string_view s) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    // The high bit of each byte of w that is c. Exact per byte (no borrow from a neighbour).
    const auto where = [](std::uint64_t w, char c) {
        const std::uint64_t x = w ^ (ones * static_cast<unsigned char>(c));
        return ~(((x & ~highs) + ~highs) | x | ~highs);
    };
    // The bits of such a mask summed by a multiplication (no popcount instruction is assumed).
    const auto count = [](std::uint64_t m) {
        return static_cast<std::size_t>(((m >> 7) * ones) >> 56);
    };
    Counts c;
    std::uint64_t after_newline = 0x80; // the text's first byte starts a line
    std::uint64_t after_bracket = 0;
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, s.data() + i, 8);
        const std::uint64_t bracket = where(w, '[');
        const std::uint64_t newline = where(w, '\n');
        c.equals += count(where(w, '='));
        c.commas += count(where(w, ','));
        c.brackets += count(bracket);
        // A byte after a newline (the last of the word before: into the first byte).
        c.line_brackets += count(bracket & ((newline << 8) | after_newline));
        c.double_brackets += count(bracket & ((bracket << 8) | after_bracket));
        after_newline = newline >> 56;
        after_bracket = bracket >> 56;
    }
    for (; i < s.size(); ++i) {
        const bool bracket = s[i] == '[';
        c.equals += s[i] == '=';
        c.commas += s[i] == ',';
        c.brackets += bracket;
        c.line_brackets += bracket && after_newline != 0;
        c.double_brackets += bracket && after_bracket != 0;
        after_newline = s[i] == '\n' ? 0x80 : 0;
        after_bracket = bracket ? 0x80 : 0;
    }
    return c;
}

} // namespace

std::optional<Document> parse_plain(std::shared_ptr<const std::string> text) {
    const std::string_view s = *text;
    Builder b(std::move(text));
    // Sized once, about right, instead of grown by copies (or reserved twice over: each byte of
    // a long playbook's tree is a byte touched). Members: a `key =` each, a [header] each (not
    // an [[array]] after its first); elements: a ',' or an array's '[' each, an [[array]] each.
    const Counts c = count_marks(s);
    const std::size_t headers = c.line_brackets;
    const std::size_t arrays_of_tables = std::min(c.double_brackets, headers);
    const std::size_t inline_arrays =
        c.brackets - std::min(c.brackets, headers + c.double_brackets);
    b.reserve(c.equals + headers - arrays_of_tables + 16,
              c.commas + arrays_of_tables + inline_arrays + 16);
    try {
        Parser(s, b).document();
    } catch (const GiveUp&) {
        return std::nullopt;
    }
    return std::move(b).finish();
}

} // namespace rollback::playbook::tree
