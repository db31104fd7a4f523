// SPDX-License-Identifier: MIT
#pragma once

// The rule that makes one decision of a record's conditions (its action, cause, mode and reason
// sentence), shared by the Evaluator and by `explain --now` / `check`, which evaluate the signal
// conditions and the alert conditions (two Evaluators in the monitor) into one record.

#include "decision/record.hpp"

#include <string>

namespace rollback::decision {

/// Whether a condition's action `a` (in mode `m`) becomes the record's, over the action `top`
/// (mode `top_mode`) it has so far: an executed action before a shadow's (mode observe), then
/// the heaviest; a tie keeps the earlier condition.
bool takes_over(Action a, Mode m, Action top, Mode top_mode);

/// The record's reason sentence for its action and conditions: "no action: N conditions, B
/// breaching, M without usable data", or why its `cause` acts. `r.cause` must name one of its
/// conditions when the action is not none.
std::string decision_reason(const DecisionRecord& r);

/// `a` followed by `b`'s conditions, decided again as one evaluation (the action, cause, mode,
/// executed and reason from all the conditions, `policy_mode` the [decision] mode; the later
/// cooldown). `a` and `b` are of the same target and time.
DecisionRecord combine(DecisionRecord a, const DecisionRecord& b, Mode policy_mode);

} // namespace rollback::decision
