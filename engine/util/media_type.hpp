// SPDX-License-Identifier: MIT
#pragma once

// Case-insensitive protocol tokens: ASCII-only comparison (RFC 9110 §5.1 field names, §8.3.1
// media types, §11.1 auth schemes; RFC 3986 §3.1 URI schemes) and the media type of a
// Content-Type value.

#include <string>
#include <string_view>

namespace rollback::util {

/// True when `a` and `b` are equal ignoring the case of ASCII letters (and only theirs).
bool ascii_iequals(std::string_view a, std::string_view b);

/// True when `text` begins with `prefix`, ignoring the case of ASCII letters.
bool ascii_istarts_with(std::string_view text, std::string_view prefix);

/// The media type of a Content-Type field value — "type/subtype", lower-cased, without its
/// parameters (`; charset=utf-8`) and surrounding whitespace: "Application/JSON ; charset=x" →
/// "application/json". Empty when the value does not begin with type/subtype.
std::string media_type(std::string_view content_type);

/// A JSON media type: application/json, text/json, any structured syntax suffix +json
/// (application/problem+json, RFC 6839), and the JSON text sequences (application/x-ndjson,
/// application/jsonl, application/json-seq and their kin). `type` as media_type returns it.
bool is_json_media_type(std::string_view type);

} // namespace rollback::util
