// SPDX-License-Identifier: MIT
#pragma once

// A timer of a program's running time (its timeout, its grace period): the time the engine
// held the program's group stopped with itself (Ctrl-Z, job_control.hpp) is not counted.

#include "exec/job_control.hpp"

#include <boost/asio/steady_timer.hpp>
#include <chrono>

namespace rollback::exec {

/// Calls `fn` once `timer` reaches `at` moved later by the time held_time() grew since `held`
/// (held_time() when armed): when it fires after a stop, it waits again for the rest. Not
/// called when the timer is cancelled.
template <class F>
void wait_running(boost::asio::steady_timer& timer, std::chrono::steady_clock::time_point at,
                  std::chrono::nanoseconds held, F fn) {
    timer.expires_at(at);
    timer.async_wait([&timer, at, held, fn](boost::system::error_code ec) {
        if (ec) {
            return;
        }
        if (const auto now_held = held_time(); now_held > held) {
            wait_running(timer,
                         at + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  now_held - held),
                         now_held, fn);
            return;
        }
        fn();
    });
}

} // namespace rollback::exec
