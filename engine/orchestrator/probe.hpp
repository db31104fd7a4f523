// SPDX-License-Identifier: MIT
#pragma once

#include "orchestrator/execution.hpp"

namespace rollback::orchestrator {

enum class ProbeVerdict { done, not_done, error };

/// Runs the step's `probe` ("is this already done?"): exit 0 = done, 1 = not done, anything else
/// (other codes, timeout, cannot start) = error. Records a step_probe record.
ProbeVerdict run_probe(Execution& ex, const playbook::Step& step, exec::ProcessRunner& runner);

} // namespace rollback::orchestrator
