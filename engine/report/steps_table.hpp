// SPDX-License-Identifier: MIT
#pragma once

// The steps table of `rollback status`: a row per step of the run, built in place (a long run
// has tens of thousands).

#include "journal/state.hpp"

#include <string>

namespace rollback::report {

/// Appends to `out` nothing for a run without steps; else a blank line, the header and a row
/// per step in plan order (with the processes a step left running under it). `live`: a live
/// process runs the run.
void append_steps_table(std::string& out, const journal::RunState& s, bool live);

} // namespace rollback::report
