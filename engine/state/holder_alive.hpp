// SPDX-License-Identifier: MIT
#pragma once

// Whether the holder lock.json names is still that process (LocalStore's run lock,
// local_lock.cpp): a pid alone is not enough — the kernel gives a dead holder's pid to later
// processes, and the `lock` file's flock says nothing once the file was removed.

#include "state/store.hpp"

#include <cstdint>
#include <optional>

namespace rollback::state::local {

/// The start time of process `pid` of this host (clock ticks after boot, field 22 of
/// /proc/PID/stat); nullopt when there is no such process or it exited (a zombie).
std::optional<std::uint64_t> process_start_ticks(int pid);

/// True when `h` names a process of this host that is still the holder: alive (not a zombie)
/// and started as lock.json says — `proc_start` (lock.json's field of that name) equal when
/// recorded, else the process not started after the holder's `started` (then the pid was given
/// to a later process). Never true for a holder of another host.
bool holder_alive_here(const Holder& h, std::uint64_t proc_start);

} // namespace rollback::state::local
