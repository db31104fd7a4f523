// SPDX-License-Identifier: MIT
#pragma once

// PromQL's string literals, as Prometheus' lexer (promql/parser/lex.go: lexString, lexEscape,
// lexRawString) and its unquoting (util/strutil.Unquote) read them: Go's escapes in "..." and
// '...', none in `...`.

#include <cstddef>
#include <string>
#include <string_view>

namespace rollback::config::promql {

/// The value of the string literal whose opening quote is q[start] (", ' or `); `end` is set to
/// the byte after its closing quote. Throws Problem, located at the string or at the backslash
/// of the escape, for what Prometheus refuses: an unterminated string (a quoted one ends at a
/// newline), invalid UTF-8, an unknown escape sequence (`\.`, `\d`; `\'` in "..." and `\"` in
/// '...'), a malformed one (`\x4`, `\u00g9`) and one past Unicode (`\400`, `\uD800`).
std::string read_string(std::string_view q, std::size_t start, std::size_t& end);

/// Go's %#U of a code point: U+0064 'd' (the character only when printable).
std::string describe_rune(char32_t r);

} // namespace rollback::config::promql
