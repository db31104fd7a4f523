// SPDX-License-Identifier: MIT
#pragma once

// A timer of a program's running time (its timeout, its grace period) as the engine watched it:
// the time the engine held the program's group stopped with itself (Ctrl-Z, job_control.hpp) is
// not counted, nor the time the engine itself did not run — stopped by SIGSTOP (which no handler
// sees), a frozen VM, a machine too loaded to schedule it, a callback that blocked its thread.
// A deadline is only a timeout for a program the engine watched that long: one that ended (or was
// ending) while the engine was away is reaped as it ended, not taken for timed out because the
// engine woke past its deadline (break-it 30/07, issue 11).

#include "exec/job_control.hpp"

#include <boost/asio/steady_timer.hpp>
#include <chrono>

namespace rollback::exec {

/// The time one session's watch was away: job control's held time plus each gap between two
/// looks (note()) longer than k_away, less the held time inside it. A session looks every 20-80
/// ms while its program runs (its interrupt and group polls), so a longer gap is time the engine
/// did not run. Single-threaded: the session's io_context thread only.
class Unwatched {
  public:
    static constexpr std::chrono::milliseconds k_away{100};

    /// Starts the watch: nothing before now counts.
    void start() {
        m_seen = std::chrono::steady_clock::now();
        m_seen_held = held_time();
    }

    /// Looks now: a gap since the last look beyond k_away is added (only its excess, so a
    /// loaded machine's late ticks add nothing). Returns the total time away so far.
    std::chrono::nanoseconds note() {
        const auto now = std::chrono::steady_clock::now();
        const auto held = held_time();
        const auto gap = (now - m_seen) - (held - m_seen_held);
        if (gap > k_away) {
            m_away += gap - k_away;
        }
        m_seen = now;
        m_seen_held = held;
        return held + m_away;
    }

  private:
    std::chrono::steady_clock::time_point m_seen = std::chrono::steady_clock::now();
    std::chrono::nanoseconds m_seen_held = held_time();
    std::chrono::nanoseconds m_away{0};
};

/// Calls `fn` once `timer` reaches `at` moved later by the time `watch` was away since it was
/// armed: when it fires after a stop or a stall, it waits again for the rest. Not called when
/// the timer is cancelled. `watch` must outlive the timer's handlers.
template <class F>
void wait_running(boost::asio::steady_timer& timer, std::chrono::steady_clock::time_point at,
                  Unwatched& watch, F fn) {
    const std::chrono::nanoseconds away = watch.note();
    timer.expires_at(at);
    timer.async_wait([&timer, at, &watch, away, fn](boost::system::error_code ec) {
        if (ec) {
            return;
        }
        if (const auto now_away = watch.note(); now_away > away) {
            wait_running(timer,
                         at + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  now_away - away),
                         watch, fn);
            return;
        }
        fn();
    });
}

} // namespace rollback::exec
