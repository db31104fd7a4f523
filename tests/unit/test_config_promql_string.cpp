// SPDX-License-Identifier: MIT
// PromQL's literals as Prometheus' lexer reads them: strings with Go's escapes (break-it 42/02:
// "127\.0\.0\.1" and "5\d\d" were accepted, and Prometheus refused the query at every
// confirmation), durations as model.ParseDuration, numbers.
#include "config/promql_string.hpp"
#include "config/promql_syntax.hpp"

#include <doctest/doctest.h>

using namespace rollback::config::promql;

namespace {

/// The value of the string literal `q`, or "problem at OFFSET: WHAT".
std::string read(const std::string& q) {
    try {
        std::size_t end = 0;
        std::string v = read_string(q, 0, end);
        if (end != q.size()) {
            return "ended at " + std::to_string(end);
        }
        return v;
    } catch (const Problem& p) {
        return "problem at " + std::to_string(p.offset) + ": " + p.what;
    }
}

std::string duration(const std::string& text) {
    std::string why;
    const auto ms = duration_ms(text, &why);
    return ms ? std::to_string(*ms) : why;
}

} // namespace

TEST_SUITE("config") {
    TEST_CASE(
        "PromQL strings have Go's escapes in double and single quotes and none in backticks") {
        CHECK(read(R"("a\tb\n")") == "a\tb\n");
        CHECK(read(R"("\a\b\f\r\v\\\"")") == "\a\b\f\r\v\\\"");
        CHECK(read(R"('it\'s')") == "it's");
        CHECK(read(R"('say "hi"')") == "say \"hi\"");
        CHECK(read(R"("it's")") == "it's");
        CHECK(read(R"(`5\d\d`)") == R"(5\d\d)");
        CHECK(read("`two\nlines`") == "two\nlines");
        CHECK(read(R"("\x41\101\u00e9\U0001F600")") == "AA\xC3\xA9\xF0\x9F\x98\x80");
        CHECK(read(R"("\xff\377")") == "\xff\xff"); // bytes, as Go's \x and octal escapes
        CHECK(read(R"("5\\d\\d")") == R"(5\d\d)");
        CHECK(read("\"caf\xC3\xA9\"") == "caf\xC3\xA9");
        CHECK(read(R"("")") == "");
    }

    TEST_CASE("PromQL strings Prometheus refuses are located at the string or the escape") {
        CHECK(read(R"("127\.0\.0\.1")") == "problem at 4: unknown escape sequence U+002E '.'");
        CHECK(read(R"("5\d\d")") == "problem at 2: unknown escape sequence U+0064 'd'");
        CHECK(read(R"('\.')") == "problem at 1: unknown escape sequence U+002E '.'");
        CHECK(read(R"("\'")") == "problem at 1: unknown escape sequence U+0027 '''");
        CHECK(read(R"('\"')") == "problem at 1: unknown escape sequence U+0022 '\"'");
        CHECK(read("\"\\\n\"") == "problem at 1: unknown escape sequence U+000A");
        CHECK(read(R"("\x4")") == "problem at 1: illegal character U+0022 '\"' in escape sequence");
        CHECK(read(R"("\u00g9")") ==
              "problem at 1: illegal character U+0067 'g' in escape sequence");
        CHECK(read(R"("\18")") == "problem at 1: illegal character U+0038 '8' in escape sequence");
        CHECK(read(R"("\400")") ==
              "problem at 1: escape sequence is an invalid Unicode code point");
        CHECK(read(R"("\uD800")") ==
              "problem at 1: escape sequence is an invalid Unicode code point");
        CHECK(read(R"("\U00110000")") ==
              "problem at 1: escape sequence is an invalid Unicode code point");
        CHECK(read(R"("\)") == "problem at 1: escape sequence not terminated");
        CHECK(read(R"("\x4)") == "problem at 1: escape sequence not terminated");
        CHECK(read("\"a\nb\"") == "problem at 0: unterminated quoted string");
        CHECK(read(R"("abc)") == "problem at 0: unterminated quoted string");
        CHECK(read("`abc") == "problem at 0: unterminated raw string");
        CHECK(read("\"a\xff\"") == "problem at 2: invalid UTF-8 rune");
        CHECK(read("`\xC0\x80`") == "problem at 1: invalid UTF-8 rune");       // overlong
        CHECK(read("\"\xED\xA0\x80\"") == "problem at 1: invalid UTF-8 rune"); // a surrogate
    }

    TEST_CASE("an unknown escape says how to write the regex instead") {
        try {
            std::size_t end = 0;
            read_string(R"("5\d\d")", 0, end);
            FAIL("accepted");
        } catch (const Problem& p) {
            CHECK(p.hint == R"(in "..." a backslash starts an escape (Go's rules): write \\d )"
                            R"(for a regex's \d, or quote the regex with backticks: `\d`)");
        }
    }

    TEST_CASE("PromQL durations as model.ParseDuration reads them") {
        CHECK(duration("5m") == "300000");
        CHECK(duration("1h30m") == "5400000");
        CHECK(duration("1y1w1d1h1m1s1ms") == "32230861001");
        CHECK(duration("0s") == "0");
        CHECK(duration("106751d") == "9223286400000");
        CHECK(duration("2m1h") == "not a valid duration string: \"2m1h\"");
        CHECK(duration("5m5m") == "not a valid duration string: \"5m5m\"");
        CHECK(duration("1ms1s") == "not a valid duration string: \"1ms1s\"");
        CHECK(duration("106752d") == "duration out of range");
        CHECK(duration("300y") == "duration out of range");
        CHECK(duration("9223372036854775808ms") == "duration out of range");
        CHECK(duration("99999999999999999999999s") == "duration out of range");
    }

    TEST_CASE("PromQL numbers") {
        CHECK(number_value("0x1F") == 31);
        CHECK(number_value("1e3") == 1000);
        CHECK(number_value(".5") == 0.5);
        CHECK_FALSE(number_value("1e400"));
        CHECK_FALSE(number_value("0x"));
    }
}
