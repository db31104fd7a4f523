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
/// as \n \r \t \b \f or \u00XX, valid UTF-8 as it is, a byte that is not part of valid UTF-8 as
/// the four characters `\\xHH` (valid_utf8()): the result is always valid JSON string text.
std::string json_escape(std::string_view text);

/// `text` as valid UTF-8: every byte that does not belong to a valid UTF-8 sequence (a Latin-1
/// byte, a lone continuation byte, an overlong form, a surrogate) is written as the four ASCII
/// characters `\xHH` (lower-case hex), the form visible_controls() shows it in; valid UTF-8 is
/// kept as it is. What every JSON or record the engine writes holds (docs/journal.md).
std::string valid_utf8(std::string_view text);
/// Whether `text` is valid UTF-8 (valid_utf8(text) == text).
bool is_valid_utf8(std::string_view text);
/// `pos` moved forward past UTF-8 continuation bytes (at most 3): where a cut at `pos` leaves
/// no partial sequence at the start of `text.substr(result)`.
size_t utf8_boundary(std::string_view text, size_t pos);

/// `text` made safe to show on a terminal: C0 controls (except \n and \t), DEL, C1 controls
/// (U+0080..U+009F) and bytes that are not valid UTF-8 are written visibly as `\x1b`-style
/// escapes, so no escape sequence from a step's output or an input file reaches the terminal.
/// So are the format characters that reorder or hide text (bidi controls U+061C, U+200E/200F,
/// U+202A..202E, U+2066..2069; zero-width and invisible U+180E, U+200B..200D, U+2060..2064,
/// U+206A..206F, U+FEFF; U+2028/2029; U+FFF9..FFFB; tags U+E0000..E007F), as `\u202e`
/// (`\U000e0041`): what an operator reads is what the bytes say.
std::string visible_controls(std::string_view text);

} // namespace rollback::util
