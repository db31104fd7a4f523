// SPDX-License-Identifier: MIT
// The drainer process (drainer.hpp): the engine's binary executed again in a hidden mode. It
// holds what the engine gives it, reads what the engine released, and exits once the engine is
// gone (end of file on its socket releases everything) and every pipe it holds is at end of file.
#include "exec/drainer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace rollback::exec {
namespace {

constexpr const char* k_argv0 = "rollback-drain";
constexpr const char* k_mode = "--step-output";
constexpr int k_socket = 0;

/// Reads `fd` once, dropping what it read: false at end of file or on an error. The engine's
/// reader made the pipe non-blocking (the flag belongs to the pipe, shared with our copy):
/// EAGAIN is no end.
bool read_some(int fd) {
    static char buffer[64 * 1024];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    return n > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN));
}

struct Held {
    std::uint64_t id = 0;
    int fd[2] = {-1, -1};
    bool released = false;
};

class Drain {
  public:
    [[noreturn]] void run() {
        std::vector<pollfd> polled;
        std::vector<std::pair<size_t, int>> which; // polled[i] is m_held[first].fd[second]
        for (;;) {
            polled.clear();
            which.clear();
            if (m_socket >= 0) {
                polled.push_back({m_socket, POLLIN, 0});
                which.emplace_back(SIZE_MAX, 0);
            }
            for (size_t i = 0; i < m_held.size(); ++i) {
                for (int k = 0; k < 2 && m_held[i].released; ++k) {
                    if (m_held[i].fd[k] >= 0) {
                        polled.push_back({m_held[i].fd[k], POLLIN, 0});
                        which.emplace_back(i, k);
                    }
                }
            }
            if (m_socket < 0 && m_held.empty()) {
                ::_exit(0);
            }
            if (::poll(polled.data(), polled.size(), -1) < 0) {
                if (errno == EINTR) {
                    continue;
                }
                ::_exit(1);
            }
            for (size_t j = 0; j < polled.size(); ++j) {
                if (polled[j].revents == 0) {
                    continue;
                }
                if (which[j].first == SIZE_MAX) {
                    if (!receive()) { // the engine exited or died: everything is released
                        ::close(m_socket);
                        m_socket = -1;
                        for (auto& h : m_held) {
                            h.released = true;
                        }
                    }
                    continue;
                }
                int& fd = m_held[which[j].first].fd[which[j].second];
                if (!read_some(fd)) {
                    ::close(fd);
                    fd = -1;
                }
            }
            std::erase_if(m_held, [](const Held& h) { return h.fd[0] < 0 && h.fd[1] < 0; });
        }
    }

  private:
    /// Takes one message from the engine; false at end of file (or a broken socket).
    bool receive() {
        drain::Message m{};
        alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))];
        iovec io{&m, sizeof m};
        msghdr msg{};
        msg.msg_iov = &io;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(m_socket, &msg, MSG_CMSG_CLOEXEC);
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
        const bool whole = n == static_cast<ssize_t>(sizeof m) && m.id != 0;
        if (whole && (m.kind == drain::Kind::hold || m.kind == drain::Kind::read)) {
            // MSG_CTRUNC: the kernel could not give us every descriptor (no room below our
            // open-file limit) and dropped them. Holding a part would be a pipe without a reader
            // the engine believes held: it is told, and gives them to another drainer.
            const bool taken = (msg.msg_flags & MSG_CTRUNC) == 0;
            if (taken) {
                m_held.push_back({m.id, {fds[0], fds[1]}, m.kind == drain::Kind::read});
            }
            answer({taken ? drain::Kind::held : drain::Kind::refused, m.id});
            if (taken) {
                return true;
            }
        }
        for (int fd : fds) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
        for (auto& h : m_held) {
            if (whole && m.kind == drain::Kind::release && h.id == m.id) {
                h.released = true;
            }
        }
        return true;
    }

    /// Never blocks: an engine that does not read its answers loses only them.
    void answer(const drain::Message& m) const {
        while (::send(m_socket, &m, sizeof m, MSG_DONTWAIT | MSG_NOSIGNAL) == -1 &&
               errno == EINTR) {
        }
    }

    int m_socket = k_socket;
    std::vector<Held> m_held;
};

/// The hidden mode. glibc calls the functions of .init_array with main's (argc, argv, envp);
/// priority 101 runs this before the binary's own constructors (spdlog's, Boost's), and it never
/// returns: any binary that links the runner — `rollback`, the unit tests — is its own drainer
/// program, and the drainer needs no file of its own to be found or installed.
[[gnu::constructor(101)]] void drain_if_asked(int argc, char** argv, char** /*envp*/) {
    if (argc != 2 || argv == nullptr || std::strcmp(argv[0], k_argv0) != 0 ||
        std::strcmp(argv[1], k_mode) != 0) {
        return;
    }
    // Its comm would be "exe" (the name execve was given): `ps -e`, `top` and `pgrep` show this.
    ::prctl(PR_SET_NAME, k_argv0);
    // Two descriptors per step that left a writer: the soft limit up to the hard one.
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }
    Drain().run();
}

} // namespace

const char* const* drain::command_line() {
    static const char* const argv[] = {k_argv0, k_mode, nullptr};
    return argv;
}

} // namespace rollback::exec
