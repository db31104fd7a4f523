// SPDX-License-Identifier: MIT
#pragma once

// A scripted exec::ProcessRunner for tests of the modules that run processes (actions,
// orchestrator, sources): no process is started; every Command is recorded.

#include "exec/runner.hpp"

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace rollback::test {

/// Answers in this order: `responder` if set, else `outcomes[argv[0]]`, else `default_outcome`
/// (exit 0, empty output). Output in the answer is also passed to Command::on_output.
/// Safe to call from several threads (steps on hosts run in parallel): recording a call and
/// choosing its answer are serialized; a `responder` is called outside that lock, so one that
/// keeps state of its own must lock it. Read `calls` once the runs are over.
class FakeProcessRunner : public exec::ProcessRunner {
  public:
    exec::Outcome run(const exec::Command& cmd) override;

    /// An Outcome that exited with `code` and printed `out` / `err`.
    static exec::Outcome exited(int code, std::string out = {}, std::string err = {});
    /// An Outcome of the given kind (timed_out, interrupted, failed_to_start, ...).
    static exec::Outcome ended(exec::Ending ending, std::string error = {});

    std::vector<exec::Command> calls;              ///< every Command received, in order
    std::map<std::string, exec::Outcome> outcomes; ///< by argv[0] exactly as given
    std::function<exec::Outcome(const exec::Command&)> responder;
    exec::Outcome default_outcome = exited(0);

    /// The argv[0] of every call, in order (for short assertions).
    std::vector<std::string> programs() const;

  private:
    std::mutex m_mutex; ///< guards calls, outcomes and default_outcome while runs are going
};

} // namespace rollback::test
