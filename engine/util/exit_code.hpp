// SPDX-License-Identifier: MIT
#pragma once

namespace rollback::util {

/// Every exit code the `rollback` binary uses. Values are a public contract (README, docs/cli.md):
/// never renumber.
enum class ExitCode : int {
    ok = 0,                   ///< success / nothing to do
    run_failed = 1,           ///< a run failed (a step failed with on_failure = "abort")
    invalid = 2,              ///< usage, config or playbook invalid; nothing was executed
    verification_failed = 3,  ///< the rollback ran but verification failed afterwards
    locked = 4,               ///< another run holds the lock of this state directory
    rollback_recommended = 5, ///< `check`: a rollback is recommended
    needs_attention = 6,      ///< a resumed run stopped and needs a person's decision
    state_unwritable = 7,     ///< the state directory cannot be written (full, read-only, no
                              ///< permission): the run stopped cleanly where it could
    interrupted = 130,        ///< SIGINT / SIGTERM
};

constexpr int to_int(ExitCode c) {
    return static_cast<int>(c);
}

} // namespace rollback::util
