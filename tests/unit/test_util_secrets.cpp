// SPDX-License-Identifier: MIT
#include "util/secrets.hpp"

#include "util/encode.hpp"

#include <algorithm>
#include <cctype>
#include <doctest/doctest.h>
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

const std::string k_secret = "Cnry-Secret'Q7 x9Z/\"tok&=28c"; // 28 characters, every form differs

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// How many characters of the secret's longest run show up in `text`, in any case: 0 when
// nothing longer than 3 characters of it is left (a masked text may still hold "Cnr" by chance).
size_t longest_leak(const std::string& text) {
    const std::string low = lower(text);
    const std::string sec = lower(k_secret);
    size_t best = 0;
    for (size_t from = 0; from < sec.size(); ++from) {
        for (size_t len = sec.size() - from; len > best; --len) {
            if (low.find(sec.substr(from, len)) != std::string::npos) {
                best = len;
                break;
            }
        }
    }
    return best >= 4 ? best : 0;
}

struct Registered {
    Registered() { util::register_secret(k_secret); }
    ~Registered() { util::clear_secrets(); }
};

} // namespace

TEST_SUITE("util") {
    TEST_CASE("secrets are masked in any letter case and in encoded forms") {
        Registered reg;
        CHECK(util::mask_secrets("pw=" + k_secret + ".") == "pw=***.");
        // PostgreSQL folds an unquoted identifier to lower case.
        CHECK(util::mask_secrets("relation \"missing_" + lower(k_secret) + "\"") ==
              "relation \"missing_***\"");
        CHECK(util::mask_secrets("X" + util::percent_encode(k_secret) + "X") == "X***X");
        CHECK(util::mask_secrets(lower(util::percent_encode(k_secret))) == "***");
        CHECK(util::mask_secrets("{\"t\":\"" + util::json_escape(k_secret) + "\"}") ==
              "{\"t\":\"***\"}");
        CHECK(util::mask_secrets("echo " + shell_word(k_secret)) == "echo '***'");
        CHECK(util::mask_secrets("note = 'Cnry-Secret''Q7 x9Z/\"tok&=28c'") == "note = '***'");
        CHECK(util::mask_secrets("nothing here") == "nothing here");
    }

    TEST_CASE("a secret cut by chunk boundaries is masked whole — at every offset") {
        Registered reg;
        const std::string stream =
            std::string(50, 'a') + k_secret + std::string(50, 'b') + lower(k_secret) + "\n";
        // Every way to cut the stream into two or three chunks around the secrets.
        for (size_t cut1 = 0; cut1 <= stream.size(); ++cut1) {
            for (size_t cut2 : {cut1, cut1 + 1, cut1 + 13, cut1 + 29}) {
                cut2 = std::min(cut2, stream.size());
                util::SecretMasker m;
                std::string out = m.feed(stream.substr(0, cut1));
                out += m.feed(stream.substr(cut1, cut2 - cut1));
                out += m.feed(stream.substr(cut2));
                out += m.finish();
                INFO("cuts at " << cut1 << ", " << cut2);
                REQUIRE(out == std::string(50, 'a') + "***" + std::string(50, 'b') + "***\n");
            }
        }
    }

    TEST_CASE("secrets are masked in the encodings other programs give them") {
        // The break-it review's secret and the forms that leaked it.
        const std::string secret = "Pa55/w0rd+Zq&x=y\"z\\k";
        util::register_secret(secret);
        for (const char* shown : {
                 "Pa55/w0rd%2BZq%26x%3Dy%22z%5Ck",   // Python quote(), "/" kept
                 "Pa55%2fw0rd%2bzq%26x%3dy%22z%5ck", // lower-case hex
                 "Pa55/w0rd+Zq&x=y%22z%5Ck",         // encodeURI: reserved characters kept
                 "Pa55\\/w0rd+Zq&x=y\\\"z\\\\k",     // PHP json_encode: "\/"
                 "Pa55/w0rd+Zq&x=y\"z\\\\k",         // Python repr
             }) {
            CAPTURE(shown);
            CHECK(util::mask_secrets(std::string("before ") + shown + " after") ==
                  "before *** after");
        }
        const std::string pem = "firstHALFsecretline\nsecondHALFsecretline";
        util::register_secret(pem);
        for (const char* shown :
             {"firstHALFsecretline secondHALFsecretline",
              "firstHALFsecretline\r\nsecondHALFsecretline", "only secondHALFsecretline here"}) {
            CAPTURE(shown);
            CHECK(util::mask_secrets(shown).find("HALFsecretline") == std::string::npos);
        }
        util::clear_secrets();
    }

    TEST_CASE("the masker releases text that cannot start a secret at once") {
        Registered reg;
        util::SecretMasker m;
        std::string out = m.feed(std::string(10000, 'x'));
        size_t longest = util::longest_secret_match();
        // every character as a surrogate pair at most, and 64 bytes of escape sequences after it
        CHECK(longest == (12 + 64) * k_secret.size());
        CHECK(out.size() == 10000 - (longest - 1));
        out += m.finish();
        CHECK(out == std::string(10000, 'x'));
        CHECK(longest_leak(out) == 0);
    }

    TEST_CASE("terminal escape sequences between the characters of a secret do not hide it") {
        // grep --color=always, coloured loggers, diff --color, jq -C (break-it 26/18): a CSI
        // (colour, erase-line) or OSC sequence inside the secret, raw or as a program escaped it.
        util::clear_secrets();
        const std::string secret = "SeCrEtTokValue9182";
        util::register_secret(secret);
        const std::vector<std::string> seqs = {"\x1b[01;31m\x1b[K",
                                               "\x1b[m\x1b[K",
                                               "\x1b[0m",
                                               "\xc2\x9b"
                                               "1m",
                                               "\x1b]8;;http://x\x07",
                                               "\x1b]0;t\x1b\\",
                                               "\\x1b[31m",
                                               "\\u001b[1;32m",
                                               "\\033[0m",
                                               "\\e[4m",
                                               "\x1b"
                                               "7"};
        for (const auto& seq : seqs) {
            for (size_t cut = 1; cut < secret.size(); cut += 4) {
                const std::string shown =
                    "token=" + secret.substr(0, cut) + seq + secret.substr(cut) + " end";
                CAPTURE(shown);
                CHECK(util::mask_secrets(shown) == "token=*** end");
                util::SecretMasker m; // the same in a stream cut byte by byte
                std::string out;
                for (char c : shown) {
                    out += m.feed(std::string(1, c));
                }
                out += m.finish();
                CHECK(out == "token=*** end");
            }
        }
        // Two sequences in a row and a sequence between every pair of characters.
        std::string every;
        for (char c : secret) {
            every += std::string(1, c) + "\x1b[1m\x1b[K";
        }
        CHECK(util::mask_secrets("a " + every + "b").find("Value") == std::string::npos);
        // A sequence longer than the gap allowed is not skipped: no match, nothing hidden wrongly.
        const std::string long_seq = "\x1b[" + std::string(80, '1') + "m";
        CHECK(util::mask_secrets("SeCrEt" + long_seq + "TokValue9182") ==
              "SeCrEt" + long_seq + "TokValue9182");
        // Text that merely looks like an escape stays: nothing but the secret is masked.
        CHECK(util::mask_secrets("\x1b[31mred\x1b[0m") == "\x1b[31mred\x1b[0m");
        util::clear_secrets();
    }

    TEST_CASE("terminal text: secrets masked — escape sequences shown — lines kept") {
        Registered reg;
        CHECK(util::terminal_text("a\x1b[31mred\x1b[0m\tb\nc") == "a\\x1b[31mred\\x1b[0m\tb\nc");
        CHECK(util::terminal_text("bell\a del\x7f cr\rnl\r\n") == "bell\\x07 del\\x7f cr\\x0dnl\n");
        CHECK(util::terminal_text("csi \xc2\x9b"
                                  "2J ok \xc3\xa9") == "csi \\u009b2J ok \xc3\xa9");
        CHECK(util::terminal_text("bad \x9b"
                                  "2J \xff") == "bad \\x9b2J \\xff");
        CHECK(util::terminal_text(std::string("nul\0x", 5)) == "nul\\x00x");
        CHECK(util::terminal_text("token " + k_secret) == "token ***");
    }

    TEST_CASE("terminal text: bidi controls and invisible characters shown escaped") {
        // break-it 30/19: "rollback <RLO>KO" reads "rollback OK" on a bidi-capable terminal.
        CHECK(util::terminal_text("rollback \u202eKO") == "rollback \\u202eKO");
        const std::vector<std::pair<std::string, std::string>> cases{
            {"\u061c", "\\u061c"},         {"\u180e", "\\u180e"},
            {"\u200b", "\\u200b"},         {"\u200c", "\\u200c"},
            {"\u200d", "\\u200d"},         {"\u200e", "\\u200e"},
            {"\u200f", "\\u200f"},         {"\u2028", "\\u2028"},
            {"\u2029", "\\u2029"},         {"\u202a", "\\u202a"},
            {"\u202b", "\\u202b"},         {"\u202c", "\\u202c"},
            {"\u202d", "\\u202d"},         {"\u202e", "\\u202e"},
            {"\u2060", "\\u2060"},         {"\u2064", "\\u2064"},
            {"\u2066", "\\u2066"},         {"\u2067", "\\u2067"},
            {"\u2068", "\\u2068"},         {"\u2069", "\\u2069"},
            {"\u206f", "\\u206f"},         {"\ufeff", "\\ufeff"},
            {"\ufff9", "\\ufff9"},         {"\ufffb", "\\ufffb"},
            {"\U000e0001", "\\U000e0001"}, {"\U000e0041", "\\U000e0041"},
            {"\U000e007f", "\\U000e007f"}};
        for (const auto& [raw, shown] : cases) {
            CAPTURE(shown);
            CHECK(util::terminal_text("a" + raw + "b") == "a" + shown + "b");
        }
        // Their neighbours, and the text around them, are as they were.
        for (const std::string kept :
             {"\u200a", "\u2010", "\u2027", "\u202f", "\u2065", "\u2070", "\ufefe", "\ufffc",
              "\U000e0080", "\u00e9", "\u05d0\u05d1", "\u0628", "\U0001f600"}) {
            CHECK(util::terminal_text("a" + kept + "b") == "a" + kept + "b");
        }
    }

    TEST_CASE("encodings: percent — JSON") {
        CHECK(util::percent_encode("a b/c?d=e&f#g%~._-") == "a%20b%2Fc%3Fd%3De%26f%23g%25~._-");
        CHECK(util::percent_encode("\r\n") == "%0D%0A");
        CHECK(util::json_escape("q\"b\\n\n\x01") == "q\\\"b\\\\n\\n\\u0001");
    }

    TEST_CASE("mask_dsn: a URI's password in its user info or its query — both spellings") {
        // break-it 38/03: `?...&password=PW` was printed in clear by `state init`.
        struct Case {
            std::string dsn, masked;
            std::vector<std::string> passwords;
        };
        for (const auto& c : std::vector<Case>{
                 {"postgresql://u:pw-info-1@h/db", "postgresql://u:***@h/db", {"pw-info-1"}},
                 {"postgresql://u:p%40ss-2@h/db?sslmode=require",
                  "postgresql://u:***@h/db?sslmode=require",
                  {"p%40ss-2", "p@ss-2"}},
                 {"postgresql:///db?host=/tmp/x&port=5&user=r&password=plainPW77",
                  "postgresql:///db?host=/tmp/x&port=5&user=r&password=***",
                  {"plainPW77"}},
                 {"postgres:///db?password=Qu0te%22d%5Cpw&user=r",
                  "postgres:///db?password=***&user=r",
                  {"Qu0te%22d%5Cpw", "Qu0te\"d\\pw"}},
                 {"postgresql://h/db?pass%77ord=enc0dedKey&x=1",
                  "postgresql://h/db?pass%77ord=***&x=1",
                  {"enc0dedKey"}},
                 {"postgresql://u@h/db?application_name=a:b@c",
                  "postgresql://u@h/db?application_name=a:b@c",
                  {}},
             }) {
            util::clear_secrets();
            INFO(c.dsn);
            CHECK(util::mask_dsn(c.dsn) == c.masked);
            for (const auto& pw : c.passwords) {
                CHECK(util::mask_secrets("[" + pw + "]") == "[***]");
            }
        }
        util::clear_secrets();
    }

    TEST_CASE("mask_dsn: the key=value password as libpq reads it — whole") {
        struct Case {
            std::string dsn, masked, password;
        };
        for (const auto& c : std::vector<Case>{
                 {"host=h password=pw-plain-1 user=u", "host=h password=*** user=u", "pw-plain-1"},
                 {"host=h password = 'pw quoted 2' user=u", "host=h password = *** user=u",
                  "pw quoted 2"},
                 {"password='pw\\'esc 3' user=u", "password=*** user=u", "pw'esc 3"},
                 // A quote left open runs to the end for libpq: all of it is the password.
                 {"host=db.invalid password='Sekr3tPassw0rdQ user=x",
                  "host=db.invalid password=***", "Sekr3tPassw0rdQ user=x"},
             }) {
            util::clear_secrets();
            INFO(c.dsn);
            CHECK(util::mask_dsn(c.dsn) == c.masked);
            CHECK(util::mask_secrets("[" + c.password + "]") == "[***]");
            CHECK(util::mask_secrets(c.dsn).find(c.password) == std::string::npos);
        }
        util::clear_secrets();
    }
}
