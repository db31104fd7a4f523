// SPDX-License-Identifier: MIT
#pragma once

// Running child processes: the edge to the operating system. The orchestrator and the actions
// use the ProcessRunner interface; tests use a fake (tests/support/fake_runner.hpp).

#include "exec/process_group.hpp"
#include "util/duration.hpp"

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::exec {

struct Outcome;

struct Command {
    /// argv[0] looked up in PATH unless it has a '/'; a relative path with a '/' is relative to
    /// `cwd` when set (like `cd cwd && ./prog`). The child gets argv[0] as written.
    std::vector<std::string> argv;
    std::string cwd;                        ///< empty = inherit
    std::map<std::string, std::string> env; ///< added to (overriding) the inherited environment
    util::Millis timeout{0};                ///< 0 = none
    util::Millis grace{std::chrono::seconds(5)}; ///< between TERM and KILL on timeout/interrupt
    std::string stdin_data;                      ///< empty = stdin from /dev/null
    /// With stdin_data: keep the child's stdin open after writing it, until the child exits (its
    /// EOF then tells the child that the engine ended it: the SSH transport's remote wrapper).
    bool keep_stdin_open = false;
    size_t capture_limit = 64 * 1024; ///< bytes kept per stream (the tail)
    /// Called with each chunk of output as it arrives (for `-v` streaming); may be empty.
    std::function<void(std::string_view chunk, bool is_stderr)> on_output;
    /// Called once the child is the leader of its own process group and before it executes the
    /// program: the program starts only after this returns (the journal records the group here).
    /// If it throws, the child is killed unstarted and run() rethrows. May be empty.
    std::function<void(const GroupToken& group)> on_started;
    /// When set, the child's environment carries k_attempt_env=<attempt_token> (and so does
    /// everything it starts), and the GroupToken given to on_started names it: processes that
    /// left the group (setsid) are then found too — listed in Outcome::left_running after a
    /// normal exit, ended with the group on timeout or interrupt, found by a resume.
    std::string attempt_token;
    /// Called once the program ended by itself (not ended by the engine's timeout or interrupt),
    /// right after it was reaped and before the engine looks at what it left running (30-200 ms)
    /// and drains its output (200 ms): with the Outcome as known then (ending, exit_code, signal,
    /// error; no output, no left_running). A journal records here that the program finished, so
    /// an engine killed in that window is not taken for one killed mid-program. If it throws,
    /// run() finishes with the program (its leftovers are left as usual), then rethrows.
    std::function<void(const Outcome& exited)> on_exited;
};

enum class Ending {
    exited,          ///< exit_code is valid
    signaled,        ///< killed by a signal not sent by us; signal is valid
    timed_out,       ///< we sent TERM (then KILL) to the group after `timeout`
    interrupted,     ///< we forwarded SIGINT/SIGTERM to the group (see interrupt_requested)
    failed_to_start, ///< program missing / not executable / cwd missing; error says which
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
    /// With on_started: processes still in the child's group when it exited by itself (a daemon,
    /// `cmd &`) — and, with attempt_token, those carrying it outside the group (in_group false) —
    /// left running as a shell would. Empty after a timeout or an interrupt.
    std::vector<ProcessInfo> left_running;
    bool ok() const { return ending == Ending::exited && exit_code == 0; }
};

class ProcessRunner {
  public:
    virtual ~ProcessRunner() = default;
    /// Runs `cmd` to completion in its own process group, stdin from /dev/null (or stdin_data).
    /// On timeout or interrupt: TERM to the whole group, `grace`, KILL to the group, reap. When
    /// the child exits by itself, what it left in its group is left alone and listed in
    /// Outcome::left_running if on_started named the group, else ended (TERM, grace, KILL). The
    /// child gets SIGKILL if the engine dies (PR_SET_PDEATHSIG); its own children do not (so the
    /// journal names a step's group in on_started: a resume can find them).
    /// Never throws for the child's failures: they are in the Outcome.
    virtual Outcome run(const Command& cmd) = 0;
};

/// The real runner: vfork + execve (like posix_spawn), then Boost.Process v2 + Asio wait for the
/// child and read its pipes. Thread-safe: concurrent run() calls are independent.
/// - Leftovers: when the leader exits by itself but members of its group remain (`cmd &`, a
///   daemon that did not call setsid): with on_started they keep running (left_running), else
///   TERM, then KILL after `grace`. Output after 200 ms past the leader's exit is dropped and the
///   pipes closed (so is output of a descendant that left the group with setsid).
/// - With attempt_token, what left the group (setsid, a double fork into a new session) but
///   carries the token is treated like a member: listed when left running, sent the group's
///   signals on timeout or interrupt (each through a pidfd), waited for before run() returns.
/// - With on_started, the child is started with fork (it waits on a pipe for on_started to
///   return); without, with vfork (cheaper: probes, hooks' preflight, tests).
/// - An interrupt pending when run() is called: nothing is started, Ending::interrupted. A child
///   that ends by itself before an interrupt is noticed keeps its own Ending: callers check
///   interrupt_requested() between steps.
/// - Children start with default signal dispositions and an empty signal mask.
class RealProcessRunner final : public ProcessRunner {
  public:
    Outcome run(const Command& cmd) override;
};

// --- interruption --------------------------------------------------------------------------

/// Installs SIGINT/SIGTERM/SIGHUP handlers that record the signal (async-signal-safe). A running
/// child's group receives the same signal (noticed within ~20 ms), then KILL after its grace
/// period; run() returns Ending::interrupted. Idempotent.
void install_interrupt_handlers();

/// The first interrupting signal received (SIGINT, SIGTERM, SIGHUP), or 0.
int interrupt_requested();

/// "SIGINT", "SIGTERM", "SIGHUP"; "signal N" for another.
std::string interrupt_name(int sig);

/// How many interrupting signals arrived since the start; clear_interrupt does not reset it, so
/// a caller (the monitor) learns that a run it started was interrupted, whose `finally` steps
/// cleared the interrupt.
unsigned interrupts_received();

/// Forgets a received interrupt (tests; and `finally` steps, which run after an interrupt).
void clear_interrupt();

/// Sleeps up to `d`, returning early (false) when an interrupt arrives.
bool sleep_unless_interrupted(util::Millis d);

} // namespace rollback::exec
