// SPDX-License-Identifier: MIT
#pragma once

// Internal to exec/: what RealProcessRunner sets up around one child — the system calls the child
// makes between vfork and execve, its pipes, the kept tail of its output, and SIGPIPE blocked
// while stdin is written.

#include "exec/core_dump.hpp"
#include "exec/process_group.hpp"
#include "util/encode.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rollback::exec {

/// Marks every descriptor from `first` up close-on-exec: close_range(2) with
/// CLOSE_RANGE_CLOEXEC (Linux 5.11), else one fcntl per descriptor below RLIMIT_NOFILE (at
/// most 65,536). Only system calls: safe between vfork and execve.
inline void cloexec_from(int first) {
#ifdef SYS_close_range
    constexpr unsigned k_close_range_cloexec = 1U << 2; // linux/close_range.h
    if (::syscall(SYS_close_range, static_cast<unsigned>(first), ~0U, k_close_range_cloexec) == 0) {
        return;
    }
#endif
    struct rlimit limit {};
    const rlim_t top =
        ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 65536 ? limit.rlim_cur : 65536;
    for (int fd = first; static_cast<rlim_t>(fd) < top; ++fd) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC); // EBADF for a descriptor not open: nothing to do
    }
}

/// What the child does between vfork and execve: only system calls (no allocation, no locks, no
/// writes to our memory). Returns 0 or the errno of the step that failed.
struct ChildSetup {
    const char* const* envp; ///< null = inherit ours
    const char* cwd;         ///< null = inherit ours
    pid_t parent;            ///< the engine's pid, for the death-signal race check
    int keep_fd = -1;        ///< inherited by the program (close-on-exec cleared): the attempt mark

    int prepare(int in_fd, int out_fd, int err_fd) const {
        // Own process group, so timeouts and interrupts can signal every descendant at once.
        if (::setpgid(0, 0) == -1) {
            return errno;
        }
        // If the engine dies (kill -9), the step's process dies with it: a resumed run must never
        // race a step still running from the dead engine (its probe would see a half-done effect).
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        // SIG_IGN survives execve (the engine ignores SIGPIPE) and so does the signal mask:
        // give the child the defaults a shell would, or `yes | head` in a hook misbehaves.
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; ++sig) {
            if (sig != SIGKILL && sig != SIGSTOP) {
                ::sigaction(sig, &dfl, nullptr);
            }
        }
        if (::dup2(in_fd, STDIN_FILENO) == -1 || ::dup2(out_fd, STDOUT_FILENO) == -1 ||
            ::dup2(err_fd, STDERR_FILENO) == -1) {
            return errno;
        }
        // Nothing the engine holds reaches the program but 0/1/2 and the attempt mark: not
        // rollback.log, not the monitor's listening socket, not a connection — whether or not it
        // was opened close-on-exec (break-it 37/01, 37/09). Marked, not closed: the gate and
        // report pipes are used up to execve.
        cloexec_from(3);
        if (keep_fd >= 0 && ::fcntl(keep_fd, F_SETFD, 0) == -1) {
            return errno;
        }
        if (cwd != nullptr && ::chdir(cwd) == -1) {
            return errno;
        }
        restore_core_limit(); // the engine's own is 0 (core_dump.hpp); the program's is not
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        return 0;
    }
};

/// The attempt mark (open_attempt_mark) while a child is started: the engine closes its copy once
/// the child holds one, so afterwards only the step's processes hold it. -1 without a token.
struct AttemptMark {
    explicit AttemptMark(std::string_view token)
        : fd(token.empty() ? -1 : open_attempt_mark(token)) {}
    ~AttemptMark() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    AttemptMark(const AttemptMark&) = delete;
    AttemptMark& operator=(const AttemptMark&) = delete;
    int fd;
};

/// The pipes of one child (all O_CLOEXEC: dup2 onto 0/1/2 clears the flag for the child only).
struct Fds {
    int in[2] = {-1, -1};
    int out[2] = {-1, -1};
    int err[2] = {-1, -1};
    int devnull = -1;
    int child_in = -1;

    bool open(bool with_stdin) {
        if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
            return false;
        }
        if (with_stdin) {
            if (::pipe2(in, O_CLOEXEC) != 0) {
                return false;
            }
            child_in = in[0];
        } else {
            devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (devnull < 0) {
                return false;
            }
            child_in = devnull;
        }
        return true;
    }
    void close_child_ends() {
        for (int* fd : {&in[0], &out[1], &err[1], &devnull}) {
            if (*fd >= 0) {
                ::close(*fd);
                *fd = -1;
            }
        }
    }
    int release(int& fd) {
        int r = fd;
        fd = -1;
        return r;
    }
    ~Fds() {
        close_child_ends();
        for (int* fd : {&in[1], &out[0], &err[0]}) {
            if (*fd >= 0) {
                ::close(*fd);
            }
        }
    }
};

/// Keeps the last `limit` bytes of everything appended, less the continuation bytes of a UTF-8
/// character the cut went through (util::utf8_boundary): a tail never starts mid-character.
inline void keep_tail(std::string& tail, std::string_view chunk, size_t limit) {
    if (chunk.size() >= limit) {
        const size_t at = chunk.size() - limit;
        tail.assign(chunk.substr(at == 0 ? 0 : util::utf8_boundary(chunk, at)));
        return;
    }
    size_t room = limit - chunk.size();
    if (tail.size() > room) {
        tail.erase(0, util::utf8_boundary(tail, tail.size() - room));
    }
    tail.append(chunk);
}

/// Writing stdin_data to a child that exited without reading it raises SIGPIPE. The engine
/// ignores SIGPIPE (cli::main) but a library must not rely on that: block it in this thread for
/// the run and discard a pending one afterwards.
class SigpipeGuard {
  public:
    SigpipeGuard() {
        sigset_t pipe_set;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &m_old);
    }
    ~SigpipeGuard() {
        sigset_t pipe_set;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        if (sigismember(&m_old, SIGPIPE) == 0) {
            struct timespec zero {};
            while (sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
    }
    SigpipeGuard(const SigpipeGuard&) = delete;
    SigpipeGuard& operator=(const SigpipeGuard&) = delete;

  private:
    sigset_t m_old{};
};

/// The child of a gated start (runner.cpp start_gated), after fork: its setup, then it waits
/// for the engine's go on `gate_fd` (one byte; end of file: the engine gave up on it, exit 127)
/// and execs. The errno of what failed goes to `report_fd` (close-on-exec: end of file there
/// means the program started). Only system calls. Never returns.
[[noreturn]] inline void exec_when_released(const ChildSetup& setup, const std::string& exe,
                                            const char* const* argv, const Fds& fds, int gate_fd,
                                            int report_fd) {
    int e = setup.prepare(fds.child_in, fds.out[1], fds.err[1]);
    char go = 0;
    ssize_t n = -1;
    while (e == 0 && (n = ::read(gate_fd, &go, 1)) == -1 && errno == EINTR) {
    }
    if (e == 0 && n != 1) {
        ::_exit(127);
    }
    if (e == 0) {
        ::execve(exe.c_str(), const_cast<char* const*>(argv),
                 const_cast<char* const*>(setup.envp != nullptr ? setup.envp : environ));
        e = errno;
    }
    [[maybe_unused]] auto w = ::write(report_fd, &e, sizeof e);
    ::_exit(127);
}

/// Reaps the child of a failed execve, which the launcher leaves unreaped.
inline void reap_failed_child(int pid) {
    if (pid > 0) {
        while (::waitpid(pid, nullptr, 0) == -1 && errno == EINTR) {
        }
    }
}

} // namespace rollback::exec
