// SPDX-License-Identifier: MIT
#pragma once

// Encodings of a value for the text it is placed into (URL, JSON) and for a terminal. The
// playbook's substitution (playbook/variables.hpp) and the secret masker use the same ones. There
// is no shell encoding: a value is never written into shell text (docs/playbook.md).

#include <string>
#include <string_view>

namespace rollback::util {

/// Every byte except the unreserved ones (A-Z a-z 0-9 - . _ ~) as %XX (upper-case hex): safe as
/// one URL path segment, query name or value, fragment or userinfo part.
std::string percent_encode(std::string_view text);

/// The inside of a JSON string (no surrounding quotes): `"` and `\` escaped, control characters
/// as \n \r \t \b \f or \u00XX. Other bytes (UTF-8 included) as they are.
std::string json_escape(std::string_view text);

/// `text` made safe to show on a terminal: C0 controls (except \n and \t), DEL, C1 controls
/// (U+0080..U+009F) and bytes that are not valid UTF-8 are written visibly as `\x1b`-style
/// escapes, so no escape sequence from a step's output or an input file reaches the terminal.
std::string visible_controls(std::string_view text);

} // namespace rollback::util
