// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace rollback::util {

/// Incremental SHA-256 (OpenSSL's low-level SHA256_*). `hex()` finishes the digest; call it once.
class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(std::string_view data);
    std::string hex();
    /// hex() written into `out` (64 characters, no terminator): no allocation.
    void hex_to(char* out);
    /// A second hash that goes on from this one's state: data hashed once serves two digests
    /// (a journal line's own hash and the hash of the whole line).
    Sha256 fork() const;

  private:
    explicit Sha256(void* ctx) : m_ctx(ctx) {}
    void* m_ctx;
};

/// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// Lower-case hex HMAC-SHA-256 (RFC 2104) of `data` under `key`.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// Lower-case hex SHA-256 of a file's bytes, read in chunks; throws util::Error when unreadable.
std::string sha256_file(const std::filesystem::path& path);

} // namespace rollback::util
