// SPDX-License-Identifier: MIT
#include "orchestrator/step_runner.hpp"

namespace rollback::orchestrator {

StepRunner::StepRunner(exec::ProcessRunner& inner, Announce announce)
    : m_inner(inner), m_announce(std::move(announce)) {}

exec::Outcome StepRunner::run(const exec::Command& cmd) {
    exec::Command announced = cmd;
    announced.on_started = [this, &cmd](const exec::GroupToken& group) {
        if (cmd.on_started) {
            cmd.on_started(group);
        }
        // One journal writer: an action that starts children from several threads must not
        // interleave its announcements.
        std::lock_guard lock(m_mutex);
        m_announce(cmd, group);
    };
    exec::Outcome outcome = m_inner.run(announced);
    if (!outcome.left_running.empty()) {
        std::lock_guard lock(m_mutex);
        m_left.insert(m_left.end(), outcome.left_running.begin(), outcome.left_running.end());
    }
    return outcome;
}

std::vector<exec::ProcessInfo> StepRunner::left_running() const {
    std::lock_guard lock(m_mutex);
    return m_left;
}

} // namespace rollback::orchestrator
