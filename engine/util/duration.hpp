// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace rollback::util {

using Millis = std::chrono::milliseconds;

/// The longest duration parse_duration accepts: 3650 days (ten years).
inline constexpr Millis k_max_duration{std::chrono::hours(24 * 3650)};

/// Parses "250ms", "30s", "5m", "1h", "1h30m", "1.5s", "2d" into milliseconds. Returns nullopt
/// for anything else (empty, negative, unknown unit, trailing garbage, longer than
/// k_max_duration).
std::optional<Millis> parse_duration(std::string_view text);

/// The shortest readable form: "250ms", "30s", "1m30s", "2h", "1.2s" for 1200ms.
std::string format_duration(Millis d);

} // namespace rollback::util
