// SPDX-License-Identifier: MIT
#include "db/answer_deadline.hpp"

#include <condition_variable>
#include <map>
#include <mutex>
#include <pqxx/connection_base>
#include <sys/socket.h>
#include <thread>

namespace rollback::db {

namespace {

using Clock = std::chrono::steady_clock;

// The deadlines armed now, and the thread that shuts a socket down when its deadline passes.
// A deadline is removed under the mutex before its connection can be closed by its owner, so a
// socket number the kernel has given to another file is never shut down.
class Watchdog {
  public:
    unsigned long long arm(int fd, Clock::time_point at) {
        std::lock_guard lock(m_mutex);
        if (!m_started) {
            // Never joined: the watchdog lives as long as the process (it holds no resource
            // but its thread; exit ends it).
            std::thread([this] { watch(); }).detach();
            m_started = true;
        }
        const auto id = ++m_next;
        m_watches.emplace(id, Watch{at, fd, false});
        m_wake.notify_one();
        return id;
    }

    bool disarm(unsigned long long id) {
        std::lock_guard lock(m_mutex);
        auto it = m_watches.find(id);
        if (it == m_watches.end()) {
            return false;
        }
        const bool fired = it->second.fired;
        m_watches.erase(it);
        return fired;
    }

    bool fired(unsigned long long id) {
        std::lock_guard lock(m_mutex);
        auto it = m_watches.find(id);
        return it != m_watches.end() && it->second.fired;
    }

  private:
    struct Watch {
        Clock::time_point at;
        int fd;
        bool fired;
    };

    void watch() {
        std::unique_lock lock(m_mutex);
        for (;;) {
            auto next = Clock::time_point::max();
            const auto now = Clock::now();
            for (auto& [id, w] : m_watches) {
                if (w.fired) {
                    continue;
                }
                if (w.at <= now) {
                    // The blocked poll()/recv() of the caller returns: end of file.
                    ::shutdown(w.fd, SHUT_RDWR);
                    w.fired = true;
                } else if (w.at < next) {
                    next = w.at;
                }
            }
            if (next == Clock::time_point::max()) {
                m_wake.wait(lock);
            } else {
                m_wake.wait_until(lock, next);
            }
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::map<unsigned long long, Watch> m_watches;
    unsigned long long m_next = 0;
    bool m_started = false;
};

Watchdog& watchdog() {
    static auto* w = new Watchdog; // never destroyed: its detached thread may run until exit
    return *w;
}

} // namespace

AnswerDeadline::AnswerDeadline(pqxx::connection_base& conn, std::chrono::milliseconds limit,
                               bool* cut)
    : m_cut(cut) {
    const int fd = conn.sock();
    if (fd >= 0) {
        m_id = watchdog().arm(fd, Clock::now() + limit);
    }
}

AnswerDeadline::~AnswerDeadline() {
    const bool fired = m_id != 0 && watchdog().disarm(m_id);
    if (m_cut != nullptr) {
        *m_cut = fired;
    }
}

bool AnswerDeadline::expired() const {
    return m_id != 0 && watchdog().fired(m_id);
}

} // namespace rollback::db
