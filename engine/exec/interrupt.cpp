// SPDX-License-Identifier: MIT
#include "exec/runner.hpp"

#include "exec/job_control.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <mutex>
#include <poll.h>
#include <unistd.h>

namespace rollback::exec {
namespace {

// The handler may only touch lock-free atomics and call async-signal-safe functions (write).
std::atomic<int> g_signal{0};
std::atomic<unsigned> g_received{0}; // every interrupting signal, never reset
std::atomic<int> g_pipe_read{-1};
std::atomic<int> g_pipe_write{-1};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_interrupt(int sig) {
    int saved_errno = errno;
    int expected = 0;
    g_received.fetch_add(1, std::memory_order_relaxed);
    g_signal.compare_exchange_strong(expected, sig); // the first signal wins
    int fd = g_pipe_write.load();
    if (fd >= 0) {
        char byte = 1;
        // A full pipe (many signals) is fine: it is already readable.
        [[maybe_unused]] auto n = ::write(fd, &byte, 1);
    }
    errno = saved_errno;
}

void drain_pipe() {
    int fd = g_pipe_read.load();
    if (fd < 0) {
        return;
    }
    char buf[64];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
}

} // namespace

void install_interrupt_handlers() {
    static std::once_flag once;
    std::call_once(once, [] {
        // The self-pipe lets sleep_unless_interrupted wake at once; it stays readable until
        // clear_interrupt drains it, so any number of concurrent sleepers all see it.
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
            g_pipe_read.store(fds[0]);
            g_pipe_write.store(fds[1]);
        }
    });
    // Re-installed on every call, not once: someone else (a test framework) may have replaced
    // and restored the handlers in between.
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        ::sigaction(sig, &sa, nullptr);
    }
    install_stop_handler(); // Ctrl-Z stops the steps' programs with the engine
}

int interrupt_requested() {
    return g_signal.load(std::memory_order_relaxed);
}

std::string interrupt_name(int sig) {
    switch (sig) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    default:
        return "signal " + std::to_string(sig);
    }
}

unsigned interrupts_received() {
    return g_received.load(std::memory_order_relaxed);
}

void clear_interrupt() {
    // Drain first: a signal arriving in between then leaves a byte but no flag, which
    // sleep_unless_interrupted treats as a spurious wake-up.
    drain_pipe();
    g_signal.store(0);
}

bool sleep_unless_interrupted(util::Millis d) {
    using Clock = std::chrono::steady_clock;
    const auto end = Clock::now() + d;
    while (interrupt_requested() == 0) {
        auto left = std::chrono::duration_cast<util::Millis>(end - Clock::now());
        if (left <= util::Millis(0)) {
            return true;
        }
        // poll ignores a negative fd, so without installed handlers this is a plain sleep.
        struct pollfd pfd {
            g_pipe_read.load(), POLLIN, 0
        };
        int ms = static_cast<int>(std::min<util::Millis::rep>(left.count() + 1, 60'000));
        int r = ::poll(&pfd, 1, ms);
        if (r > 0 && interrupt_requested() == 0) {
            drain_pipe(); // a byte left over from a cleared interrupt
        }
    }
    return false;
}

} // namespace rollback::exec
