// SPDX-License-Identifier: MIT
#include "exec/job_control.hpp"

#include "util/log.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <pthread.h>
#include <unistd.h>

namespace rollback::exec {
namespace {

// The handler may only touch lock-free atomics and call async-signal-safe functions.
constexpr size_t k_slots = 256;
std::array<std::atomic<int>, k_slots> g_groups{}; // 0 = free
static_assert(std::atomic<int>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

// held_time's pair (total, began), written by the handler only, under a sequence counter that
// is odd while it changes: a reader never sees a stop that ended counted twice or not at all.
std::atomic<std::uint64_t> g_seq{0};
std::atomic<std::int64_t> g_held_ns{0};    // stops that ended
std::atomic<std::int64_t> g_stop_began{0}; // CLOCK_MONOTONIC ns of a stop in progress, 0 = none

std::int64_t monotonic_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts); // std::chrono::steady_clock's clock on Linux
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

extern "C" void on_stop_request(int) {
    const int saved_errno = errno;
    g_seq.fetch_add(1);
    g_stop_began.store(monotonic_ns());
    g_seq.fetch_add(1);
    // SIGSTOP, not SIGTSTP: a program may catch or ignore SIGTSTP, and the kernel drops it for
    // a group that is orphaned (what a step's daemon is once its parent exited).
    std::array<int, k_slots> stopped{};
    size_t n = 0;
    for (auto& slot : g_groups) {
        const int pgid = slot.load();
        if (pgid > 0 && ::kill(-pgid, SIGSTOP) == 0) {
            stopped[n++] = pgid;
        }
    }
    // Stop as the terminal asked: the default action of SIGTSTP, sent to this thread (raise), so
    // that the whole process stops before raise returns. Dropped by the kernel when the engine's
    // own process group is orphaned (nobody could continue it): then nothing stops.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    struct sigaction mine {};
    ::sigaction(SIGTSTP, &dfl, &mine);
    sigset_t tstp;
    sigemptyset(&tstp);
    sigaddset(&tstp, SIGTSTP);
    ::pthread_sigmask(SIG_UNBLOCK, &tstp, nullptr);
    ::raise(SIGTSTP);
    // Continued (SIGCONT): the handler again, then the groups it stopped.
    ::pthread_sigmask(SIG_BLOCK, &tstp, nullptr);
    ::sigaction(SIGTSTP, &mine, nullptr);
    g_seq.fetch_add(1);
    g_held_ns.fetch_add(monotonic_ns() - g_stop_began.load());
    g_stop_began.store(0);
    g_seq.fetch_add(1);
    for (size_t i = 0; i < n; ++i) {
        ::kill(-stopped[i], SIGCONT);
    }
    errno = saved_errno;
}

} // namespace

void install_stop_handler() {
    struct sigaction old {};
    if (::sigaction(SIGTSTP, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) {
        return;
    }
    struct sigaction sa {};
    sa.sa_handler = on_stop_request;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGTSTP, &sa, nullptr);
}

int hold_group(int pgid) {
    for (size_t i = 0; i < k_slots; ++i) {
        int expected = 0;
        if (g_groups[i].compare_exchange_strong(expected, pgid)) {
            return static_cast<int>(i);
        }
    }
    log::warn("exec: more than {} process groups at once: Ctrl-Z of the engine does not stop "
              "group {}",
              k_slots, pgid);
    return -1;
}

void release_group(int slot) {
    if (slot >= 0 && static_cast<size_t>(slot) < k_slots) {
        g_groups[static_cast<size_t>(slot)].store(0);
    }
}

std::chrono::nanoseconds held_time() {
    for (;;) {
        const std::uint64_t before = g_seq.load();
        const std::int64_t total = g_held_ns.load();
        const std::int64_t began = g_stop_began.load();
        if ((before & 1U) == 0 && g_seq.load() == before) {
            return std::chrono::nanoseconds(total + (began != 0 ? monotonic_ns() - began : 0));
        }
    }
}

} // namespace rollback::exec
