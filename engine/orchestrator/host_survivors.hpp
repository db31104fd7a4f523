// SPDX-License-Identifier: MIT
#pragma once

// Survivors on hosts: after the engine died mid-step, what the step's interrupted attempt still
// runs on a host where it did not finish. Every program of a step on hosts carries an attempt
// token in its environment that names the host (host_attempt); a fixed POSIX sh program, run on
// the host over its master connection and the remote wrapper like any command, lists the
// processes that carry a token of that step there, and the members of their process groups and
// sessions (scan_script). Only the token's carriers are ever signalled.

#include "remote/ssh.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::orchestrator {

/// One live process on a host, as the scan reports it.
struct HostProcess {
    int pid = 0;
    std::uint64_t start = 0; ///< field 22 of /proc/<pid>/stat on the host
    bool proof = false;      ///< carries the token; else: in a carrier's group or session
    std::string command;     ///< its arguments joined by spaces (200 bytes at most), or [comm]
};

struct HostScan {
    std::string error; ///< "" when the host was looked at; else why it could not be
    std::vector<HostProcess> processes;
};

enum class HostScanMode {
    list, ///< only look
    term, ///< SIGTERM to each carrier (its token checked again just before), then nothing listed
    kill, ///< the same with SIGKILL
};

/// Looks at `host` for the processes `pattern` (host_token_pattern) names.
using HostScanner = std::function<HostScan(const remote::Host& host, HostScanMode mode,
                                           const std::string& pattern)>;

/// The attempt part of the tokens of `step`'s attempt `attempt` on `host` in run `run_id`:
/// "<run_id>/<step>/<attempt>@<host>" (orchestrator::StepRunner::make_token adds
/// "/<16 hex digits>").
std::string host_attempt(const std::string& run_id, const std::string& step, int attempt,
                         const std::string& host);

/// The extended regular expression one environment entry of a carrier matches: every attempt
/// of `step` on `host` in run `run_id`,
/// `^ROLLBACK_STEP_ATTEMPT=<run_id>/<step>/[0-9]+@<host>/[0-9a-f]{16}$` ('.' as [.]). "" when
/// one of the names holds a character outside [A-Za-z0-9_.-] (the names are validated; a
/// journal is not).
std::string host_token_pattern(const std::string& run_id, const std::string& step,
                               const std::string& host);

/// The scan program (argv: MODE PATTERN; MODE list, TERM or KILL). It needs /proc and a grep
/// that takes -z and -E (GNU, BusyBox); prints "<pid> <start> <0|1> <command>" per process.
std::string_view scan_script();

/// The lines of the scan's output; a line that is not one is skipped.
std::vector<HostProcess> parse_host_scan(std::string_view out);

/// The real scanner: scan_script through `connections` (the host's master connection, the
/// remote wrapper: nothing of the pattern is on a command line), 60 s at most.
HostScanner ssh_host_scanner(std::shared_ptr<remote::Connections> connections);

} // namespace rollback::orchestrator
