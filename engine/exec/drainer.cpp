// SPDX-License-Identifier: MIT
// The engine's end of its drainer (drainer.hpp): starting it, and the messages that give it a
// program's pipes and let it read them.
#include "exec/drainer.hpp"

#include "exec/child_io.hpp"
#include "util/log.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <mutex>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace rollback::exec {
namespace {

struct Spawn {
    int src[3];             ///< the engine's descriptors that become the drainer's 0, 1 and 2
    volatile int error = 0; ///< errno of what failed in the drainer before execve
};

/// The drainer between clone and execve: only system calls (it shares the engine's memory).
int exec_drainer(void* arg) {
    auto* s = static_cast<Spawn*>(arg);
    int e = ::setsid() < 0 ? errno : 0; // no group kill of a step's or the engine's reaches it
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            ::sigaction(sig, &dfl, nullptr);
        }
    }
    // Out of the way first (a source may be one of 0-2), then in place; everything else,
    // whoever opened it and however, is closed by execve.
    int high[3];
    for (int i = 0; e == 0 && i < 3; ++i) {
        high[i] = ::fcntl(s->src[i], F_DUPFD, 3);
        e = high[i] < 0 ? errno : 0;
    }
    for (int i = 0; e == 0 && i < 3; ++i) {
        e = ::dup2(high[i], i) < 0 ? errno : 0;
    }
    if (e == 0) {
        cloexec_from(3);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        static const char* const envp[] = {nullptr};
        ::execve("/proc/self/exe", const_cast<char* const*>(drain::command_line()),
                 const_cast<char* const*>(envp));
        e = errno;
    }
    s->error = e;
    ::_exit(127);
}

/// Starts a drainer whose descriptor 0 is `socket` (1 and 2: /dev/null). vfork, then
/// clone(CLONE_VM | CLONE_VFORK) from the vfork child, which exits once the drainer executed:
/// init adopts the drainer at once, so the engine neither waits for it nor leaves a zombie, and
/// nothing of the engine is copied. False with errno set when it could not be started.
bool spawn(int socket) {
    const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        return false;
    }
    Spawn s{{socket, devnull, devnull}};
    constexpr size_t k_stack = 64 * 1024;
    auto stack = std::make_unique<char[]>(k_stack); // the drainer's until it executes
    char* stack_top = stack.get() + k_stack;
    // No handler of ours may run in the children (they share our memory): every signal blocked
    // across; the drainer resets dispositions, then unblocks.
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    const pid_t child = ::vfork();
    if (child == 0) {
        if (::clone(exec_drainer, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, &s) < 0) {
            s.error = errno;
        }
        ::_exit(0);
    }
    int e = child < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    ::close(devnull);
    if (child > 0) {
        while (::waitpid(child, nullptr, 0) == -1 && errno == EINTR) { // it exited already
        }
        e = s.error;
    }
    errno = e;
    return e == 0;
}

/// The engine's end of its drainer, made at the first message; made again after the drainer
/// died, and by a fork of the engine that runs programs itself (the copy it inherited is its
/// parent's: a test's engine in a fork).
class Connection {
  public:
    std::uint64_t next_id() {
        std::lock_guard lock(m_mutex);
        return m_next_id++;
    }

    /// Sends `m` (with `fds` for hold and read) to the current drainer, starting one when there
    /// is none. The drainer's generation, or 0 when it cannot be reached — and for a release,
    /// when the drainer of `generation_of_id` is gone.
    std::uint64_t send(const drain::Message& m, const int (&fds)[2],
                       std::uint64_t generation_of_id) {
        std::lock_guard lock(m_mutex);
        if (m_socket >= 0 && m_owner != ::getpid()) {
            ::close(m_socket);
            m_socket = -1;
        }
        if (m.kind == drain::Kind::release && generation_of_id != m_generation) {
            // Held by a drainer that took no more (retired, still reading what it holds).
            const auto r = std::find_if(m_retired.begin(), m_retired.end(),
                                        [&](const auto& x) { return x.first == generation_of_id; });
            if (r == m_retired.end() || !post(r->second, m, fds)) {
                return 0;
            }
            return generation_of_id;
        }
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (m.kind == drain::Kind::release && m_socket < 0) {
                return 0; // the drainer that held them is gone
            }
            if (m_socket < 0 && !start()) {
                return 0;
            }
            if (post(m_socket, m, fds)) {
                return m_generation;
            }
            // Gone (killed), or stopped with its queue full: a new one for what comes next. A
            // stopped one sees end of file when it continues, and reads everything it holds.
            log::warn("exec: the output drainer cannot be reached ({}): starting another",
                      std::strerror(errno));
            ::close(m_socket);
            m_socket = -1;
        }
        return 0;
    }

    /// Whether the drainer of `generation` took the descriptors sent with `id` (its answer,
    /// waited for up to k_answer_wait). A drainer that refused them (its open-file limit) is
    /// retired: it reads what it holds, and a new one takes what comes next (break-it 45 F5).
    /// No answer in time (a stopped drainer): taken, as before answers existed.
    bool taken(std::uint64_t id, std::uint64_t generation) {
        std::lock_guard lock(m_mutex);
        for (int wait = 0; wait < 2; ++wait) {
            collect();
            if (const auto a = m_answers.find(id); a != m_answers.end()) {
                const bool held = a->second;
                m_answers.erase(a);
                return held;
            }
            const int fd = socket_of(generation);
            if (fd < 0) {
                return false;
            }
            pollfd p{fd, POLLIN, 0};
            if (wait == 0 && ::poll(&p, 1, k_answer_wait_ms) <= 0) {
                break;
            }
        }
        return true;
    }

  private:
    static constexpr int k_answer_wait_ms = 200;

    int socket_of(std::uint64_t generation) const {
        if (generation == m_generation) {
            return m_socket;
        }
        for (const auto& [g, fd] : m_retired) {
            if (g == generation) {
                return fd;
            }
        }
        return -1;
    }

    /// Reads every answer waiting on the current and retired sockets.
    void collect() {
        bool refused = false;
        auto read_from = [&](int fd, bool current) {
            drain::Message a{};
            while (fd >= 0 && ::recv(fd, &a, sizeof a, MSG_DONTWAIT) == sizeof a) {
                m_answers[a.id] = a.kind == drain::Kind::held;
                refused = refused || (current && a.kind == drain::Kind::refused);
            }
        };
        for (const auto& r : m_retired) {
            read_from(r.second, false);
        }
        if (m_socket >= 0 && m_owner == ::getpid()) {
            read_from(m_socket, true);
        }
        if (refused) {
            // Kept open: closing it would make the drainer read what it holds while the
            // engine still reads it.
            log::warn("exec: the output drainer has no room for more descriptors (its limit of "
                      "open files): starting another for the pipes it could not take");
            m_retired.emplace_back(m_generation, m_socket);
            m_socket = -1;
        }
    }

    bool start() {
        int sv[2] = {-1, -1};
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
            return false;
        }
        const bool started = spawn(sv[1]);
        const int e = errno;
        ::close(sv[1]);
        if (!started) {
            ::close(sv[0]);
            errno = e;
            return false;
        }
        m_socket = sv[0];
        m_owner = ::getpid();
        ++m_generation;
        return true;
    }

    static bool post(int socket, const drain::Message& m, const int (&fds)[2]) {
        alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
        iovec io{const_cast<drain::Message*>(&m), sizeof m};
        msghdr msg{};
        msg.msg_iov = &io;
        msg.msg_iovlen = 1;
        const int count = (fds[0] >= 0 ? 1 : 0) + (fds[1] >= 0 ? 1 : 0);
        if (m.kind != drain::Kind::release && count > 0) {
            int given[2] = {-1, -1};
            int n = 0;
            for (int fd : fds) {
                if (fd >= 0) {
                    given[n++] = fd;
                }
            }
            msg.msg_control = control;
            msg.msg_controllen = CMSG_SPACE(count * sizeof(int));
            cmsghdr* c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(count * sizeof(int));
            std::memcpy(CMSG_DATA(c), given, count * sizeof(int));
        }
        ssize_t n = -1;
        // Never blocks the engine: a drainer that does not take its messages is replaced.
        while ((n = ::sendmsg(socket, &msg, MSG_NOSIGNAL | MSG_DONTWAIT)) == -1 && errno == EINTR) {
        }
        return n == static_cast<ssize_t>(sizeof m);
    }

    std::mutex m_mutex;
    int m_socket = -1;
    pid_t m_owner = 0;
    std::uint64_t m_generation = 0;
    std::uint64_t m_next_id = 1;
    std::vector<std::pair<std::uint64_t, int>> m_retired; ///< generation, socket
    std::map<std::uint64_t, bool> m_answers;              ///< id: taken
};

Connection& connection() {
    static auto* c = new Connection; // never destroyed: programs may run during exit
    return *c;
}

} // namespace

bool hand_off_output(int out_fd, int err_fd) {
    Connection& c = connection();
    for (int attempt = 0; attempt < 2; ++attempt) {
        const std::uint64_t id = c.next_id();
        const std::uint64_t generation = c.send({drain::Kind::read, id}, {out_fd, err_fd}, 0);
        if (generation == 0) {
            return false;
        }
        if (c.taken(id, generation)) {
            return true;
        }
    }
    return false;
}

bool Drainer::start(int out_fd, int err_fd) {
    Connection& c = connection();
    m_id = c.next_id();
    m_generation = c.send({drain::Kind::hold, m_id}, {out_fd, err_fd}, 0);
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
    if (m_id != 0 && connection().taken(m_id, m_generation) &&
        connection().send({drain::Kind::release, m_id}, {-1, -1}, m_generation) != 0) {
        return; // the drainer reads from now on
    }
    if ((out_fd >= 0 || err_fd >= 0) && !hand_off_output(out_fd, err_fd)) {
        log::warn("exec: no drainer for the output of what a program left running");
    }
}

} // namespace rollback::exec
