// SPDX-License-Identifier: MIT
// Generated secrets written with every character in a random form (raw, escaped, in another
// case), whole and streamed in random chunks: mask_secrets finds every one (util/secrets.cpp).
#include "util/case_fold.hpp"
#include "util/encode.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <cstdio>
#include <doctest/doctest.h>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace rollback;

namespace {

// How a shell (`set -x`) or a script prints a word: `'text'`, each `'` as `'\''`.
std::string shell_word(std::string_view text) {
    std::string out = "'";
    for (char c : text) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

std::string utf8(char32_t c) {
    std::string out;
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
    return out;
}

std::string hex(unsigned v, int digits, bool upper) {
    char buf[16];
    std::snprintf(buf, sizeof buf, upper ? "%0*X" : "%0*x", digits, v);
    return buf;
}

bool is_punct(char32_t c) {
    return c < 0x80 && c > 0x20 &&
           !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

// The characters secrets are drawn from: ASCII letters, digits and punctuation, Latin-1,
// Latin Extended-A/B, Greek, Cyrillic, one astral character.
std::vector<char32_t> alphabet() {
    std::vector<char32_t> out;
    for (char32_t c = 0x21; c < 0x7F; ++c) {
        if (c != '[' && c != ']') { // the frame around a secret in the tests below
            out.push_back(c);
        }
    }
    for (char32_t c = 0xC0; c < 0x250; ++c) {
        out.push_back(c);
    }
    for (char32_t c = 0x391; c < 0x3CA; ++c) {
        out.push_back(c);
    }
    for (char32_t c = 0x400; c < 0x460; ++c) {
        out.push_back(c);
    }
    out.push_back(0x1F600);
    return out;
}

// Every character of the alphabet's ranges that folds like c (its other cases).
const std::vector<char32_t>& case_variants(char32_t c) {
    static const std::map<char32_t, std::vector<char32_t>> by_fold = [] {
        std::map<char32_t, std::vector<char32_t>> m;
        for (char32_t x = 0x21; x < 0x2200; ++x) {
            m[util::simple_case_fold(x)].push_back(x);
        }
        return m;
    }();
    static const std::vector<char32_t> none;
    auto it = by_fold.find(util::simple_case_fold(c));
    return it == by_fold.end() ? none : it->second;
}

// One character in a random form.
std::string write_char(char32_t c, std::mt19937& rng) {
    const auto& variants = case_variants(c);
    if (!variants.empty() && rng() % 2 == 0) {
        c = variants[rng() % variants.size()];
    }
    const std::string bytes = utf8(c);
    const bool upper = rng() % 2 == 0;
    switch (rng() % 9) {
    case 0: { // %HH bytes
        std::string out;
        for (unsigned char b : bytes) {
            out += "%" + hex(b, 2, upper);
        }
        return out;
    }
    case 1: { // \xHH bytes
        std::string out;
        for (unsigned char b : bytes) {
            out += "\\x" + hex(b, 2, upper);
        }
        return out;
    }
    case 2: // \uXXXX, a surrogate pair beyond the BMP
        if (c >= 0x10000) {
            const char32_t v = c - 0x10000;
            return "\\u" + hex(0xD800 + (v >> 10), 4, upper) + "\\u" +
                   hex(0xDC00 + (v & 0x3FF), 4, upper);
        }
        return "\\u" + hex(c, 4, upper);
    case 3:
        return "&#" + std::to_string(c) + ";";
    case 4:
        return "&#x" + hex(c, 1, upper) + ";";
    case 5:
        return is_punct(c) ? "\\" + bytes : bytes;
    case 6:
        if (c == '\'') {
            const char* forms[] = {"''", "'\\''", "'\"'\"'", "'\\\\''"};
            return forms[rng() % 4];
        }
        return c == '"' ? "\"\"" : c == '&' ? "&amp;" : c == '<' ? "&lt;" : bytes;
    case 7:
        return c >= 0x10000 ? bytes : "\\u{" + hex(c, 1, upper) + "}";
    default:
        return bytes;
    }
}

struct Clean {
    Clean() { util::clear_secrets(); }
    ~Clean() { util::clear_secrets(); }
};

} // namespace

TEST_SUITE("util") {
    TEST_CASE("a secret is masked whatever form each of its characters is written in") {
        Clean clean;
        const auto chars = alphabet();
        std::mt19937 rng(11);
        for (int round = 0; round < 300; ++round) {
            util::clear_secrets();
            std::u32string secret;
            const size_t n = 4 + rng() % 20;
            std::string raw;
            for (size_t k = 0; k < n; ++k) {
                secret += chars[rng() % chars.size()];
                raw += utf8(secret.back());
            }
            util::register_secret(raw);
            for (int form = 0; form < 10; ++form) {
                std::string written;
                for (char32_t c : secret) {
                    written += write_char(c, rng);
                }
                const std::string text = "[before " + written + " after]";
                CAPTURE(raw);
                CAPTURE(written);
                CHECK(util::mask_secrets(text) == "[before *** after]");
                // Streamed in random chunks: the same.
                util::SecretMasker m;
                std::string streamed;
                for (size_t i = 0; i < text.size();) {
                    const size_t len = 1 + rng() % 7;
                    streamed += m.feed(text.substr(i, len));
                    i += len;
                }
                streamed += m.finish();
                CHECK(streamed == "[before *** after]");
            }
        }
    }

    TEST_CASE("the break-it forms: Go and Python JSON escapes and non-ASCII upper case") {
        Clean clean;
        util::register_secret("Tok&en/42<x>");
        util::register_secret("pässwort-123");
        CHECK(util::mask_secrets("go \"Tok\\u0026en/42\\u003cx\\u003e\"") == "go \"***\"");
        CHECK(util::mask_secrets("php \"Tok&en\\/42<x>\"") == "php \"***\"");
        CHECK(util::mask_secrets("py \"p\\u00e4sswort-123\\u00e9\"") == "py \"***\\u00e9\"");
        CHECK(util::mask_secrets("up PÄSSWORT-123É") == "up ***É");
        CHECK(util::mask_secrets("url p%C3%A4sswort-123") == "url ***");
        CHECK(util::mask_secrets("html Tok&amp;en/42&lt;x&gt;") == "html ***");
    }

    TEST_CASE("a secret with any ASCII punctuation stays masked when shell-quoted and shown") {
        Clean clean;
        for (char p = '!'; p <= '~'; ++p) {
            if (!is_punct(static_cast<char32_t>(p))) {
                continue;
            }
            util::clear_secrets();
            const std::string secret = std::string("Ab") + p + "Cd1234";
            util::register_secret(secret);
            const std::string word = shell_word(secret);
            CAPTURE(secret);
            for (const std::string& shown :
                 {word, util::quoted("echo " + word), util::quoted("\"" + word + "\""),
                  util::json_escape(word), util::percent_encode(secret),
                  util::quoted(util::json_escape(secret))}) {
                CAPTURE(shown);
                const std::string masked = util::mask_secrets(shown);
                CHECK(masked.find("***") != std::string::npos);
                CHECK(masked.find("Cd1234") == std::string::npos);
            }
        }
    }

    TEST_CASE("case folding: every Latin and Greek and Cyrillic letter folds with its other case") {
        for (char32_t c = 0xC0; c < 0x500; ++c) {
            const char32_t f = util::simple_case_fold(c);
            CHECK(util::simple_case_fold(f) == f); // folding is idempotent
        }
        CHECK(util::simple_case_fold(U'Ä') == U'ä');
        CHECK(util::simple_case_fold(U'Ω') == U'ω');
        CHECK(util::simple_case_fold(U'ς') == U'σ');
        CHECK(util::simple_case_fold(U'Ж') == U'ж');
        CHECK(util::simple_case_fold(U'Ё') == U'ё');
        CHECK(util::simple_case_fold(0x1E9E) == U'ß');
        CHECK(util::simple_case_fold(0x212A) == U'k'); // KELVIN SIGN
        CHECK(util::simple_case_fold(U'ß') == U'ß');
    }
}
