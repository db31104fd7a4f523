// SPDX-License-Identifier: MIT
#pragma once

// The regular expressions of PromQL's =~ and !~ matchers, read as Prometheus reads them: Go's
// regexp syntax (RE2's; Go refuses the one escape RE2 takes beside it, \C, and Go 1.22 names a
// group (?<name>re) too), anchored at both ends (^(?:re)$). RE2 is used here only
// (docs/architecture.md).

#include <optional>
#include <string>
#include <string_view>

namespace rollback::config::promql {

struct RegexReading {
    /// What Prometheus says of a regex it refuses, in Go's words: "error parsing regexp: missing
    /// closing ): `(`"; empty when it compiles.
    std::string problem;
    /// Whether the whole of "" matches it (Prometheus' test for a selector that matches every
    /// series); nullopt when RE2 cannot tell (a pattern past its memory budget, which Go may
    /// still compile).
    std::optional<bool> matches_empty;
};

/// Reads `pattern` (a matcher's value, its string escapes already read). Never throws.
RegexReading read_regex(std::string_view pattern);

} // namespace rollback::config::promql
