// SPDX-License-Identifier: MIT
#pragma once

// Shared by the libFuzzer targets: the one rule every parser keeps (bad input is a util::Error,
// never a crash, a hang or another exception), and a scratch file for parsers that read files.

#include "util/error.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>

namespace rollback::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

/// A private directory for this process (removed at exit) and a file in it.
class ScratchFile {
  public:
    explicit ScratchFile(const std::string& name) {
        char tmpl[] = "/tmp/rollback-fuzz-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) {
            std::perror("mkdtemp");
            std::abort();
        }
        m_dir = tmpl;
        m_file = m_dir / name;
    }
    ~ScratchFile() {
        std::error_code ec;
        std::filesystem::remove_all(m_dir, ec);
    }
    const std::filesystem::path& write(std::string_view text) const {
        std::ofstream out(m_file, std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        return m_file;
    }

  private:
    std::filesystem::path m_dir, m_file;
};

/// Runs `parse`: util::Error (and its InvalidInput) is the documented answer to bad input; any
/// other exception escapes and libFuzzer reports it as a crash.
template <class F>
void expect_clean(F&& parse) {
    try {
        parse();
    } catch (const util::Error&) {
    }
}

} // namespace rollback::fuzz
