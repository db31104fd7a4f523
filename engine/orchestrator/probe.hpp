// SPDX-License-Identifier: MIT
#pragma once

#include "orchestrator/execution.hpp"

namespace rollback::orchestrator {

enum class ProbeVerdict { done, not_done, error };

/// Runs the step's `probe` ("is this already done?"): exit 0 = done, 1 = not done, anything else
/// (other codes, timeout, cannot start) = error. Records a step_probe record, naming `host` when
/// the probe ran on one (a step on hosts: `runner` is that host's ssh runner, `step` bound to
/// it). `why`, when given, receives what an error was: "exit 3", "timed out", "could not run: ...".
ProbeVerdict run_probe(Execution& ex, const playbook::Step& step, exec::ProcessRunner& runner,
                       const std::string& host = {}, std::string* why = nullptr);

} // namespace rollback::orchestrator
