// SPDX-License-Identifier: MIT
#include "orchestrator/step_runner.hpp"

#include <cstdio>
#include <random>

namespace rollback::orchestrator {

StepRunner::StepRunner(exec::ProcessRunner& inner, std::string attempt, Announce announce)
    : m_inner(inner), m_attempt(std::move(attempt)), m_announce(std::move(announce)) {}

std::string StepRunner::make_token(const std::string& attempt) {
    static thread_local std::mt19937_64 rng{[] {
        std::random_device rd;
        return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    }()};
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng()));
    return attempt + "/" + hex;
}

exec::Outcome StepRunner::run(const exec::Command& cmd) {
    exec::Command announced = cmd;
    announced.attempt_token = make_token(m_attempt);
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
