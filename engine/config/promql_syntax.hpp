// SPDX-License-Identifier: MIT
#pragma once

// PromQL's vocabulary for config/promql_type.cpp: its lexer (after Prometheus' promql/parser/
// lex.go: comments, the three string quotes, numbers and durations, identifiers, punctuation and
// operators) and the signatures of its functions (functions.go).

#include "config/promql_type.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
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
    std::string value{}; ///< a string's value, its escapes read (promql_string.hpp)
};

struct Problem {
    std::string what;
    std::size_t offset = 0;
    std::string hint{}; ///< what to write instead, when that is clear
};

/// The tokens of `query`, ending with Tok::end at its size. Throws Problem for what Prometheus'
/// lexer refuses too: a string it refuses (promql_string.hpp), a bad number or duration (units
/// out of order, past 292 years: model.ParseDuration), an unexpected character.
std::vector<Token> lex(std::string_view query);

/// The milliseconds of a duration token (5m, 1h30m), as Prometheus' model.ParseDuration reads it;
/// nullopt when it refuses it (then `why` says so: not a valid duration string, out of range).
std::optional<std::uint64_t> duration_ms(std::string_view text, std::string* why = nullptr);

/// The value of a number token (1e3, 0x1F, .5), as Prometheus reads it; nullopt when it refuses
/// it (out of range: 1e400).
std::optional<double> number_value(std::string_view text);

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
