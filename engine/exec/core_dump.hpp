// SPDX-License-Identifier: MIT
#pragma once

// The engine holds secrets in memory (.env values, secret variables, DSN passwords, tokens): a
// crash must not write them to a core file, and other processes of the same user must not read
// its memory (/proc/PID/mem, ptrace).

namespace rollback::exec {

/// The environment variable that keeps core dumps possible, for debugging: "1" opts out.
inline constexpr const char* k_allow_core_dump_env = "ROLLBACK_ALLOW_CORE_DUMP";

/// Makes this process non-dumpable (prctl PR_SET_DUMPABLE 0: no core file, /proc/PID/mem and
/// ptrace closed to the user's other processes) and sets its soft RLIMIT_CORE to 0, keeping the
/// limit it had for the programs it starts (restore_core_limit). Does nothing when
/// ROLLBACK_ALLOW_CORE_DUMP=1. Returns true when it applied. Call once, before any secret is read.
bool forbid_core_dumps();

/// In a child between fork and execve (one system call): gives the program the core limit the
/// engine started with, so a service a step starts dumps core as it would without us. The
/// dumpable flag itself is reset by execve.
void restore_core_limit() noexcept;

} // namespace rollback::exec
