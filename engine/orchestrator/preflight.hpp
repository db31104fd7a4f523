// SPDX-License-Identifier: MIT
#pragma once

#include "orchestrator/plan.hpp"
#include "remote/ssh.hpp"
#include "util/error.hpp"

#include <filesystem>
#include <memory>
#include <string>
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
    /// The failed checks of selected steps, "STEP: WHAT: PROBLEM", in plan order (masked).
    std::vector<std::string> failures() const;
};

/// Thrown when a run does not start because its preflight found problems (nothing was run,
/// exit 2). The message names the first failed check; `failures` are all of them. The monitor
/// pages and counts it as a rollback that did not start (docs/decision.md).
class PreflightFailed : public util::Error {
  public:
    explicit PreflightFailed(std::vector<std::string> failures);
    const std::vector<std::string>& failures() const { return m_failures; }

  private:
    std::vector<std::string> m_failures;
};

/// Runs every selected step's read-only preflight (Action::preflight). Never changes anything;
/// `runner` is only used for read-only look-ups by actions (e.g. `pg_restore --list`).
/// Steps on hosts use `connections` when given (a run that follows keeps them open).
Preflight preflight(const Plan& plan, const std::filesystem::path& state_dir, state::Store& store,
                    const actions::Trigger& trigger, exec::ProcessRunner& runner,
                    std::shared_ptr<remote::Connections> connections = nullptr);

} // namespace rollback::orchestrator
