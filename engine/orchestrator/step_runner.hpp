// SPDX-License-Identifier: MIT
#pragma once

// The process runner a step's action gets (internal to orchestrator/): every child the action
// starts is announced before its program runs, and what children leave running is collected for
// the step's record.

#include "exec/runner.hpp"

#include <functional>
#include <mutex>
#include <vector>

namespace rollback::orchestrator {

class StepRunner final : public exec::ProcessRunner {
  public:
    /// `announce` is called with each child's command and group before the program starts
    /// (it journals step_process durably); if it throws, the child never runs and run() rethrows.
    using Announce = std::function<void(const exec::Command&, const exec::GroupToken&)>;
    StepRunner(exec::ProcessRunner& inner, Announce announce);

    /// Runs `cmd` through the inner runner with on_started set (a caller's own on_started is
    /// called first).
    exec::Outcome run(const exec::Command& cmd) override;

    /// Everything children of this step left running so far, in start order.
    std::vector<exec::ProcessInfo> left_running() const;

  private:
    exec::ProcessRunner& m_inner;
    Announce m_announce;
    mutable std::mutex m_mutex;
    std::vector<exec::ProcessInfo> m_left;
};

} // namespace rollback::orchestrator
