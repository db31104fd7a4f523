// SPDX-License-Identifier: MIT
#pragma once

// The two records of nearly every journal line — step_started and step_finished — read as the
// writer lays them out, field after field, without scanning keys into a table first. Any other
// line, and any other layout of these two, is FlatLine's (journal/flat_line.hpp): what this reads
// is exactly what FlatLine and read_entry() give for the same line (tests/unit/
// test_journal_step_line.cpp holds the two together). Internal to the journal module.

#include "journal/records.hpp"

#include <string_view>
#include <vector>

namespace rollback::journal {

/// A line read by read_step_line: its record, and what the hash chain check needs.
struct StepLine {
    Entry entry;
    std::string_view prev; ///< the "prev" value (a view of the line)
};

/// Reads `line` when it is, byte for byte, a step_started or step_finished record as this
/// rollback writes it without anything rare (printable ASCII without a backslash; a
/// step_finished with empty "details", no "left_running", no "recovered"), and its "hash"
/// field's 64 characters; false (and `out` unspecified) for any other line.
bool read_step_line(std::string_view line, StepLine& out);

/// Reads the text of a run_started "steps" array when every element is as the writer lays it
/// out (`{"id":"...","phase":"...","action":"...","idempotent":B,"has_probe":B,"finally":B}`,
/// printable ASCII without a backslash) into `out` (appended); false for any other text (`out`
/// then holds what was read of it: the caller reads the array the general way instead).
bool read_planned_steps(std::string_view array, std::vector<PlannedStep>& out);

} // namespace rollback::journal
