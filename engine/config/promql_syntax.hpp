// SPDX-License-Identifier: MIT
#pragma once

// PromQL's vocabulary for config/promql_type.cpp: its lexer (after Prometheus' promql/parser/
// lex.go: comments, the three string quotes, numbers and durations, identifiers, punctuation and
// operators) and the signatures of its functions (functions.go).

#include "config/promql_type.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::config::promql {

enum class Tok {
    number,
    duration,
    string,
    ident,
    lparen,
    rparen,
    lbrace,
    rbrace,
    lbracket,
    rbracket,
    comma,
    colon,
    at,
    op,
    end
};

struct Token {
    Tok kind = Tok::end;
    std::string text;
    std::size_t offset = 0;
};

struct Problem {
    std::string what;
    std::size_t offset = 0;
};

/// Nested deeper than the reader goes (a recursive descent on the stack): the type is left open.

/// The tokens of `query`, ending with Tok::end at its size. Throws Problem for what Prometheus'
/// lexer refuses too: an unterminated string, a bad number or duration, an unexpected character.
std::vector<Token> lex(std::string_view query);

/// `s` in lower case (PromQL's keywords and aggregations are case-insensitive).
std::string lower(std::string s);

/// A function's signature, as Prometheus declares it.
struct Signature {
    std::string_view name;
    PromqlType result;
    std::vector<PromqlType> args;
    int variadic = 0; ///< as Prometheus: 0 exact; n > 0 up to n more; -1 any number more
};

/// The functions of Prometheus 2 and 3 (stable and experimental) with their signatures.
const std::vector<Signature>& functions();

} // namespace rollback::config::promql
