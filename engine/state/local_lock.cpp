// SPDX-License-Identifier: MIT
#include "state/local_lock.hpp"

#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/time.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

namespace rollback::state::local {
namespace {

// How long a loser waits for the winner to publish lock.json (it takes the flock first, then
// writes lock.json; a few milliseconds apart in practice).
constexpr auto k_publish_wait = std::chrono::seconds(2);
constexpr auto k_poll = std::chrono::milliseconds(5);

fs::path lock_file(const fs::path& state_dir) {
    return state_dir / "lock";
}
fs::path holder_file(const fs::path& state_dir) {
    return state_dir / "lock.json";
}

std::optional<Holder> read_holder(const fs::path& state_dir) {
    std::error_code ec;
    if (!fs::exists(holder_file(state_dir), ec)) {
        return std::nullopt;
    }
    try {
        boost::system::error_code jec;
        auto v = boost::json::parse(util::read_file(holder_file(state_dir)), jec);
        if (jec || !v.is_object()) {
            // A holder file we cannot understand is still evidence: report it with no details.
            return Holder{};
        }
        return holder_from_json(v.as_object());
    } catch (const util::Error&) {
        return std::nullopt; // removed between exists() and read: released meanwhile
    }
}

/// True when `h` is a process on this host that is still there.
bool is_alive_here(const Holder& h) {
    if (h.pid <= 0 || h.host != this_host()) {
        return false;
    }
    return ::kill(h.pid, 0) == 0 || errno == EPERM;
}

std::string writable_hint(const fs::path& state_dir) {
    return "nothing was run; make " + state_dir.string() +
           " writable (free space, permissions, a read-write mount) or choose another with "
           "--state-dir";
}

int open_lock_file(const fs::path& state_dir) {
    std::error_code ec;
    fs::create_directories(state_dir, ec);
    if (ec) {
        throw util::Error("cannot create state directory " + state_dir.string() + ": " +
                              ec.message(),
                          util::ExitCode::state_unwritable, writable_hint(state_dir));
    }
    int fd = ::open(lock_file(state_dir).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw util::Error("cannot open lock file " + lock_file(state_dir).string() + ": " +
                              std::strerror(errno),
                          util::ExitCode::state_unwritable, writable_hint(state_dir));
    }
    return fd;
}

// The `lock` file counts acquisitions (a decimal number; empty before the first): the lease's
// generation. Only the flock's holder writes it.
std::uint64_t next_generation(int fd, const fs::path& state_dir) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    const std::uint64_t next = (n > 0 ? std::strtoull(buf, nullptr, 10) : 0) + 1;
    const std::string text = std::to_string(next) + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()) ||
        ::fdatasync(fd) != 0) {
        throw util::Error("cannot write lock file " + lock_file(state_dir).string() + ": " +
                          std::strerror(errno));
    }
    return next;
}

void write_holder(const fs::path& state_dir, const Holder& h) {
    util::write_file_atomic(holder_file(state_dir), util::json_text(to_json(h)) + "\n");
}

} // namespace

RunLock::RunLock(fs::path state_dir, int fd, Holder holder, std::uint64_t generation)
    : m_state_dir(std::move(state_dir)), m_fd(fd), m_holder(std::move(holder)),
      m_generation(generation) {}

RunLock::RunLock(RunLock&& other) noexcept
    : m_state_dir(std::move(other.m_state_dir)), m_fd(other.m_fd),
      m_holder(std::move(other.m_holder)), m_generation(other.m_generation) {
    other.m_fd = -1;
}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
    if (this != &other) {
        release();
        m_state_dir = std::move(other.m_state_dir);
        m_fd = other.m_fd;
        m_holder = std::move(other.m_holder);
        m_generation = other.m_generation;
        other.m_fd = -1;
    }
    return *this;
}

RunLock::~RunLock() {
    release();
}

void RunLock::set_run_id(const std::string& run_id) {
    m_holder.run_id = run_id;
    write_holder(m_state_dir, m_holder);
}

void RunLock::set_reason(const std::string& reason) {
    m_holder.reason = reason;
    write_holder(m_state_dir, m_holder);
}

void RunLock::release() noexcept {
    if (m_fd < 0) {
        return;
    }
    // lock.json goes first: once the flock is free, a lock.json left behind means "died".
    std::error_code ec;
    fs::remove(holder_file(m_state_dir), ec);
    util::fsync_directory(m_state_dir);
    ::close(m_fd); // releases the flock; the lock file itself stays (unlinking it would race)
    m_fd = -1;
}

void RunLock::release_leaving(const Holder& dead) {
    if (m_fd < 0) {
        return;
    }
    try {
        write_holder(m_state_dir, dead);
    } catch (const util::Error& e) {
        release();
        throw util::Error(e.what(), util::ExitCode::state_unwritable, writable_hint(m_state_dir));
    }
    ::close(m_fd);
    m_fd = -1;
}

LockAttempt acquire(const fs::path& state_dir, const Holder& owner) {
    int fd = open_lock_file(state_dir);
    auto deadline = std::chrono::steady_clock::now() + k_publish_wait;
    std::optional<Holder> seen;
    for (;;) {
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
            LockAttempt out;
            // The flock is ours and we have not written lock.json yet, so whoever wrote a
            // remaining one is gone — even when it shows our pid (pids repeat in containers).
            out.stale = read_holder(state_dir);
            std::uint64_t generation = 0;
            try {
                generation = next_generation(fd, state_dir);
                write_holder(state_dir, owner);
            } catch (const util::Error& e) {
                ::close(fd);
                throw util::Error(e.what(), util::ExitCode::state_unwritable,
                                  writable_hint(state_dir));
            }
            out.lock.emplace(RunLock(state_dir, fd, owner, generation));
            return out;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int saved = errno;
            ::close(fd);
            throw util::Error("cannot lock " + lock_file(state_dir).string() + ": " +
                                  std::strerror(saved),
                              util::ExitCode::run_failed);
        }
        // Held. lock.json may still be the previous (dead) holder's or missing for a moment,
        // until the new holder publishes it; a holder on another host is taken at its word.
        seen = read_holder(state_dir);
        if (seen && (is_alive_here(*seen) || (!seen->host.empty() && seen->host != this_host()))) {
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            break;
        }
        std::this_thread::sleep_for(k_poll);
    }
    ::close(fd);
    LockAttempt out;
    out.holder = seen && is_alive_here(*seen) ? *seen : seen.value_or(Holder{});
    return out;
}

std::optional<Holder> live_holder(const fs::path& state_dir) {
    int fd = ::open(lock_file(state_dir).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt; // never locked
    }
    bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
    ::close(fd); // also drops our shared lock, if we got it
    if (!held) {
        return std::nullopt;
    }
    return read_holder(state_dir).value_or(Holder{});
}

bool is_run_live(const fs::path& state_dir, const std::string& run_id) {
    auto h = live_holder(state_dir);
    return h && h->run_id == run_id;
}

std::optional<Holder> stale_holder(const fs::path& state_dir) {
    if (live_holder(state_dir)) {
        return std::nullopt;
    }
    return read_holder(state_dir);
}

} // namespace rollback::state::local
