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
#include <thread>
#include <unistd.h>

namespace rollback::exec {
namespace {

using Clock = std::chrono::steady_clock;

/// Reads up to `cap` bytes of a small /proc file; "" when it cannot be read.
std::string read_small(const char* path, size_t cap) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return {};
    }
    std::string out(cap, '\0');
    size_t got = 0;
    while (got < cap) {
        ssize_t n = ::read(fd, out.data() + got, cap - got);
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

/// Members of group `pgid` started at or after `min_start`, not zombies.
std::vector<ProcessInfo> scan(int pgid, std::uint64_t min_start) {
    std::vector<ProcessInfo> found;
    if (pgid <= 0) {
        return found;
    }
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) {
        return found;
    }
    while (dirent* entry = ::readdir(proc)) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') {
            continue;
        }
        int pid = std::atoi(entry->d_name);
        StatFields f;
        if (!read_stat(pid, f) || f.pgrp != pgid || f.state == 'Z' || f.state == 'X' ||
            f.start < min_start) {
            continue;
        }
        found.push_back({pid, command_line(pid, f.comm)});
    }
    ::closedir(proc);
    std::sort(found.begin(), found.end(),
              [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; });
    return found;
}

/// Polls until the group is empty or `budget` is over (or, when `interruptible`, an interrupt
/// arrives). True when the group is empty.
bool wait_empty(const GroupToken& token, util::Millis budget, bool interruptible) {
    const auto end = Clock::now() + budget;
    auto step = std::chrono::milliseconds(20);
    while (!group_survivors(token).empty()) {
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
    return scan(token.pgid, token.leader_start);
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
    // Only signal a group that is still the one the token names (checked just above; the pgid
    // cannot be reused while any member lives).
    ::kill(-token.pgid, SIGTERM);
    if (wait_empty(token, grace, false)) {
        s.how = Settled::terminated;
        stamp();
        return s;
    }
    ::kill(-token.pgid, SIGKILL);
    if (wait_empty(token, std::chrono::seconds(2), false)) {
        s.how = Settled::killed;
        stamp();
        return s;
    }
    s.how = Settled::remain;
    s.remaining = group_survivors(token);
    stamp();
    return s;
}

} // namespace rollback::exec
