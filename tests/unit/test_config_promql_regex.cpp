// SPDX-License-Identifier: MIT
// A matcher's regex as Prometheus reads it (Go's regexp syntax, through RE2): what it refuses,
// in Go's words, and whether "" matches it (break-it 42/02: {path=~"/api/(v1"} and {job=~".*"}
// were accepted).
#include "config/promql_regex.hpp"

#include <doctest/doctest.h>

using rollback::config::promql::read_regex;

namespace {

std::string problem(const std::string& re) {
    return read_regex(re).problem;
}

std::string empty(const std::string& re) {
    const auto r = read_regex(re);
    if (!r.problem.empty()) {
        return r.problem;
    }
    return r.matches_empty ? (*r.matches_empty ? "matches" : "no match") : "unknown";
}

} // namespace

TEST_SUITE("config") {
    TEST_CASE("regexes Prometheus refuses are named in Go's words") {
        CHECK(problem("/api/(v1") == "error parsing regexp: missing closing ): `/api/(v1`");
        CHECK(problem("a)|(b") == "error parsing regexp: unexpected ): `a)|(b`");
        CHECK(problem("[a-") == "error parsing regexp: missing closing ]: `[a-`");
        CHECK(problem("[z-a]") == "error parsing regexp: invalid character class range: `z-a`");
        CHECK(problem("\\pX") == "error parsing regexp: invalid character class range: `\\pX`");
        CHECK(problem("a{1001}") == "error parsing regexp: invalid repeat count: `{1001}`");
        CHECK(problem("(a{1000}){1000}") == "error parsing regexp: invalid repeat count: `{1000}`");
        CHECK(problem("a**") == "error parsing regexp: invalid nested repetition operator: `**`");
        CHECK(problem("*") == "error parsing regexp: missing argument to repetition operator: `*`");
        CHECK(problem("(?=a)") ==
              "error parsing regexp: invalid or unsupported Perl syntax: `(?=`");
        CHECK(problem("\\d\\") == "error parsing regexp: trailing backslash at end of expression");
        CHECK(problem("\\Z") == "error parsing regexp: invalid escape sequence: `\\Z`");
        CHECK(problem("(?P<>a)") == "error parsing regexp: invalid named capture: `(?P<>`");
        CHECK(problem("\xff") == "error parsing regexp: invalid UTF-8");
        // \C (any byte) is RE2's and not Go's: refused, in a class too, unless \Q...\E quotes it.
        CHECK(problem("a\\C") == "error parsing regexp: invalid escape sequence: `\\C`");
        CHECK(problem("[\\C]") == "error parsing regexp: invalid escape sequence: `\\C`");
        CHECK(problem("\\Q\\C\\E") == "");
        CHECK(problem("\\\\C") == "");
        // Lookbehinds are refused by Go as lookaheads are; (?<name>re) is a group (Go 1.22).
        CHECK(problem("(?<=a)b") ==
              "error parsing regexp: invalid or unsupported Perl syntax: `(?<`");
        CHECK(problem("(?<!a)b") ==
              "error parsing regexp: invalid or unsupported Perl syntax: `(?<`");
    }

    TEST_CASE("regexes Prometheus takes") {
        for (const char* re : {"5..", "5\\d\\d", "127\\.0\\.0\\.1:.*", "(?i)get|post", "(?P<n>a)",
                               "\\pL+", "[[:alpha:]]", "a{1000}", "{", "a{,2}", "x*?", "(?)",
                               "[]a]", "\\Q(\\E", "(?s:.)", "(?<name>a)b", "\\Q(?<\\E"}) {
            CAPTURE(re);
            CHECK(problem(re) == "");
        }
    }

    TEST_CASE("whether the empty string matches a regex: anchored at both ends") {
        CHECK(empty(".*") == "matches");
        CHECK(empty("") == "matches");
        CHECK(empty("x|") == "matches");
        CHECK(empty("x?") == "matches");
        CHECK(empty("(?i)") == "matches");
        CHECK(empty("\\B") == "matches");
        CHECK(empty("^$") == "matches");
        CHECK(empty("a{0}") == "matches");
        CHECK(empty(".+") == "no match");
        CHECK(empty("\\b") == "no match");
        CHECK(empty("a|b") == "no match");
        CHECK(empty("x.*") == "no match");
    }
}
