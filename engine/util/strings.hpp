// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rollback::util {

/// Splits on `sep`; empty pieces are kept ("a,,b" → {"a","","b"}); "" → {}.
std::vector<std::string> split(std::string_view text, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view trim(std::string_view text);
/// Replaces every occurrence of `from` (non-empty) with `to`.
std::string replace_all(std::string text, std::string_view from, std::string_view to);
/// `"text"` with backslash escapes for quotes, backslashes and control characters.
std::string quoted(std::string_view text);
/// The last `max_bytes` of `text` (fewer: never from inside a UTF-8 character), starting at a
/// line boundary when one is close.
std::string tail(std::string_view text, size_t max_bytes);

/// The candidate closest to `word` by edit distance, when close enough to be a likely typo;
/// empty otherwise. (ninja's SpellcheckString: distance ≤ 3 and less than the word's length.)
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

} // namespace rollback::util
