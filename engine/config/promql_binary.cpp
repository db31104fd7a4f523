// SPDX-License-Identifier: MIT
// The order of the checks is checkAST's, so a query with several mistakes is refused for the one
// Prometheus names first.
#include "config/promql_binary.hpp"

#include <algorithm>

namespace rollback::config::promql {

namespace {

using T = PromqlType;
using Type = std::optional<PromqlType>;

std::string name(Type t) {
    return t ? std::string(to_string(*t)) : "unknown";
}

[[noreturn]] void fail(std::string what, const Token& at) {
    throw Problem{std::move(what), at.offset};
}

} // namespace

std::optional<BinaryOp> binary_op(const Token& t) {
    if (t.kind == Tok::ident) {
        const std::string w = lower(t.text);
        if (w == "or") {
            return BinaryOp{1, false, true, false};
        }
        if (w == "and" || w == "unless") {
            return BinaryOp{2, false, true, false};
        }
        if (w == "atan2") {
            return BinaryOp{5, false, false, false};
        }
        return std::nullopt;
    }
    if (t.kind != Tok::op) {
        return std::nullopt;
    }
    if (t.text == "==" || t.text == "!=" || t.text == "<=" || t.text == "<" || t.text == ">=" ||
        t.text == ">") {
        return BinaryOp{3, false, false, true};
    }
    if (t.text == "+" || t.text == "-") {
        return BinaryOp{4, false, false, false};
    }
    if (t.text == "*" || t.text == "/" || t.text == "%") {
        return BinaryOp{5, false, false, false};
    }
    if (t.text == "^") {
        return BinaryOp{6, true, false, false};
    }
    return std::nullopt; // =~ and friends belong in braces
}

Type combine(Type a, Type b, const BinaryOp& op, const BinaryModifiers& m, const Token& at) {
    const std::string word = lower(at.text);
    if (m.with_bool && !op.comparison) {
        fail("bool modifier can only be used on comparison operators", at);
    }
    if (op.comparison && !m.with_bool && a == T::scalar && b == T::scalar) {
        fail("comparisons between scalars must use BOOL modifier", at);
    }
    if (m.on) {
        for (const std::string& l : m.labels) {
            if (std::find(m.include.begin(), m.include.end(), l) != m.include.end()) {
                fail("label \"" + l + "\" must not occur in ON and GROUP clause at once", at);
            }
        }
    }
    for (Type t : {a, b}) {
        if (t && *t != T::scalar && *t != T::instant_vector) {
            fail("binary expression \"" + at.text +
                     "\" must contain only scalar and instant vector types, got " + name(t),
                 at);
        }
    }
    const bool scalar_side = a == T::scalar || b == T::scalar;
    if (scalar_side && !m.labels.empty()) {
        fail("vector matching only allowed between instant vectors", at);
    }
    // Between two vectors a set operator with a group is refused; with a scalar operand it is
    // refused below either way: so whatever the operands turn out to be.
    if (op.set && m.group && !scalar_side) {
        fail("no grouping allowed for \"" + word + "\" operation", at);
    }
    if (op.set && scalar_side) {
        fail("set operator \"" + at.text + "\" not allowed in binary scalar expression", at);
    }
    if (a == T::scalar && b == T::scalar) {
        return T::scalar;
    }
    if (a == T::instant_vector || b == T::instant_vector || op.set) {
        return T::instant_vector;
    }
    return std::nullopt;
}

} // namespace rollback::config::promql
