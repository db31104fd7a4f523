// SPDX-License-Identifier: MIT
#pragma once

// `when` conditions on the trigger, e.g. `severity == 'critical' or condition == 'security'`.
// Grammar: term (("and" | "or") term)*, term = FIELD ("==" | "!=") 'TEXT' | "not" term | "(" ...
// ")"; FIELD is one of severity, condition, trigger (the trigger kind), reason. `and` binds
// tighter.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace rollback::playbook {

/// The values a `when` condition can test.
using WhenFields = std::map<std::string, std::string, std::less<>>;

/// Empty when `expr` is well-formed; otherwise the problem and the 0-based offset where it is.
struct WhenError {
    std::string problem;
    size_t offset = 0;
};
std::optional<WhenError> check_when(std::string_view expr);

/// Evaluates a well-formed `expr` (check_when first); an empty expression is true.
bool evaluate_when(std::string_view expr, const WhenFields& fields);

} // namespace rollback::playbook
