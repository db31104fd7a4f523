// SPDX-License-Identifier: MIT
#include "orchestrator/step_runner.hpp"

#include <cstdio>
#include <random>

namespace rollback::orchestrator {

StepRunner::StepRunner(exec::ProcessRunner& inner, std::string attempt, Announce announce,
                       Exited exited)
    : m_inner(inner), m_attempt(std::move(attempt)), m_announce(std::move(announce)),
      m_exited(std::move(exited)) {}

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
    exec::GroupToken started; // this child's group, for its exit record
    announced.on_started = [this, &cmd, &started](const exec::GroupToken& group) {
        if (cmd.on_started) {
            cmd.on_started(group);
        }
        started = group;
        // One journal writer: an action that starts children from several threads must not
        // interleave its announcements.
        std::lock_guard lock(m_mutex);
        m_announce(cmd, group);
    };
    announced.on_exited = [this, &cmd, &started](const exec::Outcome& exited) {
        if (cmd.on_exited) {
            cmd.on_exited(exited);
        }
        if (m_exited) {
            std::lock_guard lock(m_mutex);
            m_exited(cmd, started, exited);
        }
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
