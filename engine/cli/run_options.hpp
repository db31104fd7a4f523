// SPDX-License-Identifier: MIT
#pragma once

// Options of the commands that build a plan: plan, run (and rehearse).

#include "cli/options.hpp"
#include "orchestrator/plan.hpp"

namespace rollback::cli {

struct PlanOptions {
    std::string playbook;
    std::vector<std::string> vars, only, skip;
    std::string from;
    actions::Trigger trigger;
};

/// Adds -p/--playbook, --var, --only, --skip, --from, --reason, --severity, --condition.
void add_plan_options(po::options_description& desc, PlanOptions& o);

/// The selection from --only/--skip/--from (lists split on commas).
orchestrator::Selection selection_of(const PlanOptions& o);

/// -p, else the config's playbook, else an error (exit 2) saying to pass -p.
std::filesystem::path playbook_path(const PlanOptions& o);

} // namespace rollback::cli
