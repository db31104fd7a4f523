// SPDX-License-Identifier: MIT
#pragma once

// Process groups seen from outside, through /proc: who is still in a step's group — or carries
// its attempt token after leaving the group (setsid, a double fork into a new session) — after
// the engine that started it died, and ending them. Linux only (reads /proc/<pid>/stat, cmdline,
// environ and /proc/sys/kernel/random/boot_id).

#include "util/duration.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::exec {

/// The environment variable that carries a program's attempt token (Command::attempt_token).
/// Every process the program starts inherits it, whatever group or session it moves to.
inline constexpr std::string_view k_attempt_env = "ROLLBACK_STEP_ATTEMPT";

/// The second, independent mark of an attempt: an anonymous file (memfd) named
/// attempt_mark_name(token) that the step's program inherits as an open descriptor (not
/// close-on-exec). Every process it starts inherits the descriptor too, whatever group or session
/// it moves to, and keeps it when it rewrites its process title (perl `$0 = ...`, setproctitle:
/// that overwrites /proc/<pid>/environ, and with it the attempt token). /proc/<pid>/fd/<n> of a
/// holder reads "/memfd:<name> (deleted)".
std::string attempt_mark_name(std::string_view attempt_token);

/// Creates the mark of `attempt_token` (close-on-exec in the engine; ChildSetup::keep_fd clears
/// the flag in the child only), at descriptor 100 or above so it stays clear of the low numbers
/// scripts use; -1 when it cannot be created.
int open_attempt_mark(std::string_view attempt_token);

/// Names a process group across pid reuse: the group id, its leader's start time (field 22 of
/// /proc/<pid>/stat, clock ticks since boot) and the boot it belongs to.
/// `attempt_token`, when set, is the value of k_attempt_env in the leader's environment: it also
/// names the processes that left the group.
struct GroupToken {
    int pgid = 0;
    std::uint64_t leader_start = 0;
    std::string boot_id;
    std::string attempt_token;
};

/// One live process: its pid and command line (arguments joined by spaces; "[comm]" when the
/// command line is empty, e.g. a process that is exiting).
struct ProcessInfo {
    int pid = 0;
    std::string command;
    std::uint64_t start = 0; ///< field 22 of /proc/<pid>/stat: tells a reused pid apart
    bool in_group = true;    ///< false: found by its attempt token outside the group
};

/// This boot's id (/proc/sys/kernel/random/boot_id), "" when unreadable.
std::string boot_id();

/// The token of process `pid`, a group leader (pgid = pid); leader_start 0 when it is gone.
GroupToken token_of(int pid);

/// The live (non-zombie) processes the token names, in pid order: members of token.pgid, and —
/// when token.attempt_token is set — processes outside it whose environment (readable for our
/// own uid) carries k_attempt_env=attempt_token or that hold the attempt's mark
/// (open_attempt_mark) open (in_group false); any kind started no earlier
/// than the leader (a process of the group cannot be older than the group). Empty for a token of
/// another boot or an empty pgid. Never throws.
std::vector<ProcessInfo> group_survivors(const GroupToken& token);

/// group_survivors(token) outside token.pgid (setsid, a new session): empty without an attempt
/// token.
std::vector<ProcessInfo> left_the_group(const GroupToken& token);

/// Sends `sig` to `found` (from group_survivors(token)): once to the group when a member is in
/// it, and to each process outside it through a pidfd opened after checking that its start time
/// is still the one seen (a pid reused since is never signalled).
void signal_survivors(const GroupToken& token, const std::vector<ProcessInfo>& found, int sig);

/// What a journal's record of a group (untrusted input: it may name any group) finds alive.
struct Recorded {
    /// Processes that carry the attempt's proof — k_attempt_env=token.attempt_token in their
    /// environment or the attempt's mark open (open_attempt_mark) — started no earlier than the
    /// recorded leader: the only processes a resume may wait for or signal (in_group says
    /// whether they are in token.pgid).
    std::vector<ProcessInfo> proven;
    /// Live members of token.pgid without that proof (or older than the recorded leader):
    /// never signalled, only shown.
    std::vector<ProcessInfo> unproven;
};

/// recorded_survivors(token): both lists empty for a token of another boot; `proven` empty
/// without an attempt token (a journal written before tokens proves nothing). Never throws.
Recorded recorded_survivors(const GroupToken& token);

/// The wall-clock time at which a process with start time `start` (field 22 of
/// /proc/<pid>/stat, clock ticks since this boot) started, from this boot's start; nullopt
/// when the clocks cannot be read.
std::optional<std::chrono::system_clock::time_point> started_at(std::uint64_t start);

/// The non-zombie members of group `pgid`, whatever their start time.
std::vector<ProcessInfo> live_members(int pgid);

/// How settle_group ended.
enum class Settled {
    exited,     ///< the survivors ended by themselves within the wait
    terminated, ///< they ended after SIGTERM
    killed,     ///< SIGKILL was needed
    remain,     ///< some are still alive (another user's, or stuck in the kernel): do not proceed
};
std::string_view to_string(Settled s);

struct Settlement {
    Settled how = Settled::exited;
    std::vector<ProcessInfo> remaining; ///< when how == remain
    util::Millis waited{0};             ///< from the call to the group's end (or giving up)
};

/// For a resume, from a journal's record: waits up to `wait` for the token's proven survivors
/// (recorded_survivors(token).proven) to end by themselves, then sends TERM to each of them
/// (through a pidfd after its start time was checked again; never to the group, whose other
/// members proved nothing), waits up to `grace`, then KILL, and waits up to 2 s more for the
/// kernel to take them. Each round reads /proc again, so a child forked meanwhile is found by
/// its inherited proof. Polls every 20-100 ms. Call it only when some were proven.
Settlement settle_group(const GroupToken& token, util::Millis wait, util::Millis grace);

} // namespace rollback::exec
