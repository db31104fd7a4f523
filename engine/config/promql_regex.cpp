// SPDX-License-Identifier: MIT
// RE2 is the C++ implementation of the syntax Go's regexp (and so Prometheus) reads: the same
// grammar, the same limits (a repeat count at most 1000, nested ones too). Its error codes are
// named here in Go's words (regexp/syntax ErrorCode), as Prometheus prints them.
#include "config/promql_regex.hpp"

#include <re2/re2.h>

#include <optional>

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

/// `p` as RE2 reads Go's syntax, or nullopt when it has \C (any byte: RE2's, refused by Go, in a
/// class too). Go 1.22 (Prometheus 3) also names a group (?<name>re), which RE2 of Debian 12
/// knows as (?P<name>re) only: rewritten so. \Q...\E quotes both.
std::optional<std::string> for_re2(std::string_view p) {
    std::string out;
    out.reserve(p.size() + 4);
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '\\' && i + 1 < p.size()) {
            std::size_t stop = i + 2; // the escaped character
            if (p[i + 1] == 'C') {
                return std::nullopt;
            }
            if (p[i + 1] == 'Q') {
                const std::size_t e = p.find("\\E", i + 2);
                stop = e == std::string_view::npos ? p.size() : e + 2;
            }
            out.append(p.substr(i, stop - i));
            i = stop - 1;
        } else if (p.substr(i, 3) == "(?<" && i + 3 < p.size() && p[i + 3] != '=' &&
                   p[i + 3] != '!') {
            out += "(?P<"; // not a lookbehind (?<= (?<!, which Go refuses as RE2 does
            i += 2;
        } else {
            out += p[i];
        }
    }
    return out;
}

} // namespace

RegexReading read_regex(std::string_view pattern) {
    RegexReading r;
    const auto go = for_re2(pattern);
    if (!go) {
        r.problem = "error parsing regexp: invalid escape sequence: `\\C`";
        return r;
    }
    RE2::Options options; // UTF-8, Perl classes and \b, ^ and $ at the text's ends: Go's Perl
    options.set_log_errors(false);
    const RE2 re(*go, options);
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
