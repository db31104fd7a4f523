// SPDX-License-Identifier: MIT
#include "journal/line.hpp"

#include "util/sha256.hpp"

#include <cstdint>
#include <cstring>

namespace rollback::journal::line {

std::optional<Split> split_hash(std::string_view text) {
    if (text.size() < k_hash_suffix_size + 2 || text.substr(text.size() - 2) != "\"}") {
        return std::nullopt;
    }
    size_t at = text.size() - k_hash_suffix_size;
    if (text.substr(at, k_hash_key.size()) != k_hash_key) {
        return std::nullopt;
    }
    std::string_view hash = text.substr(at + k_hash_key.size(), 64);
    // Eight characters at a time, without a branch per digit (digits and letters come in no
    // order a predictor could learn): for a byte below 0x80, byte + (0x80 - c) has its high bit
    // set exactly when byte >= c, with no carry into the next byte.
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    const auto at_least = [](std::uint64_t w, unsigned char c) { return w + ones * (0x80 - c); };
    std::uint64_t bad = 0;
    for (std::size_t i = 0; i < 64; i += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, hash.data() + i, 8);
        const std::uint64_t digit = at_least(w, '0') & ~at_least(w, '9' + 1);
        const std::uint64_t letter = at_least(w, 'a') & ~at_least(w, 'f' + 1);
        bad |= (w & highs) | (~(digit | letter) & highs);
    }
    if (bad != 0) {
        return std::nullopt;
    }
    Split s;
    s.body = text.substr(0, at);
    s.hash = hash;
    return s;
}

bool hash_matches(const Split& s) {
    util::Sha256 h;
    h.update(s.body);
    h.update("}");
    return h.hex() == s.hash;
}

Hashes hash_line(std::string_view line, const Split& s) {
    util::Sha256 body;
    body.update(s.body);
    util::Sha256 whole = body.fork();
    Hashes out;
    body.update("}");
    char own[64];
    body.hex_to(own);
    out.matches = std::string_view(own, sizeof own) == s.hash;
    whole.update(line.substr(s.body.size()));
    whole.hex_to(out.line);
    return out;
}

} // namespace rollback::journal::line
