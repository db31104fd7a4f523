// SPDX-License-Identifier: MIT
#pragma once

#include "orchestrator/plan.hpp"
#include "remote/ssh.hpp"

#include <filesystem>
#include <memory>
#include <vector>

namespace rollback::orchestrator {

struct StepPreflight {
    const PlannedStep* planned = nullptr;
    std::string description; ///< the action's resolved arguments (Action::describe)
    std::vector<actions::Check> checks;
};

struct Preflight {
    std::vector<StepPreflight> steps; ///< one per planned step, in plan order
    /// Number of failed checks over selected steps.
    size_t problems() const;
};

/// Runs every selected step's read-only preflight (Action::preflight). Never changes anything;
/// `runner` is only used for read-only look-ups by actions (e.g. `pg_restore --list`).
/// Steps on hosts use `connections` when given (a run that follows keeps them open).
Preflight preflight(const Plan& plan, const std::filesystem::path& state_dir, state::Store& store,
                    const actions::Trigger& trigger, exec::ProcessRunner& runner,
                    std::shared_ptr<remote::Connections> connections = nullptr);

} // namespace rollback::orchestrator
