// SPDX-License-Identifier: MIT
#pragma once

// The process's own command line (main's argv), kept so that a secret given on it can be wiped
// from it: /proc/PID/cmdline (what `ps` shows) is read from that memory and is world-readable.
// (The output drainer that may outlive the engine is no fork: it executes with a command line of
// its own, exec/drainer.hpp.)

#include <string_view>

namespace rollback::util {

/// Remembers main's argv (called once, first thing in main). Without it, hide_in_command_line
/// does nothing.
void remember_command_line(int argc, char** argv);

/// Overwrites every occurrence of `secret` (3 characters or more) in the remembered argv memory
/// with "***", the rest of that argument moved up and its end filled with NUL bytes: from then on
/// /proc/PID/cmdline and `ps` show `--var token=***`. The engine keeps its own copy of its
/// arguments (cli's Args), which is untouched. Returns the number of occurrences wiped.
/// Thread-safe.
int hide_in_command_line(std::string_view secret);

/// Forgets the remembered argv (tests only: a test's fake argv goes out of scope).
void forget_command_line();

} // namespace rollback::util
