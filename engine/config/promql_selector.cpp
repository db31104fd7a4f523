// SPDX-License-Identifier: MIT
#include "config/promql_selector.hpp"

#include "config/promql_regex.hpp"
#include "config/promql_syntax.hpp"

namespace rollback::config::promql {

namespace {

bool regex(const Matcher& m) {
    return m.op == "=~" || m.op == "!~";
}

/// labels.Matcher.Matches(""): an =~ or !~ regex is anchored at both ends.
bool matches_empty(const Matcher& m) {
    if (m.op == "=") {
        return m.value.empty();
    }
    if (m.op == "!=") {
        return !m.value.empty();
    }
    const auto empty = read_regex(m.value).matches_empty;
    if (!empty) {
        return false; // cannot tell: not refused for it
    }
    return m.op == "=~" ? *empty : !*empty;
}

std::string go_quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

} // namespace

void check_matcher(const Matcher& m) {
    if (!regex(m)) {
        return;
    }
    if (auto r = read_regex(m.value); !r.problem.empty()) {
        throw Problem{std::move(r.problem), m.offset};
    }
}

void check_selector(std::string_view name, const std::vector<Matcher>& matchers,
                    std::size_t offset) {
    if (!name.empty()) {
        for (const Matcher& m : matchers) {
            if (m.label == "__name__") {
                throw Problem{"metric name must not be set twice: " + go_quoted(name) + " or " +
                                  go_quoted(m.value),
                              offset};
            }
        }
        return; // a metric name is a matcher that does not match ""
    }
    for (const Matcher& m : matchers) {
        if (!matches_empty(m)) {
            return;
        }
    }
    throw Problem{"vector selector must contain at least one non-empty matcher", offset,
                  "a selector must rule some series out: give a metric name, or a matcher the "
                  "empty string fails (job=\"shop\", job=~\".+\"), as Prometheus asks"};
}

} // namespace rollback::config::promql
