// SPDX-License-Identifier: MIT
#pragma once

// One journal record as a line of text, and how a run's trigger is written in it.

#include "journal/records.hpp"

#include <string>

namespace rollback::report {

/// One record as a line of text, e.g. `step restore-db: failed (exit 1, 2.3s): pg_restore: ...`.
std::string describe_record(const journal::Entry& e);
/// describe_record() appended to `out`.
void append_record(std::string& out, const journal::Entry& e);

/// "error_rate checkout (severity critical, decision D)"; empty when the run had no trigger.
std::string trigger_text(const journal::Trigger& t);

} // namespace rollback::report
