// SPDX-License-Identifier: MIT
#pragma once

// Enough of PromQL's grammar to tell the type of a query's result without asking Prometheus:
// `rollback validate` refuses an alert's confirming query that can never give the confirmation
// the instant vector it reads (docs/config.md, "Confirming an alert").

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rollback::config {

enum class PromqlType { scalar, instant_vector, range_vector, string };

/// "scalar", "instant vector", "range vector", "string" (Prometheus' words).
std::string_view to_string(PromqlType t);

struct PromqlReading {
    /// The result's type; nullopt when it depends on something this reader does not know (a
    /// function it has no signature of, a duration expression) or when `problem` is set.
    std::optional<PromqlType> type;
    /// A mistake Prometheus refuses the query for as well (unbalanced brackets, a string or an
    /// escape its lexer refuses, a regex that does not compile, a selector that matches every
    /// series, a modifier set twice, an operand or argument of the wrong type); empty when none
    /// was found. In Prometheus' words.
    std::string problem;
    std::size_t offset = 0; ///< byte of the query where `problem` is
    std::string hint;       ///< what to write instead, when the reader knows (an escape, a
                            ///< selector of every series)
};

/// Reads `query`: lexes all of PromQL (comments, the three string quotes with their escapes,
/// numbers, durations, label matchers and their regexes) and parses expressions, operators with
/// their precedence and modifiers, offset and @, aggregations and the functions of Prometheus 2
/// and 3. Never throws.
PromqlReading read_promql(std::string_view query);

} // namespace rollback::config
