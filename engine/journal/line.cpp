// SPDX-License-Identifier: MIT
#include "journal/line.hpp"

#include "util/sha256.hpp"

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
    // Without a branch per digit: digits and letters come in no order a predictor could learn.
    unsigned bad = 0;
    for (char c : hash) {
        const auto u = static_cast<unsigned char>(c);
        bad |= static_cast<unsigned>(static_cast<unsigned char>(u - '0') > 9) &
               static_cast<unsigned>(static_cast<unsigned char>(u - 'a') > 5);
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
