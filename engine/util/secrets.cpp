// SPDX-License-Identifier: MIT
#include "util/secrets.hpp"

#include "util/command_line.hpp"

#include "util/case_fold.hpp"
#include "util/encode.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <vector>

namespace rollback::util {
namespace {

// A secret is matched by decoding the text while matching, one character of the secret at a
// time: each character may be written raw (UTF-8) or in any escape form a program, a server or
// the engine gives it, and in any letter case (simple case folding), independently of its
// neighbours. Forms of one character (see decode_at):
//   raw UTF-8; bytes as %HH or \xHH (any hex case; "+" for a space); \uXXXX (with surrogate
//   pairs), \u{X...}, \UXXXXXXXX; \n \r \t \b \f \0; a backslash before any ASCII punctuation
//   (JSON's \" \\ \/, Python's \', printf %q), also doubled (an escaped escape: \\\");
//   HTML entities (&amp; &lt; &gt; &quot; &apos; &#NN; &#xHH;); a single quote as '' (SQL),
//   '\'' or '"'"' (shell), '\\'' (the shell form shown inside "..."); a double quote as "".
// A line break of a multi-line secret also matches CR LF, CR, a space or nothing; its lines
// of 8 characters or more are secrets of their own.
constexpr char32_t k_byte = 0x110000; // an invalid UTF-8 byte b is the "character" k_byte + b

struct Pattern {
    std::vector<char32_t> chars; // folded
};

std::mutex g_mutex;
std::vector<std::string> g_secrets; // as registered
std::vector<Pattern> g_patterns;
size_t g_longest = 0;             // the longest text one pattern can match, in bytes
std::array<bool, 256> g_starts{}; // bytes a match can start with

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// The hex number of exactly `n` digits at text[i], or -1.
long hex_at(std::string_view text, size_t i, size_t n) {
    if (i + n > text.size()) {
        return -1;
    }
    long v = 0;
    for (size_t k = 0; k < n; ++k) {
        int h = hex_value(text[i + k]);
        if (h < 0) {
            return -1;
        }
        v = v * 16 + h;
    }
    return v;
}

// One UTF-8 character of `text` at i (raw bytes only): its code point and length, or an
// invalid byte as k_byte + b.
std::pair<char32_t, size_t> utf8_at(std::string_view text, size_t i) {
    auto b = static_cast<unsigned char>(text[i]);
    size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > text.size()) {
        return {k_byte + b, 1};
    }
    char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (size_t k = 1; k < n; ++k) {
        auto c = static_cast<unsigned char>(text[i + k]);
        if ((c & 0xC0) != 0x80) {
            return {k_byte + b, 1};
        }
        cp = (cp << 6) | (c & 0x3F);
    }
    return {cp, n};
}

std::vector<char32_t> decode_utf8(std::string_view text) {
    std::vector<char32_t> out;
    for (size_t i = 0; i < text.size();) {
        auto [cp, n] = utf8_at(text, i);
        out.push_back(cp);
        i += n;
    }
    return out;
}

char32_t fold(char32_t c) {
    return c >= k_byte ? c : simple_case_fold(c);
}

// One byte written raw, as %HH or as \xHH at text[i]: calls f(byte, length).
template <typename F>
void byte_units(std::string_view text, size_t i, F&& f) {
    if (i >= text.size()) {
        return;
    }
    f(static_cast<unsigned char>(text[i]), size_t{1});
    if (text[i] == '%') {
        if (long v = hex_at(text, i + 1, 2); v >= 0) {
            f(static_cast<unsigned char>(v), size_t{3});
        }
    } else if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'x') {
        if (long v = hex_at(text, i + 2, 2); v >= 0) {
            f(static_cast<unsigned char>(v), size_t{4});
        }
    }
}

// A UTF-8 character whose bytes are each raw, %HH or \xHH (mixed), from text[i]: calls
// f(code point, length) for every reading that forms a complete character.
template <typename F>
void byte_escaped_chars(std::string_view text, size_t i, char32_t acc, int need, size_t len,
                        F&& f) {
    byte_units(text, i, [&](unsigned char b, size_t n) {
        if (need == 0) {
            // the lead byte
            if (b < 0x80) {
                if (n > 1) { // a raw ASCII byte is read by decode_at itself
                    f(char32_t{b}, n);
                }
                return;
            }
            int more = (b >> 5) == 6 ? 1 : (b >> 4) == 14 ? 2 : (b >> 3) == 30 ? 3 : -1;
            if (more < 0) {
                if (n > 1) {
                    f(k_byte + b, n);
                }
                return;
            }
            char32_t lead = more == 1 ? (b & 0x1F) : more == 2 ? (b & 0x0F) : (b & 0x07);
            byte_escaped_chars(text, i + n, lead, more, n, f);
        } else if ((b & 0xC0) == 0x80) {
            char32_t cp = (acc << 6) | (b & 0x3F);
            if (need == 1) {
                f(cp, len + n);
            } else {
                byte_escaped_chars(text, i + n, cp, need - 1, len + n, f);
            }
        }
    });
}

bool is_ascii_punct(char c) {
    return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
           (c >= '{' && c <= '~');
}

// Every reading of one character at text[i]: f(code point, length). Readings may overlap
// (a raw backslash and an escape that begins with it); the matcher follows all of them.
template <typename F>
void decode_at(std::string_view text, size_t i, F&& f) {
    if (i >= text.size()) {
        return;
    }
    auto [raw, raw_len] = utf8_at(text, i);
    f(raw, raw_len);
    const char c = text[i];
    auto rest = text.substr(i);
    if (c == '%' || c == '\\') {
        byte_escaped_chars(text, i, 0, 0, 0, f);
    }
    if (c == '+') {
        f(U' ', size_t{1});
    }
    if (c == '\\' && i + 1 < text.size()) {
        const char e = text[i + 1];
        switch (e) {
        case 'n':
            f(U'\n', size_t{2});
            break;
        case 'r':
            f(U'\r', size_t{2});
            break;
        case 't':
            f(U'\t', size_t{2});
            break;
        case 'b':
            f(U'\b', size_t{2});
            break;
        case 'f':
            f(U'\f', size_t{2});
            break;
        case '0':
            f(U'\0', size_t{2});
            break;
        case 'u':
            if (long v = hex_at(text, i + 2, 4); v >= 0) {
                if (v >= 0xD800 && v < 0xDC00 && rest.substr(6, 2) == "\\u") {
                    long lo = hex_at(text, i + 8, 4);
                    if (lo >= 0xDC00 && lo < 0xE000) {
                        f(static_cast<char32_t>(0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)),
                          size_t{12});
                    }
                }
                f(static_cast<char32_t>(v), size_t{6});
            } else if (i + 2 < text.size() && text[i + 2] == '{') {
                size_t close = text.find('}', i + 3);
                if (close != std::string_view::npos && close > i + 3 && close - i - 3 <= 6) {
                    if (long w = hex_at(text, i + 3, close - i - 3); w >= 0) {
                        f(static_cast<char32_t>(w), close + 1 - i);
                    }
                }
            }
            break;
        case 'U':
            if (long v = hex_at(text, i + 2, 8); v >= 0 && v < 0x110000) {
                f(static_cast<char32_t>(v), size_t{10});
            }
            break;
        default:
            if (is_ascii_punct(e)) {
                f(static_cast<char32_t>(e), size_t{2});
            }
            // An escaped escape: \\ before a backslash-escaped punctuation character.
            if (e == '\\' && i + 3 < text.size() && text[i + 2] == '\\' &&
                is_ascii_punct(text[i + 3])) {
                f(static_cast<char32_t>(text[i + 3]), size_t{4});
            }
            break;
        }
    }
    if (c == '&') {
        static const std::pair<std::string_view, char32_t> entities[] = {
            {"&amp;", U'&'}, {"&lt;", U'<'}, {"&gt;", U'>'}, {"&quot;", U'"'}, {"&apos;", U'\''}};
        for (const auto& [name, cp] : entities) {
            if (rest.starts_with(name)) {
                f(cp, name.size());
            }
        }
        if (rest.starts_with("&#")) {
            const bool hex = rest.size() > 2 && (rest[2] == 'x' || rest[2] == 'X');
            size_t k = hex ? 3 : 2;
            long v = 0;
            size_t digits = 0;
            for (; k < rest.size() && digits < 8; ++k, ++digits) {
                int d = hex ? hex_value(rest[k])
                            : (rest[k] >= '0' && rest[k] <= '9' ? rest[k] - '0' : -1);
                if (d < 0) {
                    break;
                }
                v = v * (hex ? 16 : 10) + d;
            }
            if (digits > 0 && k < rest.size() && rest[k] == ';' && v < 0x110000) {
                f(static_cast<char32_t>(v), k + 1);
            }
        }
    }
    if (c == '\'') {
        for (std::string_view form : {"''", "'\\''", "'\"'\"'", "'\\\\''"}) {
            if (rest.starts_with(form)) {
                f(U'\'', form.size());
            }
        }
    }
    if (c == '"' && rest.starts_with("\"\"")) {
        f(U'"', size_t{2});
    }
}

// The longest text a pattern character can be written as (a surrogate pair, 4 escaped bytes).
constexpr size_t k_longest_char = 12;
// The most bytes of terminal escape sequences skipped between two characters of a secret.
constexpr size_t k_longest_gap = 64;

// The length of the terminal control sequence that starts at text[i], or 0 (ECMA-48 §5.3-5.6):
// a CSI (ESC [ or the C1 byte U+009B, parameters 0x30-0x3F, intermediates 0x20-0x2F, a final
// byte 0x40-0x7E: colours, erase-line), an OSC (ESC ], ended by BEL or ESC \), or ESC and one
// byte (ESC 7). ESC may be raw or as a program escaped it (\x1b, \u001b, \033, \e):
// `grep --color=always` puts such sequences inside a matched line.
size_t control_sequence_at(std::string_view text, size_t i) {
    auto rest = text.substr(i);
    size_t intro = 0;
    bool csi = false;
    if (rest.starts_with("\xc2\x9b")) { // U+009B, the C1 CSI, in UTF-8
        intro = 2;
        csi = true;
    } else if (!rest.empty() && rest[0] == '\x1b') {
        intro = 1;
    } else {
        for (std::string_view esc :
             {"\\x1b", "\\x1B", "\\u001b", "\\u001B", "\\033", "\\e", "\\E"}) {
            if (rest.starts_with(esc)) {
                intro = esc.size();
                break;
            }
        }
        if (intro == 0) {
            return 0;
        }
    }
    if (!csi && intro < rest.size() && rest[intro] == '[') {
        csi = true;
        ++intro;
    }
    size_t k = intro;
    if (csi) {
        while (k < rest.size() && rest[k] >= 0x30 && rest[k] <= 0x3F) {
            ++k;
        }
        while (k < rest.size() && rest[k] >= 0x20 && rest[k] <= 0x2F) {
            ++k;
        }
        return k < rest.size() && rest[k] >= 0x40 && rest[k] <= 0x7E ? k + 1 : 0;
    }
    if (k < rest.size() && rest[k] == ']') { // OSC: ended by BEL or ESC backslash
        for (++k; k < rest.size() && k < k_longest_gap; ++k) {
            if (rest[k] == '\a') {
                return k + 1;
            }
            if (rest[k] == '\x1b' && k + 1 < rest.size() && rest[k + 1] == '\\') {
                return k + 2;
            }
        }
        return 0;
    }
    // ESC and one byte 0x30-0x7E: Fp (DECSC "ESC 7"), Fe, Fs.
    return k < rest.size() && rest[k] >= 0x30 && rest[k] <= 0x7E ? k + 1 : 0;
}

// The position after the run of control sequences at text[i] (i itself when there is none),
// at most k_longest_gap bytes on.
size_t skip_controls(std::string_view text, size_t i) {
    size_t at = i;
    while (size_t n = control_sequence_at(text, at)) {
        if (at + n - i > k_longest_gap) {
            break;
        }
        at += n;
    }
    return at;
}

// The end of the longest match of `p` that starts at text[i], or npos.
size_t match_at(std::string_view text, size_t i, const Pattern& p) {
    std::vector<size_t> at{i}, next;
    for (size_t c = 0; c < p.chars.size(); ++c) {
        const char32_t want = p.chars[c];
        next.clear();
        if (c > 0) { // escape sequences between two characters are not part of the text
            for (size_t k = 0, n = at.size(); k < n; ++k) {
                if (size_t skipped = skip_controls(text, at[k]); skipped != at[k]) {
                    at.push_back(skipped);
                }
            }
        }
        for (size_t pos : at) {
            if (want == U'\n') {
                next.push_back(pos); // a line break left out
                if (text.substr(pos, 2) == "\r\n") {
                    next.push_back(pos + 2);
                }
                if (pos < text.size() && (text[pos] == '\r' || text[pos] == ' ')) {
                    next.push_back(pos + 1);
                }
            }
            decode_at(text, pos, [&](char32_t got, size_t n) {
                if (fold(got) == want) {
                    next.push_back(pos + n);
                }
            });
        }
        if (next.empty()) {
            return std::string_view::npos;
        }
        std::sort(next.begin(), next.end());
        next.erase(std::unique(next.begin(), next.end()), next.end());
        std::swap(at, next);
    }
    return at.back() > i ? at.back() : std::string_view::npos;
}

// Masks `text` from the start; stops before the first match that starts at or after `limit`
// (a match starting before it is always complete when limit <= size - (g_longest - 1)).
// Returns the number of bytes of `text` consumed into `out`. Caller holds g_mutex.
size_t mask_locked(std::string_view text, size_t limit, std::string& out) {
    limit = std::min(limit, text.size());
    if (g_patterns.empty()) {
        out.append(text.substr(0, limit));
        return limit;
    }
    size_t copied = 0;
    size_t i = 0;
    while (i < limit) {
        if (!g_starts[static_cast<unsigned char>(text[i])]) {
            ++i;
            continue;
        }
        size_t end = std::string_view::npos;
        for (const auto& p : g_patterns) {
            size_t e = match_at(text, i, p);
            if (e != std::string_view::npos && (end == std::string_view::npos || e > end)) {
                end = e;
            }
        }
        if (end == std::string_view::npos) {
            ++i;
            continue;
        }
        out.append(text.substr(copied, i - copied));
        out += "***";
        i = copied = end;
    }
    size_t stop = std::max(copied, limit);
    out.append(text.substr(copied, stop - copied));
    return stop;
}

void add_pattern(std::string_view text) {
    Pattern p;
    for (char32_t c : decode_utf8(text)) {
        p.chars.push_back(fold(c));
    }
    while (!p.chars.empty() && p.chars.back() == U'\n') {
        p.chars.pop_back(); // a trailing line break may be printed or not
    }
    if (p.chars.size() < 3) {
        return;
    }
    g_longest = std::max(g_longest, p.chars.size() * (k_longest_char + k_longest_gap));
    // The bytes a match can start with: an escape's first byte, any non-ASCII byte, and the
    // ASCII letters that fold to the first character.
    for (unsigned char b : std::string_view("%\\&'\"+\r ")) {
        g_starts[b] = true;
    }
    for (int b = 0; b < 256; ++b) {
        if (b >= 0x80 || fold(static_cast<char32_t>(b)) == p.chars.front() ||
            p.chars.front() == U'\n') {
            g_starts[b] = true;
        }
    }
    g_patterns.push_back(std::move(p));
}

} // namespace

void register_secret(std::string_view value) {
    if (value.size() < 3) {
        return;
    }
    {
        std::lock_guard lock(g_mutex);
        if (std::find(g_secrets.begin(), g_secrets.end(), value) != g_secrets.end()) {
            return;
        }
        g_secrets.emplace_back(value);
        add_pattern(value);
        if (value.find('\n') != std::string_view::npos) {
            for (const auto& line : split(replace_all(std::string(value), "\r\n", "\n"), '\n')) {
                if (line.size() >= 8) {
                    add_pattern(line);
                }
            }
        }
    }
    // Given on the engine's own command line (`--var token=...`): wiped from it, so that `ps`
    // and /proc/PID/cmdline — world-readable — no longer show it, nor any fork made from now on.
    hide_in_command_line(value);
}

size_t longest_secret_match() {
    std::lock_guard lock(g_mutex);
    return g_longest;
}

std::string mask_secrets(std::string_view text) {
    std::lock_guard lock(g_mutex);
    std::string out;
    mask_locked(text, text.size(), out);
    return out;
}

std::string SecretMasker::feed(std::string_view chunk) {
    m_pending.append(chunk);
    std::lock_guard lock(g_mutex);
    size_t hold = g_longest == 0 ? 0 : g_longest - 1;
    size_t limit = m_pending.size() > hold ? m_pending.size() - hold : 0;
    std::string out;
    size_t used = mask_locked(m_pending, limit, out);
    m_pending.erase(0, used);
    return out;
}

std::string SecretMasker::finish() {
    std::lock_guard lock(g_mutex);
    std::string out;
    mask_locked(m_pending, m_pending.size(), out);
    m_pending.clear();
    return out;
}

std::string terminal_text(std::string_view text) {
    return visible_controls(mask_secrets(text));
}

void clear_secrets() {
    std::lock_guard lock(g_mutex);
    g_secrets.clear();
    g_patterns.clear();
    g_longest = 0;
    g_starts.fill(false);
}

} // namespace rollback::util
