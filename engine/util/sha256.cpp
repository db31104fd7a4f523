// SPDX-License-Identifier: MIT
#include "util/sha256.hpp"

#include "util/error.hpp"

#include <array>
#include <cstring>
#include <fstream>
#include <string_view>
#include <vector>

// OpenSSL's low-level SHA-256 (deprecated in OpenSSL 3, still shipped): the same assembly (SHA-NI
// when the CPU has it) as EVP, without EVP's provider machinery, whose first use pages in ~2 MB of
// libcrypto — a third of what the long-running monitor is resident for.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace rollback::util {

Sha256::Sha256() : m_ctx(new SHA256_CTX) {
    if (SHA256_Init(static_cast<SHA256_CTX*>(m_ctx)) != 1) {
        delete static_cast<SHA256_CTX*>(m_ctx);
        throw Error("cannot initialise SHA-256", ExitCode::run_failed);
    }
}

Sha256::~Sha256() {
    delete static_cast<SHA256_CTX*>(m_ctx);
}

void Sha256::update(std::string_view data) {
    SHA256_Update(static_cast<SHA256_CTX*>(m_ctx), data.data(), data.size());
}

std::string Sha256::hex() {
    std::string out(SHA256_DIGEST_LENGTH * 2, '0');
    hex_to(out.data());
    return out;
}

namespace {

/// The two hex digits of every byte: one look-up per byte (a journal read takes two digests a
/// line).
constexpr std::array<char, 512> k_hex_pairs = [] {
    constexpr std::string_view digits = "0123456789abcdef";
    std::array<char, 512> pairs{};
    for (std::size_t b = 0; b < 256; ++b) {
        pairs[2 * b] = digits[b >> 4];
        pairs[2 * b + 1] = digits[b & 0xf];
    }
    return pairs;
}();

/// The 32 bytes a hex digest spells.
std::string unhex_digest(std::string_view hex) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    std::string out(hex.size() / 2, '\0');
    for (size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<char>((nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]));
    }
    return out;
}

} // namespace

void Sha256::hex_to(char* out) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256_Final(md, static_cast<SHA256_CTX*>(m_ctx));
    for (unsigned int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
        std::memcpy(out + 2 * i, &k_hex_pairs[2 * std::size_t{md[i]}], 2);
    }
}

Sha256 Sha256::fork() const {
    return Sha256(new SHA256_CTX(*static_cast<const SHA256_CTX*>(m_ctx)));
}

std::string sha256_hex(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.hex();
}

std::string sha256_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error("cannot read " + path.string(), ExitCode::run_failed);
    }
    Sha256 h;
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        h.update(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
    }
    return h.hex();
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    constexpr size_t k_block = 64;
    std::string k(key);
    if (k.size() > k_block) {
        k = unhex_digest(sha256_hex(k));
    }
    k.resize(k_block, '\0');
    std::string inner(k_block, '\0'), outer(k_block, '\0');
    for (size_t i = 0; i < k_block; ++i) {
        inner[i] = static_cast<char>(k[i] ^ 0x36);
        outer[i] = static_cast<char>(k[i] ^ 0x5c);
    }
    Sha256 in;
    in.update(inner);
    in.update(data);
    Sha256 out;
    out.update(outer);
    out.update(unhex_digest(in.hex()));
    return out.hex();
}

} // namespace rollback::util
