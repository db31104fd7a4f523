// SPDX-License-Identifier: MIT
#include "exec/process_group.hpp"

#include "exec/runner.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <thread>
#include <time.h>
#include <unistd.h>

namespace rollback::exec {
namespace {

using Clock = std::chrono::steady_clock;

/// Reads up to `cap` bytes of a /proc file, growing the buffer as it goes; "" when it cannot be
/// read.
std::string read_small(const char* path, size_t cap) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return {};
    }
    std::string out;
    size_t got = 0;
    while (got < cap) {
        if (out.size() == got) {
            out.resize(std::min(cap, std::max<size_t>(4096, got * 2)));
        }
        ssize_t n = ::read(fd, out.data() + got, out.size() - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += static_cast<size_t>(n);
    }
    ::close(fd);
    out.resize(got);
    return out;
}

struct StatFields {
    char state = 0;
    int pgrp = 0;
    std::uint64_t start = 0;
    std::string comm;
};

/// Fields of /proc/<pid>/stat; false when the process is gone.
bool read_stat(int pid, StatFields& f) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    std::string stat = read_small(path, 1024);
    // "pid (comm) S ppid pgrp ..."; comm may contain ") ", so parse from the last ')'.
    auto open = stat.find('(');
    auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) {
        return false;
    }
    f.comm = stat.substr(open + 1, close - open - 1);
    int ppid = 0;
    unsigned long long start = 0;
    // Fields 3..22: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
    // stime cutime cstime priority nice num_threads itrealvalue starttime.
    if (std::sscanf(
            stat.c_str() + close + 1,
            " %c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
            &f.state, &ppid, &f.pgrp, &start) != 4) {
        return false;
    }
    f.start = start;
    return true;
}

/// The process's argv joined by spaces. A member of a group is a user process, so an empty
/// /proc/<pid>/cmdline means it is inside execve (the kernel sets the new name before the new
/// argument block, proc(5)): read again for up to ~20 ms before falling back to "[comm]".
std::string command_line(int pid, const std::string& comm) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    std::string raw;
    for (int attempt = 0; attempt < 20; ++attempt) {
        raw = read_small(path, 4096);
        while (!raw.empty() && raw.back() == '\0') {
            raw.pop_back();
        }
        if (!raw.empty() || ::access(path, F_OK) != 0) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (raw.empty()) {
        return "[" + comm + "]";
    }
    std::replace(raw.begin(), raw.end(), '\0', ' ');
    return raw;
}

/// True when /proc/<pid>/environ holds the entry `entry` (NAME=VALUE) exactly. Reads at most
/// 4 MiB (an environment is bounded by ARG_MAX, a few MiB at most); false when unreadable
/// (another user's process, or one that is gone).
bool environ_has(int pid, std::string_view entry) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/environ", pid);
    std::string env = read_small(path, 4 << 20);
    for (size_t at = env.find(entry); at != std::string::npos; at = env.find(entry, at + 1)) {
        const bool starts = at == 0 || env[at - 1] == '\0';
        const size_t end = at + entry.size();
        if (starts && (end == env.size() || env[end] == '\0')) {
            return true;
        }
    }
    return false;
}

/// True when one of the open descriptors of `pid` is a link to `target` (readable for our own
/// uid only; false for a process that is gone).
bool holds_fd(int pid, std::string_view target) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR* dir = ::opendir(path);
    if (dir == nullptr) {
        return false;
    }
    bool held = false;
    char link[64 + sizeof(dirent::d_name)];
    char buf[512];
    while (dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') {
            continue;
        }
        std::snprintf(link, sizeof link, "/proc/%d/fd/%s", pid, entry->d_name);
        ssize_t n = ::readlink(link, buf, sizeof buf);
        if (n > 0 && static_cast<size_t>(n) == target.size() &&
            std::string_view(buf, static_cast<size_t>(n)) == target) {
            held = true;
            break;
        }
    }
    ::closedir(dir);
    return held;
}

/// Live processes started at or after `min_start`: members of `pgid` (when > 0), and, when
/// `marker` (NAME=VALUE) is set, the others whose environment carries it or that hold the
/// descriptor whose link reads `fd_mark`.
std::vector<ProcessInfo> scan(int pgid, std::uint64_t min_start, std::string_view marker = {},
                              std::string_view fd_mark = {}) {
    std::vector<ProcessInfo> found;
    if (pgid <= 0 && marker.empty()) {
        return found;
    }
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) {
        return found;
    }
    const int self = ::getpid();
    while (dirent* entry = ::readdir(proc)) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') {
            continue;
        }
        int pid = std::atoi(entry->d_name);
        StatFields f;
        if (pid == self || !read_stat(pid, f) || f.state == 'Z' || f.state == 'X' ||
            f.start < min_start) {
            continue;
        }
        const bool member = pgid > 0 && f.pgrp == pgid;
        if (!member && (marker.empty() || !environ_has(pid, marker)) &&
            (fd_mark.empty() || !holds_fd(pid, fd_mark))) {
            continue;
        }
        found.push_back({pid, command_line(pid, f.comm), f.start, member});
    }
    ::closedir(proc);
    std::sort(found.begin(), found.end(),
              [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; });
    return found;
}

std::string marker_of(const GroupToken& token) {
    return token.attempt_token.empty() ? std::string()
                                       : std::string(k_attempt_env) + "=" + token.attempt_token;
}

/// What /proc/<pid>/fd/<n> reads for a holder of the token's mark; "" without a token.
std::string fd_mark_of(const GroupToken& token) {
    return token.attempt_token.empty()
               ? std::string()
               : "/memfd:" + attempt_mark_name(token.attempt_token) + " (deleted)";
}

/// `sig` to one process, never to a pid reused since `p` was seen: a pidfd pins the process,
/// then its start time is checked again.
void signal_one(const ProcessInfo& p, int sig) {
    StatFields f;
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, p.pid, 0));
    if (fd < 0) {
        if (errno == ENOSYS && read_stat(p.pid, f) && f.start == p.start) {
            ::kill(p.pid, sig); // a kernel before 5.3: the check narrows the race, no more
        }
        return;
    }
    if (read_stat(p.pid, f) && f.start == p.start) {
        ::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0);
    }
    ::close(fd);
}

/// One pass over /proc for a journal's record of a group: the proof is checked per process.
Recorded scan_recorded(const GroupToken& token) {
    Recorded out;
    const std::string marker = marker_of(token);
    const std::string fd_mark = fd_mark_of(token);
    if (token.pgid <= 0 && marker.empty()) {
        return out;
    }
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) {
        return out;
    }
    const int self = ::getpid();
    while (dirent* entry = ::readdir(proc)) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') {
            continue;
        }
        const int pid = std::atoi(entry->d_name);
        StatFields f;
        if (pid == self || !read_stat(pid, f) || f.state == 'Z' || f.state == 'X') {
            continue;
        }
        const bool member = token.pgid > 0 && f.pgrp == token.pgid;
        if (!member && marker.empty()) {
            continue;
        }
        const bool proof = !marker.empty() && (environ_has(pid, marker) || holds_fd(pid, fd_mark));
        if (proof && f.start >= token.leader_start) {
            out.proven.push_back({pid, command_line(pid, f.comm), f.start, member});
        } else if (member) {
            out.unproven.push_back({pid, command_line(pid, f.comm), f.start, true});
        }
    }
    ::closedir(proc);
    auto by_pid = [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; };
    std::sort(out.proven.begin(), out.proven.end(), by_pid);
    std::sort(out.unproven.begin(), out.unproven.end(), by_pid);
    return out;
}

std::vector<ProcessInfo> proven_of(const GroupToken& token) {
    return recorded_survivors(token).proven;
}

/// Polls until the group is empty or `budget` is over (or, when `interruptible`, an interrupt
/// arrives). True when the group is empty.
bool wait_empty(const GroupToken& token, util::Millis budget, bool interruptible) {
    const auto end = Clock::now() + budget;
    auto step = std::chrono::milliseconds(20);
    while (!proven_of(token).empty()) {
        auto left = std::chrono::duration_cast<util::Millis>(end - Clock::now());
        if (left <= util::Millis(0)) {
            return false;
        }
        auto nap = std::min<util::Millis>(step, left);
        if (interruptible) {
            if (!sleep_unless_interrupted(nap)) {
                return false;
            }
        } else {
            std::this_thread::sleep_for(nap);
        }
        step = std::min(step * 2, std::chrono::milliseconds(100));
    }
    return true;
}

} // namespace

std::string boot_id() {
    std::string id = read_small("/proc/sys/kernel/random/boot_id", 128);
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) {
        id.pop_back();
    }
    return id;
}

std::string attempt_mark_name(std::string_view attempt_token) {
    std::string name = "rollback-attempt-";
    for (char c : attempt_token) {
        const bool plain = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                           (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || c == '.';
        name += plain ? c : '_';
    }
    return name.substr(0, 200); // memfd_create takes names up to 249 bytes
}

int open_attempt_mark(std::string_view attempt_token) {
    const std::string name = attempt_mark_name(attempt_token);
    const int fd = static_cast<int>(::syscall(SYS_memfd_create, name.c_str(), MFD_CLOEXEC));
    if (fd < 0) {
        return -1;
    }
    const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 100);
    if (high < 0) {
        return fd;
    }
    ::close(fd);
    return high;
}

GroupToken token_of(int pid) {
    GroupToken t;
    t.pgid = pid;
    t.boot_id = boot_id();
    StatFields f;
    if (read_stat(pid, f)) {
        t.leader_start = f.start;
    }
    return t;
}

std::vector<ProcessInfo> group_survivors(const GroupToken& token) {
    if (token.pgid <= 0 || token.boot_id.empty() || token.boot_id != boot_id()) {
        return {}; // another boot: every process of that group is gone
    }
    return scan(token.pgid, token.leader_start, marker_of(token), fd_mark_of(token));
}

std::vector<ProcessInfo> left_the_group(const GroupToken& token) {
    if (token.attempt_token.empty()) {
        return {};
    }
    std::vector<ProcessInfo> found = group_survivors(token);
    std::erase_if(found, [](const ProcessInfo& p) { return p.in_group; });
    return found;
}

void signal_survivors(const GroupToken& token, const std::vector<ProcessInfo>& found, int sig) {
    bool group = false;
    for (const auto& p : found) {
        if (p.in_group) {
            group = true;
        } else {
            signal_one(p, sig);
        }
    }
    // The group id cannot have been reused: a member was alive when `found` was read.
    if (group && token.pgid > 0) {
        ::kill(-token.pgid, sig);
    }
}

Recorded recorded_survivors(const GroupToken& token) {
    if (token.boot_id.empty() || token.boot_id != boot_id()) {
        return {}; // another boot: every process of that group is gone
    }
    return scan_recorded(token);
}

std::optional<std::chrono::system_clock::time_point> started_at(std::uint64_t start) {
    const long hz = ::sysconf(_SC_CLK_TCK);
    timespec real{};
    timespec boot{};
    if (hz <= 0 || start > (std::uint64_t{1} << 40) ||
        ::clock_gettime(CLOCK_REALTIME, &real) != 0 ||
        ::clock_gettime(CLOCK_BOOTTIME, &boot) != 0) {
        return std::nullopt;
    }
    using std::chrono::nanoseconds;
    using std::chrono::seconds;
    const auto since_boot = seconds(boot.tv_sec) + nanoseconds(boot.tv_nsec);
    const auto now = seconds(real.tv_sec) + nanoseconds(real.tv_nsec);
    // Bounded above (2^40 ticks: centuries), so this cannot overflow.
    const auto ticks = std::chrono::milliseconds(static_cast<std::int64_t>(start) * 1000 / hz);
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(now - since_boot + ticks));
}

std::vector<ProcessInfo> live_members(int pgid) {
    return scan(pgid, 0);
}

std::string_view to_string(Settled s) {
    switch (s) {
    case Settled::exited:
        return "exited";
    case Settled::terminated:
        return "terminated";
    case Settled::killed:
        return "killed";
    case Settled::remain:
        return "remain";
    }
    return "unknown";
}

Settlement settle_group(const GroupToken& token, util::Millis wait, util::Millis grace) {
    const auto start = Clock::now();
    Settlement s;
    auto stamp = [&] { s.waited = std::chrono::duration_cast<util::Millis>(Clock::now() - start); };
    // An interrupt cuts the wait short: ending the group is then what the person asked for.
    if (wait_empty(token, wait, true)) {
        s.how = Settled::exited;
        stamp();
        return s;
    }
    // Only what carries the attempt's proof now is signalled, one process at a time: read just
    // now, each pinned by a pidfd and its start time checked again before the signal.
    auto signal_proven = [&](int sig) {
        for (const auto& p : proven_of(token)) {
            signal_one(p, sig);
        }
    };
    signal_proven(SIGTERM);
    if (wait_empty(token, grace, false)) {
        s.how = Settled::terminated;
        stamp();
        return s;
    }
    signal_proven(SIGKILL);
    if (wait_empty(token, std::chrono::seconds(2), false)) {
        s.how = Settled::killed;
        stamp();
        return s;
    }
    s.how = Settled::remain;
    s.remaining = proven_of(token);
    stamp();
    return s;
}

} // namespace rollback::exec
