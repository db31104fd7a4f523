// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace rollback::sources {

/// Follows a growing log file like `tail -F`: across rotation (a new file at the path: the rest of
/// the old one is read first, then the new one from its start) and truncation (the file got
/// smaller than what was read: read again from its start). Only complete lines are delivered.
class LogTailer {
  public:
    /// `from_start`: read what the file already holds on the first poll; otherwise start at its
    /// end.
    explicit LogTailer(std::filesystem::path path, bool from_start = false);
    ~LogTailer();
    LogTailer(const LogTailer&) = delete;
    LogTailer& operator=(const LogTailer&) = delete;

    struct Poll {
        bool readable = true; ///< false: the file cannot be opened now (no data, not no traffic)
        std::string error;    ///< why, when not readable
        uint64_t lines = 0;
        bool rotated = false, truncated = false;
    };
    /// Delivers every complete line appended since the last poll (without the newline).
    Poll poll(const std::function<void(std::string_view)>& on_line);

  private:
    void drain(Poll& result, const std::function<void(std::string_view)>& on_line);
    std::filesystem::path m_path;
    bool m_from_start;
    bool m_first = true;
    int m_fd = -1;
    dev_t m_dev = 0;
    ino_t m_ino = 0;
    uint64_t m_offset = 0;
    std::string m_partial;
    std::vector<char> m_buf;
};

} // namespace rollback::sources
