// SPDX-License-Identifier: MIT
#pragma once

// The process runner a step's action gets (internal to orchestrator/): every child the action
// starts carries an attempt token in its environment (exec::k_attempt_env) and is announced
// before its program runs, and what children leave running is collected for the step's record.

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
    /// `exited` is called when a child's program ended by itself, as soon as it was reaped and
    /// before what it left running is looked at (exec::Command::on_exited): it journals
    /// step_process_exited. May be empty. If it throws, run() rethrows.
    using Exited =
        std::function<void(const exec::Command&, const exec::GroupToken&, const exec::Outcome&)>;
    /// `attempt` names the attempt in each token: "<run_id>/<step>/<attempt>".
    StepRunner(exec::ProcessRunner& inner, std::string attempt, Announce announce,
               Exited exited = nullptr);

    /// Runs `cmd` through the inner runner with on_started and on_exited set (a caller's own
    /// are called first) and Command::attempt_token = "<attempt>/<16 random hex digits>" (one per
    /// program: a timeout of one program ends only what that program started).
    exec::Outcome run(const exec::Command& cmd) override;

    /// A fresh token for `attempt`: "<attempt>/<16 random hex digits>".
    static std::string make_token(const std::string& attempt);

    /// Everything children of this step left running so far, in start order.
    std::vector<exec::ProcessInfo> left_running() const;

  private:
    exec::ProcessRunner& m_inner;
    std::string m_attempt;
    Announce m_announce;
    Exited m_exited;
    mutable std::mutex m_mutex;
    std::vector<exec::ProcessInfo> m_left;
};

} // namespace rollback::orchestrator
