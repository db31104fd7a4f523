// SPDX-License-Identifier: MIT
#include "util/encode.hpp"

#include <cstdio>

namespace rollback::util {
namespace {

std::string hex_byte(unsigned char c, const char* prefix) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%s%02x", prefix, static_cast<unsigned>(c));
    return buf;
}

// The length of the valid UTF-8 sequence at `text[i]` (1 for ASCII), or 0 when it is not one.
// Overlong forms, surrogates and code points above U+10FFFF are not valid.
size_t utf8_length(std::string_view text, size_t i) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char c = byte(i);
    size_t n = c < 0x80             ? 1
               : (c & 0xE0) == 0xC0 ? 2
               : (c & 0xF0) == 0xE0 ? 3
               : (c & 0xF8) == 0xF0 ? 4
                                    : 0;
    if (n == 0 || i + n > text.size()) {
        return 0;
    }
    unsigned cp = n == 1 ? c : n == 2 ? (c & 0x1FU) : n == 3 ? (c & 0x0FU) : (c & 0x07U);
    for (size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (byte(i + k) & 0x3FU);
    }
    bool overlong = (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

/// The code point of the valid `n`-byte UTF-8 sequence at `text[i]`.
unsigned code_point(std::string_view text, size_t i, size_t n) {
    auto c = static_cast<unsigned char>(text[i]);
    unsigned cp = n == 1 ? c : n == 2 ? (c & 0x1FU) : n == 3 ? (c & 0x0FU) : (c & 0x07U);
    for (size_t k = 1; k < n; ++k) {
        cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3FU);
    }
    return cp;
}

/// Format characters that reorder or hide what a terminal shows (the "Trojan Source" class,
/// CVE-2021-42574): bidi marks, embeddings, overrides and isolates; zero-width and invisible
/// characters; line and paragraph separators; the byte order mark; interlinear annotations; tags.
bool reorders_or_hides(unsigned cp) {
    return cp == 0x061C || cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) ||
           (cp >= 0x2066 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
           (cp >= 0xE0000 && cp <= 0xE007F);
}

} // namespace

std::string percent_encode(std::string_view text) {
    std::string out;
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out += ch;
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned>(c));
            out += buf;
        }
    }
    return out;
}

std::string json_escape(std::string_view text) {
    if (!is_valid_utf8(text)) {
        // A byte that is not UTF-8 becomes the text `\xHH`, whose backslash is escaped below.
        return json_escape(valid_utf8(text));
    }
    std::string out;
    for (char ch : text) {
        switch (ch) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (static_cast<unsigned char>(ch) < 0x20) {
                out += hex_byte(static_cast<unsigned char>(ch), "\\u00");
            } else {
                out += ch;
            }
        }
    }
    return out;
}

std::string valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        if (size_t n = utf8_length(text, i); n == 0) {
            out += hex_byte(static_cast<unsigned char>(text[i]), "\\x");
            ++i;
        } else {
            out.append(text.substr(i, n));
            i += n;
        }
    }
    return out;
}

bool is_valid_utf8(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        if (static_cast<unsigned char>(text[i]) < 0x80) {
            ++i;
        } else if (size_t n = utf8_length(text, i); n == 0) {
            return false;
        } else {
            i += n;
        }
    }
    return true;
}

size_t utf8_boundary(std::string_view text, size_t pos) {
    for (int k = 0; k < 3 && pos < text.size(); ++k) {
        if ((static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80) {
            break;
        }
        ++pos;
    }
    return pos;
}

std::string visible_controls(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        // A run of printable ASCII is copied as it is, in one append.
        size_t plain = i;
        while (plain < text.size() && static_cast<unsigned char>(text[plain]) >= 0x20 &&
               static_cast<unsigned char>(text[plain]) < 0x7F) {
            ++plain;
        }
        if (plain > i) {
            out.append(text, i, plain - i);
            i = plain;
            continue;
        }
        auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n' || c == '\t') {
            out += static_cast<char>(c);
            ++i;
        } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
            ++i; // CRLF line ends show as line ends; a lone CR would overwrite the line
        } else if (c < 0x20 || c == 0x7F) {
            out += hex_byte(c, "\\x");
            ++i;
        } else if (size_t n = utf8_length(text, i); n == 0) {
            out += hex_byte(c, "\\x");
            ++i;
        } else if (n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
            // C1 controls (U+0080..U+009F): U+009B is a CSI to some terminals.
            out += hex_byte(static_cast<unsigned char>(text[i + 1]), "\\u00");
            i += 2;
        } else if (const unsigned cp = code_point(text, i, n); reorders_or_hides(cp)) {
            // Shown as \u202e (\U000e0041 above the BMP): what the operator reads is the bytes.
            char buf[16];
            std::snprintf(buf, sizeof buf, cp > 0xFFFF ? "\\U%08x" : "\\u%04x", cp);
            out += buf;
            i += n;
        } else {
            out.append(text.substr(i, n));
            i += n;
        }
    }
    return out;
}

} // namespace rollback::util
