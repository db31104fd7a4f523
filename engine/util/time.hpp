// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace rollback::util {

using SystemTime = std::chrono::system_clock::time_point;

/// RFC 3339 UTC with milliseconds: "2026-11-26T14:35:00.123Z".
std::string format_time(SystemTime t);

/// Parses RFC 3339 ("2026-11-26T14:35:00Z", fractional seconds and numeric offsets allowed) and
/// "2026-11-26 14:35:00" (taken as UTC). Returns nullopt on anything else.
std::optional<SystemTime> parse_time(std::string_view text);

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
