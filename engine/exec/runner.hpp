// SPDX-License-Identifier: MIT
#pragma once

// Running child processes: the edge to the operating system. The orchestrator and the actions
// use the ProcessRunner interface; tests use a fake (tests/support/fake_runner.hpp).

#include "util/duration.hpp"

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::exec {

struct Command {
    std::vector<std::string> argv;          ///< argv[0] looked up in PATH unless it has a '/'
    std::string cwd;                        ///< empty = inherit
    std::map<std::string, std::string> env; ///< added to (overriding) the inherited environment
    util::Millis timeout{0};                ///< 0 = none
    util::Millis grace{std::chrono::seconds(5)}; ///< between TERM and KILL on timeout/interrupt
    std::string stdin_data;                 ///< empty = stdin from /dev/null
    size_t capture_limit = 64 * 1024;       ///< bytes kept per stream (the tail)
    /// Called with each chunk of output as it arrives (for `-v` streaming); may be empty.
    std::function<void(std::string_view chunk, bool is_stderr)> on_output;
};

enum class Ending {
    exited,            ///< exit_code is valid
    signaled,          ///< killed by a signal not sent by us; signal is valid
    timed_out,         ///< we sent TERM (then KILL) to the group after `timeout`
    interrupted,       ///< we forwarded SIGINT/SIGTERM to the group (see interrupt_requested)
    failed_to_start,   ///< program missing / not executable / cwd missing; error says which
};
std::string_view to_string(Ending e);

struct Outcome {
    Ending ending = Ending::failed_to_start;
    int exit_code = -1;
    int signal = 0;
    std::string stdout_tail;
    std::string stderr_tail;
    size_t stdout_bytes = 0; ///< total produced, before truncation
    size_t stderr_bytes = 0;
    util::Millis duration{0};
    std::string error; ///< for failed_to_start: "cannot execute 'foo': No such file or directory"
    bool ok() const { return ending == Ending::exited && exit_code == 0; }
};

class ProcessRunner {
  public:
    virtual ~ProcessRunner() = default;
    /// Runs `cmd` to completion in its own process group, stdin from /dev/null (or stdin_data).
    /// On timeout: TERM to the whole group, `grace`, KILL to the group, reap — no process of the
    /// group is left behind. Never throws for the child's failures: they are in the Outcome.
    virtual Outcome run(const Command& cmd) = 0;
};

/// The real runner (Boost.Process v2 + Asio).
class RealProcessRunner final : public ProcessRunner {
  public:
    Outcome run(const Command& cmd) override;
};

// --- interruption --------------------------------------------------------------------------

/// Installs SIGINT/SIGTERM/SIGHUP handlers that record the signal (async-signal-safe). A running
/// child's group receives the same signal, then KILL after its grace period; run() returns
/// Ending::interrupted. Idempotent.
void install_interrupt_handlers();

/// The first interrupting signal received (SIGINT, SIGTERM, SIGHUP), or 0.
int interrupt_requested();

/// Forgets a received interrupt (tests; and `finally` steps, which run after an interrupt).
void clear_interrupt();

/// Sleeps up to `d`, returning early (false) when an interrupt arrives.
bool sleep_unless_interrupted(util::Millis d);

} // namespace rollback::exec
