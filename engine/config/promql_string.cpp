// SPDX-License-Identifier: MIT
// The checks follow lex.go rather than Go's strconv: Prometheus refuses a string in its lexer
// (so `\'` inside "..." is an unknown escape, as Go says too), then unquotes what it accepted.
#include "config/promql_string.hpp"

#include "config/promql_syntax.hpp"

#include <cstdint>
#include <cstdio>

namespace rollback::config::promql {

namespace {

constexpr char32_t k_rune_error = 0xFFFD;

/// Go's utf8.DecodeRuneInString: the code point at q[i] and its length; an invalid sequence is
/// U+FFFD of length 1 (an encoded U+FFFD is U+FFFD of length 3: lex.go refuses both).
char32_t decode(std::string_view q, std::size_t i, std::size_t& len) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(q[i + k]); };
    len = 1;
    const unsigned char c = b(0);
    if (c < 0x80) {
        return c;
    }
    std::size_t n = 0;
    char32_t r = 0;
    char32_t min = 0;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, r = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, r = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, r = c & 0x07, min = 0x10000;
    } else {
        return k_rune_error;
    }
    if (i + n > q.size()) {
        return k_rune_error;
    }
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(k) & 0xC0) != 0x80) {
            return k_rune_error;
        }
        r = (r << 6) | (b(k) & 0x3F);
    }
    if (r < min || r > 0x10FFFF || (r >= 0xD800 && r < 0xE000)) {
        return k_rune_error;
    }
    len = n;
    return r;
}

void append_utf8(std::string& out, char32_t r) {
    if (r < 0x80) {
        out += static_cast<char>(r);
    } else if (r < 0x800) {
        out += static_cast<char>(0xC0 | (r >> 6));
        out += static_cast<char>(0x80 | (r & 0x3F));
    } else if (r < 0x10000) {
        out += static_cast<char>(0xE0 | (r >> 12));
        out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (r & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (r >> 18));
        out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (r & 0x3F));
    }
}

unsigned digit_value(char32_t c) {
    if (c >= '0' && c <= '9') {
        return static_cast<unsigned>(c - '0');
    }
    if (c >= 'a' && c <= 'f') {
        return static_cast<unsigned>(c - 'a' + 10);
    }
    if (c >= 'A' && c <= 'F') {
        return static_cast<unsigned>(c - 'A' + 10);
    }
    return 16; // larger than any base
}

/// The escape whose backslash is q[at]: appends its value, returns the byte after it.
std::size_t read_escape(std::string_view q, std::size_t at, char quote, std::string& out) {
    std::size_t i = at + 1;
    if (i >= q.size()) {
        throw Problem{"escape sequence not terminated", at};
    }
    std::size_t len = 0;
    const char32_t ch = decode(q, i, len);
    int digits = 0;
    unsigned base = 0;
    char32_t max = 0;
    switch (ch) {
    case 'a':
        out += '\a';
        return i + 1;
    case 'b':
        out += '\b';
        return i + 1;
    case 'f':
        out += '\f';
        return i + 1;
    case 'n':
        out += '\n';
        return i + 1;
    case 'r':
        out += '\r';
        return i + 1;
    case 't':
        out += '\t';
        return i + 1;
    case 'v':
        out += '\v';
        return i + 1;
    case '\\':
        out += '\\';
        return i + 1;
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
        digits = 3, base = 8, max = 255; // the first digit is this one
        break;
    case 'x':
        digits = 2, base = 16, max = 255, ++i;
        break;
    case 'u':
        digits = 4, base = 16, max = 0x10FFFF, ++i;
        break;
    case 'U':
        digits = 8, base = 16, max = 0x10FFFF, ++i;
        break;
    default:
        if (ch == static_cast<unsigned char>(quote)) {
            out += quote;
            return i + 1;
        }
        // The usual cause: a regex escape (\. \d) written in a string that has Go's escapes.
        const std::string c(1, ch > ' ' && ch < 0x7F ? static_cast<char>(ch) : 'd');
        throw Problem{"unknown escape sequence " + describe_rune(ch), at,
                      std::string("in ") + quote + "..." + quote +
                          " a backslash starts an escape (Go's rules): write \\\\" + c +
                          " for a regex's \\" + c + ", or quote the regex with backticks: `\\" + c +
                          "`"};
    }
    std::uint32_t x = 0;
    for (; digits > 0; --digits) {
        if (i >= q.size()) {
            throw Problem{"escape sequence not terminated", at};
        }
        const char32_t c = decode(q, i, len);
        if (digit_value(c) >= base) {
            throw Problem{"illegal character " + describe_rune(c) + " in escape sequence", at};
        }
        x = x * base + digit_value(c);
        i += len;
    }
    if (x > max || (x >= 0xD800 && x < 0xE000)) {
        throw Problem{"escape sequence is an invalid Unicode code point", at};
    }
    if (base == 8 || ch == 'x') {
        out += static_cast<char>(x); // a byte, as Go's \xFF and \377
    } else {
        append_utf8(out, x);
    }
    return i;
}

} // namespace

std::string describe_rune(char32_t r) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(r));
    std::string s = hex;
    const bool printable = (r >= 0x20 && r < 0x7F) || (r >= 0xA0 && r != 0xAD && r <= 0x10FFFF);
    if (printable) {
        s += " '";
        append_utf8(s, r);
        s += "'";
    }
    return s;
}

std::string read_string(std::string_view q, std::size_t start, std::size_t& end) {
    const char quote = q[start];
    const bool raw = quote == '`';
    std::string value;
    std::size_t i = start + 1;
    for (;;) {
        if (i >= q.size()) {
            throw Problem{raw ? "unterminated raw string" : "unterminated quoted string", start};
        }
        if (q[i] == quote) {
            end = i + 1;
            return value;
        }
        if (!raw && q[i] == '\n') {
            throw Problem{"unterminated quoted string", start};
        }
        if (!raw && q[i] == '\\') {
            i = read_escape(q, i, quote, value);
            continue;
        }
        std::size_t len = 0;
        if (decode(q, i, len) == k_rune_error) {
            throw Problem{"invalid UTF-8 rune", i};
        }
        value.append(q.substr(i, len));
        i += len;
    }
}

} // namespace rollback::config::promql
