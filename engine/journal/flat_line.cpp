// SPDX-License-Identifier: MIT
#include "journal/flat_line.hpp"

#include <array>
#include <bit>
#include <cstring>

namespace rollback::journal {
namespace {

static_assert(std::endian::native == std::endian::little, "next_quote reads words little-endian");

/// Deeper than this, a line is left to Boost.JSON.
constexpr int k_max_depth = 8;

} // namespace

bool has_special_bytes(std::string_view text) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    std::size_t i = 0;
    for (; i + 8 <= text.size(); i += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, text.data() + i, 8);
        const std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
        const std::uint64_t x = w ^ (ones * '\\');
        const std::uint64_t backslash = (x - ones) & ~x & highs;
        if (((w & highs) | below_space | backslash) != 0) {
            return true;
        }
    }
    for (; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c > 0x7F || c == '\\') {
            return true;
        }
    }
    return false;
}

namespace {

/// A key seen in an object, for the duplicate check (trivial: an array of them costs nothing to
/// set up, and most objects are small).
struct Key {
    const char* data;
    std::size_t size;
    bool is(std::string_view key) const {
        return size == key.size() &&
               (size == 0 || (data[0] == key[0] && data[size - 1] == key.back() &&
                              std::memcmp(data, key.data(), size) == 0));
    }
};

/// Reads plain JSON left to right; every step either consumes what it expects or fails.
class Scanner {
  public:
    Scanner(std::string_view s, bool special) : m_s(s), m_special(special) {}

    bool at_end() const { return m_at == m_s.size(); }
    bool take(char c) {
        if (m_at < m_s.size() && m_s[m_at] == c) {
            ++m_at;
            return true;
        }
        return false;
    }

    /// The members of an object after its '{', up to and past its '}': into `members` when
    /// given (at most FlatLine::k_max_members, distinct keys), their number into `count`.
    bool object(FlatLine::Member* members, std::size_t& count, int depth) {
        count = 0;
        if (take('}')) {
            return true;
        }
        std::array<Key, FlatLine::k_max_members> keys; // left unset: only [0, count) is read
        do {
            std::string_view key;
            bool escaped = false;
            FlatValue v{};
            if (count == keys.size() || !take('"') || !string(key, escaped) || escaped ||
                !take(':') || !value(v, depth)) {
                return false;
            }
            for (std::size_t k = 0; k < count; ++k) {
                if (keys[k].is(key)) {
                    return false; // a duplicate key: Boost.JSON's rule decides which counts
                }
            }
            keys[count] = {key.data(), key.size()};
            if (members != nullptr) {
                members[count] = {key, v};
            }
            ++count;
        } while (take(','));
        return take('}');
    }

    /// One value; an object or an array is checked through and kept as its text.
    bool value(FlatValue& v, int depth) {
        if (m_at == m_s.size()) {
            return false;
        }
        const std::size_t begin = m_at;
        switch (m_s[m_at]) {
        case '"':
            ++m_at;
            v.kind = FlatKind::string;
            return string(v.text, v.escaped);
        case 't':
            v.kind = FlatKind::boolean;
            v.integer = 1;
            return word("true");
        case 'f':
            v.kind = FlatKind::boolean;
            return word("false");
        case 'n':
            v.kind = FlatKind::null;
            return word("null");
        case '{': {
            ++m_at;
            v.kind = FlatKind::object;
            std::size_t count = 0;
            if (depth == k_max_depth || !object(nullptr, count, depth + 1)) {
                return false;
            }
            v.text = m_s.substr(begin, m_at - begin);
            return true;
        }
        case '[':
            ++m_at;
            v.kind = FlatKind::array;
            if (depth == k_max_depth || !array(nullptr, depth + 1)) {
                return false;
            }
            v.text = m_s.substr(begin, m_at - begin);
            return true;
        default:
            v.kind = FlatKind::integer;
            return integer(v.integer);
        }
    }

    /// The values of an array after its '[', up to and past its ']'; into `items` if given.
    bool array(std::vector<FlatValue>* items, int depth) {
        if (take(']')) {
            return true;
        }
        do {
            FlatValue v{};
            if (!value(v, depth)) {
                return false;
            }
            if (items != nullptr) {
                items->push_back(v);
            }
        } while (take(','));
        return take(']');
    }

  private:
    bool word(std::string_view w) {
        if (m_s.substr(m_at, w.size()) == w) {
            m_at += w.size();
            return true;
        }
        return false;
    }

    /// A string after its opening quote, up to and past its closing quote: printable ASCII and
    /// the escapes \" \\ \/ \b \f \n \r \t (a \u escape or any other byte: false).
    bool string(std::string_view& text, bool& escaped) {
        escaped = false;
        const std::size_t begin = m_at;
        if (!m_special) {
            const std::size_t quote = next_quote(m_at);
            if (quote == m_s.size()) {
                return false;
            }
            text = m_s.substr(begin, quote - begin);
            m_at = quote + 1;
            return true;
        }
        while (m_at < m_s.size()) {
            const auto c = static_cast<unsigned char>(m_s[m_at]);
            if (c == '"') {
                text = m_s.substr(begin, m_at - begin);
                ++m_at;
                return true;
            }
            if (c < 0x20 || c > 0x7F) {
                return false;
            }
            if (c == '\\') {
                if (m_at + 1 == m_s.size() ||
                    std::string_view("\"\\/bfnrt").find(m_s[m_at + 1]) == std::string_view::npos) {
                    return false;
                }
                escaped = true;
                ++m_at;
            }
            ++m_at;
        }
        return false;
    }

    /// Where the next '"' from `at` is (m_s.size() when none): eight bytes at a time, inline
    /// (most strings are short: a call to memchr each costs more than the search).
    std::size_t next_quote(std::size_t at) const {
        constexpr std::uint64_t ones = 0x0101010101010101ULL;
        constexpr std::uint64_t highs = 0x8080808080808080ULL;
        for (; at + 8 <= m_s.size(); at += 8) {
            std::uint64_t w = 0;
            std::memcpy(&w, m_s.data() + at, 8);
            const std::uint64_t x = w ^ (ones * '"');
            if (const std::uint64_t found = (x - ones) & ~x & highs; found != 0) {
                // The lowest flag is the first '"' (a false flag only ever follows a true one).
                return at + static_cast<std::size_t>(std::countr_zero(found) / 8);
            }
        }
        while (at < m_s.size() && m_s[at] != '"') {
            ++at;
        }
        return at;
    }

    /// An integer without a fraction or exponent of at most 18 digits ("-0" left to Boost).
    bool integer(std::int64_t& out) {
        const bool negative = take('-');
        const std::size_t begin = m_at;
        while (m_at < m_s.size() && m_s[m_at] >= '0' && m_s[m_at] <= '9') {
            ++m_at;
        }
        const std::size_t digits = m_at - begin;
        if (digits == 0 || digits > 18 || (m_s[begin] == '0' && (digits > 1 || negative))) {
            return false;
        }
        // Summed only once known to be at most 18 digits: more would overflow (fuzz_journal).
        std::int64_t n = 0;
        for (std::size_t i = begin; i < m_at; ++i) {
            n = n * 10 + (m_s[i] - '0');
        }
        out = negative ? -n : n;
        return true;
    }

    std::string_view m_s;
    bool m_special; ///< m_s has a control byte, a byte above 0x7F or a backslash
    std::size_t m_at = 0;
};

} // namespace

bool FlatLine::scan(std::string_view line) {
    m_count = 0;
    m_next = 0;
    Scanner in(line, has_special_bytes(line));
    return in.take('{') && in.object(m_members.data(), m_count, 1) && in.at_end();
}

const FlatValue* FlatLine::find(std::string_view key) const {
    // From the member after the last one found: records are read in about the order written.
    for (std::size_t n = 0, i = m_next; n < m_count; ++n, i = i + 1 == m_count ? 0 : i + 1) {
        const std::string_view k = m_members[i].key;
        if (Key{k.data(), k.size()}.is(key)) {
            m_next = i + 1 == m_count ? 0 : i + 1;
            return &m_members[i].value;
        }
    }
    return nullptr;
}

FlatLine FlatValue::as_object() const {
    FlatLine o;
    o.scan(text); // checked when the line was scanned
    return o;
}

FlatArray::FlatArray(std::string_view text) {
    Scanner in(text, has_special_bytes(text));
    in.take('[');
    in.array(&m_items, 1); // checked when the line was scanned
}

std::string FlatValue::as_string() const {
    if (!escaped) {
        return std::string(text);
    }
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\\') {
            switch (text[++i]) { // scan() let through only these escapes, never a lone '\'
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            default: // " \ /
                c = text[i];
                break;
            }
        }
        out += c;
    }
    return out;
}

} // namespace rollback::journal
