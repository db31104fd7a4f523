// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rollback::util {

using SystemTime = std::chrono::system_clock::time_point;

/// The years a SystemTime (nanoseconds since 1970 in 64 bits: 1677-09-21 .. 2262-04-11) holds
/// whole; times outside them are refused by every parser, never wrapped around.
inline constexpr int k_min_year = 1678;
inline constexpr int k_max_year = 2261;

/// RFC 3339 UTC with milliseconds: "2026-11-26T14:35:00.123Z".
std::string format_time(SystemTime t);

/// Parses RFC 3339 ("2026-11-26T14:35:00Z", fractional seconds up to nanoseconds and numeric
/// offsets ±HH:MM allowed) and "2026-11-26 14:35:00" (taken as UTC). The calendar is Howard
/// Hinnant's date library: February 31, hour 24, second 60 and offsets such as "+ab:cd" or
/// "+05:99" are not times. Years outside k_min_year..k_max_year are refused. Returns nullopt on
/// anything else; `why`, when given, then says what is wrong.
std::optional<SystemTime> parse_time(std::string_view text, std::string* why = nullptr);

/// Seconds since the epoch as a SystemTime; nullopt when outside k_min_year..k_max_year.
std::optional<SystemTime> time_from_seconds(int64_t seconds);
/// Milliseconds since the epoch as a SystemTime; nullopt when outside k_min_year..k_max_year.
std::optional<SystemTime> time_from_millis(int64_t millis);

/// The clock at the edge to the world; tests use a fake to run in virtual time.
class Clock {
  public:
    virtual ~Clock() = default;
    virtual SystemTime now() const = 0;
};

class SystemClock final : public Clock {
  public:
    SystemTime now() const override { return std::chrono::system_clock::now(); }
};

} // namespace rollback::util
