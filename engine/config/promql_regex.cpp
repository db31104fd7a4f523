// SPDX-License-Identifier: MIT
// RE2 is the C++ implementation of the syntax Go's regexp (and so Prometheus) reads: the same
// grammar, the same limits (a repeat count at most 1000, nested ones too). Its error codes are
// named here in Go's words (regexp/syntax ErrorCode), as Prometheus prints them.
#include "config/promql_regex.hpp"

#include <re2/re2.h>

namespace rollback::config::promql {

namespace {

std::string go_words(RE2::ErrorCode code) {
    switch (code) {
    case RE2::ErrorBadEscape:
        return "invalid escape sequence";
    case RE2::ErrorBadCharClass:
        return "invalid character class";
    case RE2::ErrorBadCharRange:
        return "invalid character class range";
    case RE2::ErrorMissingBracket:
        return "missing closing ]";
    case RE2::ErrorMissingParen:
        return "missing closing )";
    case RE2::ErrorUnexpectedParen:
        return "unexpected )";
    case RE2::ErrorTrailingBackslash:
        return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument:
        return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize:
        return "invalid repeat count";
    case RE2::ErrorRepeatOp:
        return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp:
        return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8:
        return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture:
        return "invalid named capture";
    default:
        return "regexp/syntax: internal error";
    }
}

/// Go's parser refuses \C (any byte) where RE2 accepts it, in a class too; \Q...\E quotes it.
bool has_any_byte_escape(std::string_view p) {
    for (std::size_t i = 0; i + 1 < p.size(); ++i) {
        if (p[i] != '\\') {
            continue;
        }
        if (p[i + 1] == 'C') {
            return true;
        }
        if (p[i + 1] == 'Q') {
            const std::size_t e = p.find("\\E", i + 2);
            if (e == std::string_view::npos) {
                return false;
            }
            i = e;
        }
        ++i; // the escaped character
    }
    return false;
}

} // namespace

RegexReading read_regex(std::string_view pattern) {
    RegexReading r;
    if (has_any_byte_escape(pattern)) {
        r.problem = "error parsing regexp: invalid escape sequence: `\\C`";
        return r;
    }
    RE2::Options options; // UTF-8, Perl classes and \b, ^ and $ at the text's ends: Go's Perl
    options.set_log_errors(false);
    const RE2 re(re2::StringPiece(pattern.data(), pattern.size()), options);
    if (re.error_code() == RE2::ErrorPatternTooLarge) {
        return r; // RE2's memory budget, not Go's syntax: neither refused nor judged
    }
    if (!re.ok()) {
        r.problem = "error parsing regexp: " + go_words(re.error_code());
        if (!re.error_arg().empty()) {
            r.problem += ": `" + re.error_arg() + "`";
        }
        return r;
    }
    r.matches_empty = RE2::FullMatch("", re);
    return r;
}

} // namespace rollback::config::promql
