// SPDX-License-Identifier: MIT
#pragma once

// The byte-level shape of one journal line, shared by the writer, the reader and verify.
// Internal to the journal module.

#include <optional>
#include <string>
#include <string_view>

namespace rollback::journal::line {

/// `,"hash":"<64 hex>"}`: the fixed-size tail every line ends with.
inline constexpr std::string_view k_hash_key = ",\"hash\":\"";
inline constexpr std::size_t k_hash_suffix_size = k_hash_key.size() + 64 + 2;

/// Splits a line into (the line as it was hashed, the stored hash): the hashed text is the line
/// with its hash field removed — `body` followed by `}` (`{...,"prev":"..."}`); views into
/// `line`. nullopt when the line has no hash tail.
struct Split {
    std::string_view body; ///< the line up to its hash field, without the closing brace
    std::string_view hash; ///< 64 lower-case hex digits
};
std::optional<Split> split_hash(std::string_view line);

/// Whether the SHA-256 of `s.body` + "}" is `s.hash`: the record's bytes are as written.
bool hash_matches(const Split& s);

/// hash_matches() and the SHA-256 of the whole line (what the next line's "prev" must be) from
/// one pass over the line's body. `s` is split_hash(`line`).
struct Hashes {
    bool matches = false; ///< as hash_matches(s)
    char line[64];        ///< SHA-256 (lower-case hex) of `line`
};
Hashes hash_line(std::string_view line, const Split& s);

} // namespace rollback::journal::line
