// SPDX-License-Identifier: MIT
#pragma once

// Internal to exec/: the checks and data RealProcessRunner prepares before starting a child, and
// the process-group liveness test it uses afterwards. No Boost here.

#include "exec/runner.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace rollback::exec {

/// The absolute path of cmd.argv[0] (PATH lookup; a relative path with a '/' is relative to
/// cmd.cwd), or an empty path with `error` set to "cannot execute 'x': <why>".
std::filesystem::path resolve_program(const Command& cmd, std::string& error);

/// "" when `cwd` is empty or a searchable directory, else "cannot change directory to ...".
std::string check_cwd(const std::string& cwd);

/// The inherited environment with `overrides` laid over it, as execve wants it.
struct Environment {
    explicit Environment(const std::map<std::string, std::string>& overrides);
    /// Null when there are no overrides (the child inherits ours as is).
    const char* const* envp() const { return pointers.empty() ? nullptr : pointers.data(); }

    std::vector<std::string> storage;
    std::vector<const char*> pointers;
};

/// Fills o.ending, exit_code, signal and error from how the reaped program ended: its waitpid
/// `status`, or `wait_error` (waitpid failed), or `exec_errno` (the program never started: the
/// errno of its execve or setup). `program` names it in the error.
void decode_ending(Outcome& o, int status, const std::string& wait_error, int exec_errno,
                   const std::string& program);

/// True when child `pid` has exited and is not reaped yet (a zombie): looked at without reaping
/// it (waitid WNOWAIT), so that its wait handler still collects the status.
bool exited_unreaped(int pid);

/// True while process group `pgid` has a member that is not a zombie (scans /proc only when
/// kill(-pgid, 0) says the group exists). A group we may not signal (EPERM) counts as live.
bool group_has_live_member(int pgid);

/// What `list` returns once it stopped changing: a child forked just before the main process
/// exited is still a copy of its parent (`sh -c "daemon &"` shows as the sh) until it execs.
/// Reads again every 10 ms until two reads agree after at least 30 ms, for at most 200 ms.
std::vector<ProcessInfo> settled(const std::function<std::vector<ProcessInfo>()>& list);

} // namespace rollback::exec
