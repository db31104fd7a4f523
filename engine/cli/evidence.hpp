// SPDX-License-Identifier: MIT
#pragma once

// A decision as the HTML pages show it: the record's numbers and, per condition, its
// evaluations from the tick log around the decision (docs/decision.md, "Decision record").

#include "decision/record.hpp"
#include "report/html.hpp"
#include "state/store.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace rollback::cli {

/// The view of record `r` (id `id`): conditions with the cause first, each with its tick-log
/// series from `before` ahead of the decision to `after` past it. Unreadable tick lines are
/// skipped; a missing tick log gives empty series. The tick log is `store`'s (shared or local).
report::DecisionView decision_view(const state::Store& store, const decision::DecisionRecord& r,
                                   const std::string& id,
                                   util::Millis before = std::chrono::hours(1),
                                   util::Millis after = std::chrono::minutes(15));

/// The view of the decision a run names, when its record is in `store`.
std::optional<report::DecisionView> decision_view_of_run(const state::Store& store,
                                                         const std::string& decision_id);

} // namespace rollback::cli
