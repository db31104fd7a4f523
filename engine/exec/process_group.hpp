// SPDX-License-Identifier: MIT
#pragma once

// Process groups seen from outside, through /proc: who is still in a step's group after the
// engine that started it died, and ending them. Linux only (reads /proc/<pid>/stat, cmdline and
// /proc/sys/kernel/random/boot_id).

#include "util/duration.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace rollback::exec {

/// Names a process group across pid reuse: the group id, its leader's start time (field 22 of
/// /proc/<pid>/stat, clock ticks since boot) and the boot it belongs to.
struct GroupToken {
    int pgid = 0;
    std::uint64_t leader_start = 0;
    std::string boot_id;
};

/// One live process: its pid and command line (arguments joined by spaces; "[comm]" when the
/// command line is empty, e.g. a process that is exiting).
struct ProcessInfo {
    int pid = 0;
    std::string command;
};

/// This boot's id (/proc/sys/kernel/random/boot_id), "" when unreadable.
std::string boot_id();

/// The token of process `pid`, a group leader (pgid = pid); leader_start 0 when it is gone.
GroupToken token_of(int pid);

/// The non-zombie members of the group `token` names, in pid order: processes whose pgid equals
/// token.pgid and whose own start time is not before the leader's (a member cannot be older than
/// the group it joined). Empty for a token of another boot or an empty pgid. Never throws.
std::vector<ProcessInfo> group_survivors(const GroupToken& token);

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

/// Waits up to `wait` for the group to end by itself, then sends TERM to the group, waits up to
/// `grace`, then KILL, and waits up to 2 s more for the kernel to take them. Polls /proc every
/// 20-100 ms. Call it only when group_survivors(token) found someone.
Settlement settle_group(const GroupToken& token, util::Millis wait, util::Millis grace);

} // namespace rollback::exec
