// SPDX-License-Identifier: MIT
#pragma once

// The one logging header: spdlog stays behind it. Every message passes through mask_secrets.

#include "util/secrets.hpp"

#include <cstddef>
#include <filesystem>
#include <fmt/format.h>
#include <string>

namespace rollback::log {

/// Where messages go, and how the file is kept.
struct LogOptions {
    bool verbose = false;               ///< file target: also write to stderr
    std::size_t max_bytes = 10U << 20U; ///< the file is rotated past this size (bytes)
    std::size_t max_files = 5;          ///< rollback.log.1 .. .N kept, the oldest dropped
};

/// Under systemd (systemd.exec(5): $JOURNAL_STREAM names the device:inode of the journal stream
/// and stderr is that stream) messages go to journald with SYSLOG_IDENTIFIER=rollback and the
/// message's PRIORITY; otherwise to `file` (appending, rotated by size, as spdlog's
/// rotating_file_sink), and to stderr too with `verbose`. $ROLLBACK_LOG=journal|file forces one;
/// journal without journald's socket (outside systemd) logs to the file and says so on stderr,
/// another value is ignored with a warning on stderr.
/// Never throws: a log that cannot be opened is reported once on stderr and logging is disabled.
void init(const std::filesystem::path& file, const LogOptions& options = {});

/// The target init chose: "journal", "file" or "none" (not initialised, or the file failed).
std::string_view target();

/// Flushes and closes the log (before exec'ing or at exit).
void shutdown();

enum class Level { debug, info, warn, error };
void write(Level level, const std::string& message);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}

} // namespace rollback::log
