// SPDX-License-Identifier: MIT
#pragma once

// PromQL's binary operators for config/promql_type.cpp: their precedence, and the rules
// Prometheus' checkAST applies to a binary expression (promql/parser/parse.go, *BinaryExpr):
// operand types, `bool`, and the vector matching of on/ignoring and group_left/group_right.

#include "config/promql_syntax.hpp"
#include "config/promql_type.hpp"

#include <optional>
#include <string>
#include <vector>

namespace rollback::config::promql {

struct BinaryOp {
    int precedence = 0;
    bool right = false; ///< right-associative (^)
    bool set = false;   ///< and, or, unless
    bool comparison = false;
};

/// The operator `t` is (by precedence: or; and, unless; comparisons; + -; * / % atan2; ^), or
/// nullopt when it is none.
std::optional<BinaryOp> binary_op(const Token& t);

/// The modifiers between an operator and its right operand: `bool`, `on(...)`/`ignoring(...)`,
/// `group_left(...)`/`group_right(...)`.
struct BinaryModifiers {
    bool with_bool = false;
    bool on = false;                 ///< on(...) rather than ignoring(...)
    std::vector<std::string> labels; ///< of on(...) or ignoring(...)
    bool group = false;              ///< group_left or group_right was given
    std::vector<std::string> include;
};

/// The type of `a OP b` (nullopt: open, as an operand's). Throws Problem, at the operator `at`,
/// for what Prometheus refuses: an operand that is no scalar or instant vector, `bool` on an
/// operator that is no comparison, a comparison of scalars without it, a set operator on a
/// scalar or with group_left/group_right, a label both in on(...) and in the group's list, and
/// on/ignoring with labels where an operand is a scalar.
std::optional<PromqlType> combine(std::optional<PromqlType> a, std::optional<PromqlType> b,
                                  const BinaryOp& op, const BinaryModifiers& m, const Token& at);

} // namespace rollback::config::promql
