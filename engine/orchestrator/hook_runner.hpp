// SPDX-License-Identifier: MIT
#pragma once

// The process runner of a hook (a run's lifecycle hooks; the monitor's [decision] hooks): the
// child is started held — forked, its program not yet executed — and released only once `gate`
// (the run lock's fence or the monitor's leadership, checked live) returned, so a holder deposed
// at any moment before the release never runs the hook's program (break-it 38/04). A step's
// children are held the same way until their step_process record commits under the fence
// (StepRunner).

#include "exec/runner.hpp"

#include <functional>

namespace rollback::orchestrator {

class HookRunner final : public exec::ProcessRunner {
  public:
    /// Called after the child's fork, before its program runs; it throws to keep the program
    /// from running (the child is then killed unstarted and run() rethrows).
    using Gate = std::function<void()>;
    HookRunner(exec::ProcessRunner& inner, Gate gate);

    /// Runs `cmd` through the inner runner held on `gate` (a caller's own on_started is called
    /// first). What the hook leaves in its group when it exits is ended (TERM, cmd.grace,
    /// KILL), as for any program no record names: Outcome::left_running stays empty.
    exec::Outcome run(const exec::Command& cmd) override;

  private:
    exec::ProcessRunner& m_inner;
    Gate m_gate;
};

} // namespace rollback::orchestrator
