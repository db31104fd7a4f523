// SPDX-License-Identifier: MIT
#pragma once

// One line of what db/ checks before it acts (plan, --dry-run); the step preflight shows it.

#include <string>

namespace rollback::db {

/// One checked fact: ok, or the problem and a hint. `notice`: ok, but a person should know (a
/// leftover database to drop; `hint` says how).
struct PreflightLine {
    bool ok = true;
    std::string what;
    std::string problem;
    std::string hint;
    bool notice = false;
};

} // namespace rollback::db
