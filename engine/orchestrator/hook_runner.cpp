// SPDX-License-Identifier: MIT
#include "orchestrator/hook_runner.hpp"

#include "exec/process_group.hpp"
#include "util/log.hpp"

#include <chrono>
#include <csignal>
#include <thread>

namespace rollback::orchestrator {

HookRunner::HookRunner(exec::ProcessRunner& inner, Gate gate)
    : m_inner(inner), m_gate(std::move(gate)) {}

exec::Outcome HookRunner::run(const exec::Command& cmd) {
    exec::Command held = cmd;
    exec::GroupToken group;
    held.on_started = [this, &cmd, &group](const exec::GroupToken& g) {
        if (cmd.on_started) {
            cmd.on_started(g);
        }
        group = g;
        // After the fork: a pause of the engine anywhere before this check is seen by it, and
        // the program runs only if it passes.
        m_gate();
    };
    exec::Outcome outcome = m_inner.run(held);
    if (outcome.left_running.empty() || group.pgid == 0) {
        return outcome;
    }
    // A gated start keeps what its program left running (a step's record names it); nothing
    // names a hook's: it is ended as the runner ends an unrecorded program's leftovers.
    log::info("hook '{}' (pid {}) left {} process(es) in its group: terminating them",
              cmd.argv.empty() ? std::string() : cmd.argv[0], group.pgid,
              outcome.left_running.size());
    exec::signal_survivors(group, outcome.left_running, SIGTERM);
    const auto until = std::chrono::steady_clock::now() + cmd.grace;
    auto left = exec::group_survivors(group);
    while (!left.empty() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        left = exec::group_survivors(group);
    }
    if (!left.empty()) {
        exec::signal_survivors(group, left, SIGKILL);
    }
    outcome.left_running.clear();
    return outcome;
}

} // namespace rollback::orchestrator
