// SPDX-License-Identifier: MIT
#pragma once

// Job control (Ctrl-Z) of the engine and the programs it runs. Each program runs in a process
// group of its own, which is not the terminal's foreground group: a SIGTSTP stops the engine
// alone, and its steps' programs would go on unwatched. The engine's SIGTSTP handler stops those
// groups too (SIGSTOP), then stops the engine as the terminal asked (SIGTSTP, default action);
// when the engine is continued (SIGCONT, `fg`) it continues the groups it stopped. The time they
// were held does not count against their timeouts (held_time). docs/actions.md "Signals".

#include <chrono>

namespace rollback::exec {

/// Installs the SIGTSTP handler, unless SIGTSTP is ignored (as the engine inherited it: then
/// Ctrl-Z stops nothing, as before). Called by install_interrupt_handlers; idempotent.
void install_stop_handler();

/// Makes the process group `pgid` one that a SIGTSTP of the engine stops and its SIGCONT
/// continues, until release_group(the returned slot). Returns -1 when every slot is taken (the
/// group is then not held; logged).
int hold_group(int pgid);
void release_group(int slot);

/// How long the engine has been held stopped by SIGTSTP with its groups, in total since it
/// started, a stop in progress included (the steady clock's time, as the runner's timers).
std::chrono::nanoseconds held_time();

} // namespace rollback::exec
