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

/// A hand-over for a person: `to the next leader (from generation 3) on SIGTERM during step slow
/// (attempt 1: interrupted); its resume runs the remaining steps, then the finally steps`.
std::string hand_over_text(const journal::RunHandedOver& r);

/// An interrupt for a person, as the live view says it: `interrupted by SIGINT; running finally
/// steps`, or — during a resume's wait for an interrupted attempt's survivors — that no finally
/// step runs now and the run stays resumable.
std::string interrupted_text(const journal::RunInterrupted& r);

/// An abandoned run for a person: `for run R, started with --abandon-stale by alice@web1 (pid 7)`.
std::string abandoned_text(const journal::RunAbandoned& r);

} // namespace rollback::report
