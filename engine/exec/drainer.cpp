// SPDX-License-Identifier: MIT
#include "exec/drainer.hpp"

#include "util/log.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rollback::exec {
namespace {

// Everything below that runs in a drainer runs in a fork of a threaded process: system calls
// only, no allocation, no locks; its state lives in static arrays.
char g_buffer[16 * 1024];

/// Reads `fd` once: false when it is at end of file (or broken). The engine's reader made the
/// pipe non-blocking (the flag is the pipe's, shared with our copy): EAGAIN is no end.
bool read_some(int fd) {
    const ssize_t n = ::read(fd, g_buffer, sizeof g_buffer);
    return n > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN));
}

/// A drainer of its own (hand_off_output): reads fds 0 and 1 (either may be closed) until both
/// are at end of file.
[[noreturn]] void drain_and_exit() {
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
            if (p.fd >= 0 && p.revents != 0 && !read_some(p.fd)) {
                ::close(p.fd);
                p.fd = -1;
            }
        }
    }
    ::_exit(0);
}

// The engine's drainer (Drainer): messages on a SOCK_SEQPACKET socket, fd 0.
enum class Kind : std::uint32_t { hold = 1, release = 2 };
struct Message {
    Kind kind;
    std::uint64_t id;
};

constexpr int k_max_held = 1024; // pipe pairs at once; more: held by nobody (logged by nobody)
struct Held {
    std::uint64_t id = 0; // 0: a free slot
    int fd[2] = {-1, -1};
    bool released = false;
};
Held g_held[k_max_held];
pollfd g_poll[1 + 2 * k_max_held];
int g_poll_fd[1 + 2 * k_max_held]; // g_poll[i] is g_held[g_poll_fd[i] / 2].fd[g_poll_fd[i] % 2]

/// Takes one message from the engine; false at end of file (the engine exited or died).
bool receive(int sock) {
    Message m{};
    alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))];
    iovec io{&m, sizeof m};
    msghdr msg{};
    msg.msg_iov = &io;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) {
        return errno == EINTR || errno == EAGAIN;
    }
    if (n == 0) {
        return false;
    }
    int fds[2] = {-1, -1};
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            std::memcpy(fds, CMSG_DATA(c), std::min<size_t>(count, 2) * sizeof(int));
        }
    }
    Held* slot = nullptr;
    for (auto& h : g_held) {
        if (m.kind == Kind::hold && h.id == 0 && slot == nullptr) {
            slot = &h;
        } else if (m.kind == Kind::release && h.id == m.id && m.id != 0) {
            h.released = true;
        }
    }
    if (m.kind == Kind::hold && slot != nullptr && n == static_cast<ssize_t>(sizeof m)) {
        *slot = Held{m.id, {fds[0], fds[1]}, false};
    } else {
        for (int fd : fds) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    }
    return true;
}

/// The engine's drainer: holds what it is given, reads what is released, until the engine is
/// gone (end of file on its socket releases everything) and every pipe is at end of file.
[[noreturn]] void serve(int sock) {
    for (;;) {
        int n = 0;
        if (sock >= 0) {
            g_poll[n] = {sock, POLLIN, 0};
            g_poll_fd[n++] = -1;
        }
        bool holding = false;
        for (int i = 0; i < k_max_held; ++i) {
            Held& h = g_held[i];
            holding = holding || h.id != 0;
            for (int k = 0; k < 2 && h.id != 0 && h.released; ++k) {
                if (h.fd[k] >= 0) {
                    g_poll[n] = {h.fd[k], POLLIN, 0};
                    g_poll_fd[n++] = i * 2 + k;
                }
            }
        }
        if (sock < 0 && !holding) {
            ::_exit(0);
        }
        if (::poll(g_poll, static_cast<nfds_t>(n), -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            ::_exit(1);
        }
        for (int j = 0; j < n; ++j) {
            if (g_poll[j].revents == 0) {
                continue;
            }
            if (g_poll_fd[j] < 0) {
                if (!receive(sock)) {
                    ::close(sock);
                    sock = -1;
                    for (auto& h : g_held) {
                        h.released = true;
                    }
                }
                continue;
            }
            Held& h = g_held[g_poll_fd[j] / 2];
            int& fd = h.fd[g_poll_fd[j] % 2];
            if (!read_some(fd)) {
                ::close(fd);
                fd = -1;
                if (h.fd[0] < 0 && h.fd[1] < 0) {
                    h = Held{};
                }
            }
        }
    }
}

/// Forks a drainer (a double fork: init adopts it, the engine never waits for it and it
/// outlives the engine) holding `fds` (-1: none) as its descriptors 0.., and nothing else of the
/// engine's (the state lock, the journal, the pipes' write ends, other steps' pipes), then runs
/// `body`. True when it started.
bool spawn(const int (&fds)[2], void (*body)()) {
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); // no handler of the engine's runs in the fork
    const pid_t child = ::fork();
    if (child == 0) {
        if (::fork() != 0) {
            ::_exit(0);
        }
        ::setsid(); // no terminal's signals (Ctrl-C, hang-up) reach it
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; ++sig) {
            if (sig != SIGKILL && sig != SIGSTOP && sig != SIGPIPE) {
                ::sigaction(sig, &dfl, nullptr);
            }
        }
        int high[2] = {-1, -1};
        for (int i = 0; i < 2; ++i) {
            high[i] = fds[i] >= 0 ? ::fcntl(fds[i], F_DUPFD, 3) : -1;
        }
        for (int i = 0; i < 3; ++i) {
            ::close(i);
        }
        for (int i = 0; i < 2; ++i) {
            if (high[i] >= 0) {
                ::dup2(high[i], i);
            }
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
        body();
        ::_exit(0);
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

/// The engine's end of its drainer, made at the first step; made again by a fork of the engine
/// that runs steps itself (the copy it inherited is its parent's) and after the drainer died.
struct Connection {
    std::mutex mutex;
    int sock = -1;
    pid_t owner = 0;
    std::uint64_t generation = 0;
    std::uint64_t next_id = 1;

    /// Sends `m` (with `fds` for a hold) to the current drainer, starting one when there is none.
    /// The drainer's generation, or 0 when it cannot be reached.
    std::uint64_t send(const Message& m, const int (&fds)[2], std::uint64_t generation_of_id) {
        std::lock_guard lock(mutex);
        if (sock >= 0 && owner != ::getpid()) {
            ::close(sock);
            sock = -1;
        }
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (m.kind == Kind::release && (sock < 0 || generation != generation_of_id)) {
                return 0; // the drainer that held them is gone
            }
            if (sock < 0 && !start()) {
                return 0;
            }
            if (post(m, fds)) {
                return generation;
            }
            ::close(sock); // the drainer died (killed): a new one for what comes next
            sock = -1;
        }
        return 0;
    }

  private:
    bool start() {
        int sv[2] = {-1, -1};
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
            return false;
        }
        const bool started = spawn({sv[1], -1}, [] { serve(STDIN_FILENO); });
        ::close(sv[1]);
        if (!started) {
            ::close(sv[0]);
            return false;
        }
        sock = sv[0];
        owner = ::getpid();
        ++generation;
        return true;
    }

    bool post(const Message& m, const int (&fds)[2]) const {
        alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
        iovec io{const_cast<Message*>(&m), sizeof m};
        msghdr msg{};
        msg.msg_iov = &io;
        msg.msg_iovlen = 1;
        if (m.kind == Kind::hold) {
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            cmsghdr* c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(2 * sizeof(int));
            std::memcpy(CMSG_DATA(c), fds, 2 * sizeof(int));
        }
        ssize_t n = -1;
        while ((n = ::sendmsg(sock, &msg, MSG_NOSIGNAL)) == -1 && errno == EINTR) {
        }
        return n == static_cast<ssize_t>(sizeof m);
    }
};

Connection& connection() {
    static Connection* c = new Connection; // never destroyed: steps may run during exit
    return *c;
}

} // namespace

bool hand_off_output(int out_fd, int err_fd) {
    return spawn({out_fd, err_fd}, [] { drain_and_exit(); });
}

bool Drainer::start(int out_fd, int err_fd) {
    if (out_fd < 0 || err_fd < 0) {
        return false;
    }
    Connection& c = connection();
    {
        std::lock_guard lock(c.mutex);
        m_id = c.next_id++;
    }
    m_generation = c.send({Kind::hold, m_id}, {out_fd, err_fd}, 0);
    if (m_generation == 0) {
        log::warn("exec: no drainer for a program's output: it could not be started ({})",
                  std::strerror(errno));
        m_id = 0;
        return false;
    }
    return true;
}

void Drainer::release(int out_fd, int err_fd) {
    if (m_released) {
        return;
    }
    m_released = true;
    if (m_id != 0 && connection().send({Kind::release, m_id}, {-1, -1}, m_generation) != 0) {
        return; // the drainer reads from now on
    }
    if ((out_fd >= 0 || err_fd >= 0) && !hand_off_output(out_fd, err_fd)) {
        log::warn("exec: no drainer for the output of what a program left running");
    }
}

} // namespace rollback::exec
