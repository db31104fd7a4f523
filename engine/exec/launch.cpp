// SPDX-License-Identifier: MIT
#include "exec/launch.hpp"

#include "util/files.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ; // POSIX: declared by no C++ header

namespace rollback::exec {

namespace fs = std::filesystem;

namespace {
std::string describe_errno(int err) {
    return std::strerror(err);
}
} // namespace

fs::path resolve_program(const Command& cmd, std::string& error) {
    if (cmd.argv.empty() || cmd.argv[0].empty()) {
        error = "cannot execute an empty command";
        return {};
    }
    const std::string& name = cmd.argv[0];
    if (name.find('/') == std::string::npos) {
        fs::path found = util::find_program(name);
        if (found.empty()) {
            error = "cannot execute '" + name + "': No such file or directory (not found in PATH)";
            return {};
        }
        return fs::absolute(found);
    }
    // Like a shell's `cd DIR && ./prog`: a relative path is relative to the child's directory.
    fs::path path = name;
    if (path.is_relative() && !cmd.cwd.empty()) {
        path = fs::path(cmd.cwd) / path;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        error = "cannot execute '" + name + "': " + describe_errno(errno);
        return {};
    }
    if (!S_ISREG(st.st_mode) || ::access(path.c_str(), X_OK) != 0) {
        error = "cannot execute '" + name +
                "': " + describe_errno(S_ISDIR(st.st_mode) ? EISDIR : EACCES);
        return {};
    }
    return fs::absolute(path);
}

std::string check_cwd(const std::string& cwd) {
    if (cwd.empty()) {
        return {};
    }
    struct stat st {};
    int err = 0;
    if (::stat(cwd.c_str(), &st) != 0) {
        err = errno;
    } else if (!S_ISDIR(st.st_mode)) {
        err = ENOTDIR;
    } else if (::access(cwd.c_str(), X_OK) != 0) {
        err = errno;
    }
    return err == 0 ? std::string()
                    : "cannot change directory to '" + cwd + "': " + describe_errno(err);
}

Environment::Environment(const std::map<std::string, std::string>& overrides) {
    if (overrides.empty()) {
        return;
    }
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string_view kv(*e);
        std::string key(kv.substr(0, kv.find('=')));
        if (overrides.find(key) == overrides.end()) {
            pointers.push_back(*e);
        }
    }
    storage.reserve(overrides.size());
    for (const auto& [key, value] : overrides) {
        storage.push_back(key + "=" + value);
        pointers.push_back(storage.back().c_str());
    }
    pointers.push_back(nullptr);
}

bool exited_unreaped(int pid) {
    siginfo_t info{};
    return pid > 0 &&
           ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == pid;
}

bool group_has_live_member(int pgid) {
    // kill(-pgid, 0) alone counts zombies, and an init that reaps orphans slowly (or not at all,
    // when the engine is PID 1 of a container) would keep a finished group "alive".
    if (::kill(-pgid, 0) != 0) {
        return errno == EPERM; // members we may not signal are still members
    }
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) {
        return true;
    }
    bool live = false;
    char path[sizeof(dirent::d_name) + 16];
    char stat[512];
    while (dirent* entry = ::readdir(proc)) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') {
            continue;
        }
        std::snprintf(path, sizeof path, "/proc/%s/stat", entry->d_name);
        int fd = ::open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        ssize_t n = ::read(fd, stat, sizeof stat - 1);
        ::close(fd);
        if (n <= 0) {
            continue;
        }
        stat[n] = '\0';
        // "pid (comm) S ppid pgrp ..."; comm may contain ") ", so parse from the last ')'.
        const char* close = std::strrchr(stat, ')');
        char state = 0;
        int ppid = 0;
        int pgrp = 0;
        if (close != nullptr && std::sscanf(close + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 &&
            pgrp == pgid && state != 'Z' && state != 'X') {
            live = true;
            break;
        }
    }
    ::closedir(proc);
    return live;
}

void decode_ending(Outcome& o, int status, const std::string& wait_error, int exec_errno,
                   const std::string& program) {
    if (!wait_error.empty()) {
        o.ending = Ending::signaled;
        o.error = wait_error;
    } else if (WIFEXITED(status)) {
        o.ending = Ending::exited;
        o.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        o.ending = Ending::signaled;
        o.signal = WTERMSIG(status);
    }
    if (exec_errno != 0) {
        o.ending = Ending::failed_to_start;
        o.exit_code = -1;
        o.error = "cannot execute '" + program + "': " + std::strerror(exec_errno);
    }
}

std::string_view to_string(Ending e) {
    switch (e) {
    case Ending::exited:
        return "exited";
    case Ending::signaled:
        return "signaled";
    case Ending::timed_out:
        return "timed_out";
    case Ending::interrupted:
        return "interrupted";
    case Ending::failed_to_start:
        return "failed_to_start";
    }
    return "unknown";
}

} // namespace rollback::exec
