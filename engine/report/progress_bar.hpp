// SPDX-License-Identifier: MIT
#pragma once

// Progress a step reports as text ("restoring: 12/40 items, ETA 30s", db/restore.cpp) drawn as a
// bar in the live step list on a terminal; plain and JSON output keep the text.

#include <optional>
#include <string>
#include <string_view>

namespace rollback::report {

/// For a progress line of the form `LABEL: DONE/TOTAL REST` (DONE and TOTAL whole numbers,
/// 0 <= DONE <= TOTAL, TOTAL > 0), the same facts as `LABEL [#####.....]  42% DONE/TOTAL REST`
/// in at most `cols` columns (the bar shrinks first, down to 10 cells; narrower, the label goes
/// — `[###..]  42% DONE/TOTAL REST` — and the bar shrinks down to 5 cells: a restore beside its
/// step's row on an 80-column terminal). nullopt for any other line, or when even the shortest
/// form does not fit.
std::optional<std::string> progress_bar(std::string_view line, size_t cols);

} // namespace rollback::report
