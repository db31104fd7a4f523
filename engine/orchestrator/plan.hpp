// SPDX-License-Identifier: MIT
#pragma once

#include "actions/action.hpp"
#include "playbook/model.hpp"
#include "playbook/when.hpp"

#include <string>
#include <vector>

namespace rollback::orchestrator {

/// --only / --skip / --from, by step id.
struct Selection {
    std::vector<std::string> only;
    std::vector<std::string> skip;
    std::string from;
    bool empty() const { return only.empty() && skip.empty() && from.empty(); }
};

struct PlannedStep {
    const playbook::Step* step = nullptr;
    bool is_finally = false;
    bool selected = true;
    std::string skip_reason; ///< why not selected: "--skip", "not in --only", "before --from say",
                             ///< "when: severity == 'critical' is false"
};

/// What a run will do, in order: the regular steps, then the finally steps.
struct Plan {
    const playbook::Playbook* playbook = nullptr;
    std::vector<PlannedStep> steps;
};

/// The plan for `pb` under `selection` and `trigger`. Throws util::Error (exit 2) naming any
/// unknown step id in the selection (with "did you mean"). `finally` steps are only left out by
/// an explicit --skip.
Plan make_plan(const playbook::Playbook& pb, const Selection& selection,
               const actions::Trigger& trigger);

/// The fields a `when` condition can test, from the trigger.
playbook::WhenFields when_fields(const actions::Trigger& trigger);

} // namespace rollback::orchestrator
