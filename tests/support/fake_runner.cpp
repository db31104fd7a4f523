// SPDX-License-Identifier: MIT
#include "support/fake_runner.hpp"

#include <algorithm>

namespace rollback::test {

exec::Outcome FakeProcessRunner::run(const exec::Command& cmd) {
    // A step on hosts calls this from one thread per host: `calls` grew from several threads at
    // once (a heap corruption seen once in the full unit suite).
    exec::Outcome outcome;
    bool respond = false;
    {
        std::lock_guard lock(m_mutex);
        calls.push_back(cmd);
        if (responder) {
            respond = true; // called below, outside the lock (not copied: its state is its own)
        } else if (auto it = cmd.argv.empty() ? outcomes.end() : outcomes.find(cmd.argv[0]);
                   it != outcomes.end()) {
            outcome = it->second;
        } else {
            outcome = default_outcome;
        }
    }
    if (respond) {
        outcome = responder(cmd);
    }
    // Keep the invariants the real runner guarantees, so callers can rely on them in tests.
    outcome.stdout_bytes = std::max(outcome.stdout_bytes, outcome.stdout_tail.size());
    outcome.stderr_bytes = std::max(outcome.stderr_bytes, outcome.stderr_tail.size());
    if (cmd.on_output) {
        if (!outcome.stdout_tail.empty()) {
            cmd.on_output(outcome.stdout_tail, false);
        }
        if (!outcome.stderr_tail.empty()) {
            cmd.on_output(outcome.stderr_tail, true);
        }
    }
    return outcome;
}

exec::Outcome FakeProcessRunner::exited(int code, std::string out, std::string err) {
    exec::Outcome o;
    o.ending = exec::Ending::exited;
    o.exit_code = code;
    o.stdout_bytes = out.size();
    o.stderr_bytes = err.size();
    o.stdout_tail = std::move(out);
    o.stderr_tail = std::move(err);
    return o;
}

exec::Outcome FakeProcessRunner::ended(exec::Ending ending, std::string error) {
    exec::Outcome o;
    o.ending = ending;
    o.error = std::move(error);
    return o;
}

std::vector<std::string> FakeProcessRunner::programs() const {
    std::vector<std::string> names;
    for (const auto& c : calls) {
        names.push_back(c.argv.empty() ? std::string() : c.argv[0]);
    }
    return names;
}

} // namespace rollback::test
