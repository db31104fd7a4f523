// SPDX-License-Identifier: MIT
#pragma once

// A vector selector's label matchers, checked as Prometheus' parser checks them
// (promql/parser/parse.go: newLabelMatcher, checkAST's *VectorSelector).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::config::promql {

struct Matcher {
    std::string label;      ///< __name__ for Prometheus 3's quoted metric name ({"metric.name"})
    std::string op;         ///< =, !=, =~, !~
    std::string value;      ///< its string escapes read
    std::size_t offset = 0; ///< of the value's string, in the query
};

/// Throws Problem, at the value, when `m` is a regex matcher whose regex Prometheus refuses.
void check_matcher(const Matcher& m);

/// Throws Problem, at `offset` (the selector's start), when a selector with the metric name
/// `name` (empty: none before the braces) and `matchers` is one Prometheus refuses: the name set
/// again inside the braces, or — without a name — no matcher that fails to match the empty
/// string (`{job=~".*"}` would select every series). A regex RE2 cannot judge counts as one that
/// does not match it.
void check_selector(std::string_view name, const std::vector<Matcher>& matchers,
                    std::size_t offset);

} // namespace rollback::config::promql
