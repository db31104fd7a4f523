// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

namespace rollback::util {

/// The process-wide set of secret values (from `secret = true` variables, DSN passwords, ...).
/// Every output path — terminal, log file, journal, report, JSON events — passes text through
/// `mask_secrets`, so a secret registered before it is printed never appears in clear.
/// Values shorter than 3 characters are not registered (they would mask ordinary text).
void register_secret(std::string_view value);

/// `text` with every registered secret replaced by "***". Thread-safe.
std::string mask_secrets(std::string_view text);

/// Forgets every registered secret (tests only).
void clear_secrets();

/// "postgresql://user:pw@host/db" and "host=h password=pw" with the password shown as "***".
/// Registers the password as a secret as a side effect.
std::string mask_dsn(std::string_view dsn);

} // namespace rollback::util
