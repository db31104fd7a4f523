// SPDX-License-Identifier: MIT
#pragma once

// The one logging header: spdlog stays behind it. Every message passes through mask_secrets.

#include "util/secrets.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <string>

namespace rollback::log {

/// Opens `<state_dir>/rollback.log` (appending). With `verbose`, messages are also written to
/// stderr. Without a call, logging goes nowhere. Never throws: a log that cannot be opened is
/// reported once on stderr and logging is disabled.
void init(const std::filesystem::path& file, bool verbose);

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
