// SPDX-License-Identifier: MIT
#include "state/local_lock.hpp"
#include "state/holder_alive.hpp"

#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
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
#include <fstream>
#include <map>
#include <mutex>
#include <signal.h>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

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

/// lock.json as read: the holder, and the start time of its process when recorded.
struct Seen {
    Holder holder;
    std::uint64_t proc_start = 0;
    bool alive() const { return holder_alive_here(holder, proc_start); }
    /// Alive, and another process: with the flock free, a lock.json naming this process was
    /// left by an earlier holder with our pid (pids repeat in containers), or released by us.
    bool alive_elsewhere() const { return holder.pid != static_cast<int>(::getpid()) && alive(); }
};

std::optional<Seen> read_seen(const fs::path& state_dir) {
    std::error_code ec;
    if (!fs::exists(holder_file(state_dir), ec)) {
        return std::nullopt;
    }
    try {
        boost::system::error_code jec;
        auto v = boost::json::parse(util::read_file(holder_file(state_dir)), jec);
        if (jec || !v.is_object()) {
            // A holder file we cannot understand is still evidence: report it with no details.
            return Seen{};
        }
        Seen seen{holder_from_json(v.as_object()), 0};
        if (const auto* p = v.as_object().if_contains("proc_start"); p != nullptr) {
            if (p->is_uint64()) {
                seen.proc_start = p->as_uint64();
            } else if (p->is_int64() && p->as_int64() > 0) {
                seen.proc_start = static_cast<std::uint64_t>(p->as_int64());
            }
        }
        return seen;
    } catch (const util::Error&) {
        return std::nullopt; // removed between exists() and read: released meanwhile
    }
}

std::optional<Holder> read_holder(const fs::path& state_dir) {
    auto seen = read_seen(state_dir);
    return seen ? std::optional<Holder>(std::move(seen->holder)) : std::nullopt;
}

/// The fields of /proc/PID/stat after the command name (which may hold spaces and parens):
/// [0] is field 3 (the state), so field N is [N - 3].
std::vector<std::string> stat_fields(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!in || !std::getline(in, text)) {
        return {};
    }
    const auto close = text.rfind(')');
    if (close == std::string::npos) {
        return {};
    }
    std::istringstream rest(text.substr(close + 1));
    std::vector<std::string> out;
    for (std::string f; rest >> f;) {
        out.push_back(std::move(f));
    }
    return out;
}

std::optional<std::int64_t> boot_time_seconds() {
    std::ifstream in("/proc/stat");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("btime ", 0) == 0) {
            return std::strtoll(line.c_str() + 6, nullptr, 10);
        }
    }
    return std::nullopt;
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
    const int fd = ::open(lock_file(state_dir).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw util::Error("cannot open lock file " + lock_file(state_dir).string() + ": " +
                              std::strerror(errno),
                          util::ExitCode::state_unwritable, writable_hint(state_dir));
    }
    return fd;
}

/// True when `fd` is still the file at `state_dir`/lock (not removed or replaced since it was
/// opened): a flock on an unlinked file excludes nobody.
bool is_current_lock_file(int fd, const fs::path& state_dir) {
    struct stat by_fd {};
    struct stat by_path {};
    return ::fstat(fd, &by_fd) == 0 && ::stat(lock_file(state_dir).c_str(), &by_path) == 0 &&
           by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino;
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

/// lock.json: the holder, and for this process's own holder its start time (`proc_start`),
/// so that no later process given the same pid is ever taken for it.
/// The start times of the dead holders this process found (acquire), by holder: a starter that
/// leaves a dead holder's lock.json in place (RunLock::release_leaving) writes it back as it was.
std::mutex g_seen_mutex;
std::map<std::string, std::uint64_t> g_seen_starts;

std::string holder_key(const fs::path& state_dir, const Holder& h) {
    return state_dir.string() + '\n' + h.run_id + '\n' + std::to_string(h.pid) + '\n' + h.host +
           '\n' + h.started;
}

void remember_start(const fs::path& state_dir, const Seen& seen) {
    if (seen.proc_start != 0) {
        const std::lock_guard guard(g_seen_mutex);
        g_seen_starts[holder_key(state_dir, seen.holder)] = seen.proc_start;
    }
}

/// lock.json: the holder, and its process's start time (`proc_start`): this process's own, or
/// the one a dead holder's lock.json recorded, so that no later process given the same pid is
/// ever taken for it.
void write_holder(const fs::path& state_dir, const Holder& h) {
    auto o = to_json(h);
    std::optional<std::uint64_t> start;
    if (h.pid == static_cast<int>(::getpid()) && h.host == this_host()) {
        start = process_start_ticks(h.pid);
    } else {
        const std::lock_guard guard(g_seen_mutex);
        if (auto it = g_seen_starts.find(holder_key(state_dir, h)); it != g_seen_starts.end()) {
            start = it->second;
        }
    }
    if (start) {
        o["proc_start"] = *start;
    }
    util::write_file_atomic(holder_file(state_dir), util::json_text(o) + "\n");
}

} // namespace

std::optional<std::uint64_t> process_start_ticks(int pid) {
    if (pid <= 0) {
        return std::nullopt;
    }
    const auto f = stat_fields(pid);
    if (f.size() < 20 || f[0] == "Z" || f[0] == "X") {
        return std::nullopt; // gone, or exited and not yet reaped
    }
    return std::strtoull(f[19].c_str(), nullptr, 10);
}

bool holder_alive_here(const Holder& h, std::uint64_t proc_start) {
    if (h.pid <= 0 || h.host != this_host()) {
        return false;
    }
    if (::kill(h.pid, 0) != 0 && errno != EPERM) {
        return false;
    }
    const auto ticks = process_start_ticks(h.pid);
    if (!ticks) {
        // No start time: a zombie (holds no lock), or no /proc to ask (then trust the pid).
        return ::access("/proc/self/stat", R_OK) != 0;
    }
    if (proc_start != 0) {
        return *ticks == proc_start;
    }
    // A lock.json without proc_start: a process started after the holder took the lock is
    // another one given its pid. btime is whole seconds: 2 s of slack.
    const auto started = util::parse_time(h.started);
    const auto btime = boot_time_seconds();
    const long hz = ::sysconf(_SC_CLK_TCK);
    if (!started || !btime || hz <= 0) {
        return true; // cannot tell: the pid is alive, so keep it
    }
    const auto proc = std::chrono::system_clock::time_point(
        std::chrono::milliseconds(*btime * 1000 + static_cast<std::int64_t>(*ticks * 1000 / hz)));
    return proc <= *started + std::chrono::seconds(2);
}

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
    std::optional<Seen> seen;
    for (;;) {
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
            if (!is_current_lock_file(fd, state_dir)) {
                // Removed (or replaced) between our open and our flock: lock the file that is
                // there now, or another starter could lock it beside us.
                ::close(fd);
                fd = open_lock_file(state_dir);
                continue;
            }
            // The flock is ours and we have not written lock.json yet, so whoever wrote a
            // remaining one released nothing: it died — unless that process is still there
            // (same pid, same start time, this host): then the `lock` file was removed while
            // it runs, and its flock is on the removed file. It still holds the run.
            auto previous = read_seen(state_dir);
            if (previous && previous->alive_elsewhere()) {
                ::close(fd);
                log::warn("the lock file {} was removed while run {} (pid {}) is still running: "
                          "it holds the run lock",
                          lock_file(state_dir).string(), previous->holder.run_id,
                          previous->holder.pid);
                LockAttempt out;
                out.holder = std::move(previous->holder);
                return out;
            }
            LockAttempt out;
            if (previous) {
                remember_start(state_dir, *previous);
                out.stale = std::move(previous->holder);
            }
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
        // until the new holder publishes it. Only a live process of this host with the start
        // time lock.json records is taken as the holder at once (a dead holder's pid may now be
        // another process's); a holder on another host is believed when the window ends.
        seen = read_seen(state_dir);
        if (seen && seen->alive()) {
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            break;
        }
        std::this_thread::sleep_for(k_poll);
    }
    ::close(fd);
    LockAttempt out;
    const bool believed =
        seen && (seen->alive() || (!seen->holder.host.empty() && seen->holder.host != this_host()));
    out.holder = believed ? seen->holder : Holder{}; // else: not said who it is yet
    return out;
}

std::optional<Holder> live_holder(const fs::path& state_dir) {
    int fd = ::open(lock_file(state_dir).c_str(), O_RDONLY | O_CLOEXEC);
    bool held = false;
    if (fd >= 0) {
        held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
        ::close(fd); // also drops our shared lock, if we got it
    }
    auto seen = read_seen(state_dir);
    if (held) {
        return seen ? seen->holder : Holder{};
    }
    // Free (or no `lock` file), yet lock.json names a live process of this host with its
    // start time: the `lock` file was removed under a running holder. It is not dead.
    if (seen && seen->alive_elsewhere()) {
        return seen->holder;
    }
    return std::nullopt;
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
