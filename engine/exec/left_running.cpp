// SPDX-License-Identifier: MIT
#include "exec/launch.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace rollback::exec {
namespace {

using Clock = std::chrono::steady_clock;

/// The drainer's loop: reads fds 0 and 1 (either may be closed) until both are at end of file,
/// dropping what it reads. Only system calls: it runs in a fork of a threaded process.
[[noreturn]] void drain_and_exit() {
    static char buffer[16 * 1024];
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {STDOUT_FILENO, POLLIN, 0}};
    for (auto& p : fds) {
        if (::fcntl(p.fd, F_GETFD) == -1) {
            p.fd = -1;
        }
    }
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            ::_exit(1);
        }
        for (auto& p : fds) {
            if (p.fd >= 0 && p.revents != 0) {
                ssize_t n = ::read(p.fd, buffer, sizeof buffer);
                if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                    ::close(p.fd);
                    p.fd = -1;
                }
            }
        }
    }
    ::_exit(0);
}

} // namespace

std::vector<ProcessInfo> settled(const std::function<std::vector<ProcessInfo>()>& list) {
    const auto start = Clock::now();
    auto same = [](const std::vector<ProcessInfo>& a, const std::vector<ProcessInfo>& b) {
        return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                          [](const ProcessInfo& x, const ProcessInfo& y) {
                              return x.pid == y.pid && x.command == y.command;
                          });
    };
    std::vector<ProcessInfo> seen = list();
    while (Clock::now() - start < std::chrono::milliseconds(200)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::vector<ProcessInfo> now = list();
        const bool stable = same(seen, now);
        seen = std::move(now);
        if (stable && Clock::now() - start >= std::chrono::milliseconds(30)) {
            break;
        }
    }
    return seen;
}

bool hand_off_output(int out_fd, int err_fd) {
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    const pid_t child = ::fork();
    if (child == 0) {
        // The first child only forks the drainer and ends, so init adopts it: the engine never
        // waits for it, and it outlives the engine.
        if (::fork() != 0) {
            ::_exit(0);
        }
        ::setsid();
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; ++sig) {
            if (sig != SIGKILL && sig != SIGSTOP && sig != SIGPIPE) {
                ::sigaction(sig, &dfl, nullptr);
            }
        }
        // Only the pipes, as fds 0 and 1: every other descriptor of the engine (the state lock,
        // the journal) must not live on in the drainer.
        int in = out_fd >= 0 ? ::fcntl(out_fd, F_DUPFD, 3) : -1;
        int in2 = err_fd >= 0 ? ::fcntl(err_fd, F_DUPFD, 3) : -1;
        ::close(STDIN_FILENO);
        ::close(STDOUT_FILENO);
        if (in >= 0) {
            ::dup2(in, STDIN_FILENO);
        }
        if (in2 >= 0) {
            ::dup2(in2, STDOUT_FILENO);
        }
        long closed = -1;
#ifdef SYS_close_range
        closed = ::syscall(SYS_close_range, 2U, ~0U, 0U);
#endif
        if (closed != 0) {
            for (int fd = 2; fd < 65536; ++fd) {
                ::close(fd);
            }
        }
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        drain_and_exit();
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (child < 0) {
        return false;
    }
    int status = 0;
    while (::waitpid(child, &status, 0) == -1 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

} // namespace rollback::exec
