// SPDX-License-Identifier: MIT
#include "util/files.hpp"

#include "util/canonical_path.hpp"

#include "util/error.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace rollback::util {
namespace {

[[noreturn]] void fail(const std::string& what, const fs::path& p) {
    throw Error(what + " " + p.string() + ": " + std::strerror(errno), ExitCode::run_failed);
}

} // namespace

std::string temp_suffix() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::to_string(::getpid()) + "." + std::to_string(rng() % 1000000000);
}

void close_on_exec(int fd) {
    const int flags = fd >= 0 ? ::fcntl(fd, F_GETFD) : -1;
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
        ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
}

void fsync_directory(const fs::path& dir) {
    int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

void write_file_atomic(const fs::path& path, std::string_view content,
                       const AtomicWriteOptions& options) {
    struct stat existing {};
    const bool had = options.keep_mode && ::stat(path.c_str(), &existing) == 0;
    fs::path tmp = path;
    tmp += ".tmp." + temp_suffix();
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    options.keep_mode ? 0600 : options.mode);
    if (fd < 0) {
        fail("cannot create", tmp);
    }
    auto give_up = [&](const char* what) {
        const int saved = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        errno = saved;
        fail(what, tmp);
    };
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            give_up("cannot write");
        }
        done += static_cast<size_t>(n);
    }
    if (options.keep_mode) {
        if (had && ::geteuid() == 0) {
            // Only root can give the file to its owner; others keep their own ownership.
            (void)::fchown(fd, existing.st_uid, existing.st_gid);
        }
        if (::fchmod(fd, (had ? existing.st_mode : options.mode) & 07777) != 0) {
            give_up("cannot set the mode of");
        }
    }
    if (::fsync(fd) != 0) {
        give_up("cannot sync");
    }
    if (::close(fd) != 0) {
        ::unlink(tmp.c_str());
        fail("cannot sync", tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int saved = errno;
        ::unlink(tmp.c_str());
        errno = saved;
        fail("cannot rename onto", path);
    }
    fsync_directory(path.parent_path());
}

std::string read_file(const fs::path& path) {
    // O_NONBLOCK and fstat first: a state file replaced by a FIFO, a link to /dev/zero or a
    // directory is refused at once instead of hanging or filling memory.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
        const int err = errno;
        if (fd >= 0) {
            ::close(fd);
        }
        errno = err;
        fail("cannot read", path);
    }
    ::close(fd);
    if (!S_ISREG(st.st_mode)) {
        throw Error("cannot read " + path.string() +
                        (S_ISDIR(st.st_mode)
                             ? ": it is a directory"
                             : ": not a regular file (a FIFO, a device or a socket)"),
                    ExitCode::invalid);
    }
    return read_input_file(path, k_max_state_bytes);
}

std::vector<DirectoryFile> read_directory_files(const fs::path& dir, std::string_view extension,
                                                std::vector<std::string>& skipped) {
    std::vector<DirectoryFile> out;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
        if (ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
            skipped.push_back("cannot list " + dir.string() + ": " + ec.message());
        }
        return out;
    }
    std::vector<fs::path> names;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        const fs::path& p = it->path();
        const std::string name = p.filename().string();
        if (name.size() <= extension.size() ||
            name.compare(name.size() - extension.size(), extension.size(), extension) != 0) {
            continue;
        }
        std::error_code dec;
        if (it->is_directory(dec)) {
            continue;
        }
        names.push_back(p);
    }
    if (ec) { // readdir failed part-way: what was listed is still read
        skipped.push_back("cannot list all of " + dir.string() + ": " + ec.message());
    }
    std::sort(names.begin(), names.end());
    for (auto& p : names) {
        try {
            std::string text = read_file(p);
            out.push_back({std::move(p), std::move(text)});
        } catch (const Error& e) {
            std::error_code lec;
            if (fs::exists(fs::symlink_status(p, lec))) { // not removed since it was listed
                skipped.push_back(e.what());
            }
        }
    }
    return out;
}

void require_regular_file(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        throw Error("cannot read " + path.string() + ": " + std::strerror(errno),
                    ExitCode::invalid);
    }
    if (S_ISDIR(st.st_mode)) {
        throw Error("cannot read " + path.string() + ": it is a directory", ExitCode::invalid);
    }
    if (!S_ISREG(st.st_mode)) {
        throw Error("cannot read " + path.string() +
                        ": not a regular file (a FIFO, a device or a socket)",
                    ExitCode::invalid);
    }
}

std::string read_input_file(const fs::path& path, size_t max_bytes) {
    // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        throw Error("cannot read " + path.string() + ": " + std::strerror(errno),
                    ExitCode::invalid);
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        throw Error("cannot read " + path.string() + ": " + std::strerror(errno),
                    ExitCode::invalid);
    }
    if (S_ISDIR(st.st_mode)) {
        throw Error("cannot read " + path.string() + ": it is a directory", ExitCode::invalid);
    }
    if (!S_ISREG(st.st_mode)) {
        throw Error("cannot read " + path.string() +
                        ": not a regular file (a FIFO, a device or a socket)",
                    ExitCode::invalid);
    }
    const auto too_large = [&] {
        return Error("cannot read " + path.string() + ": larger than " + std::to_string(max_bytes) +
                         " bytes",
                     ExitCode::invalid);
    };
    if (static_cast<uint64_t>(st.st_size) > max_bytes) {
        throw too_large();
    }
    std::string out;
    out.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    for (;;) {
        if (done == out.size()) {
            if (out.size() > max_bytes) {
                throw too_large(); // grew while being read
            }
            out.resize(std::min(max_bytes + 1, out.size() + 65536));
            if (done == out.size()) {
                break;
            }
        }
        const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw Error("cannot read " + path.string() + ": " + std::strerror(errno),
                        ExitCode::invalid);
        }
        if (n == 0) {
            break;
        }
        done += static_cast<size_t>(n);
    }
    if (done > max_bytes) {
        throw too_large();
    }
    out.resize(done);
    return out;
}

bool append_line(const fs::path& path, std::string_view line) {
    std::ofstream out(path, std::ios::app);
    out << line << '\n';
    return static_cast<bool>(out.flush());
}

bool is_executable_file(const fs::path& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
}

fs::path find_program(const std::string& program) {
    if (program.empty()) {
        return {};
    }
    if (program.find('/') != std::string::npos) {
        return is_executable_file(program) ? fs::path(program) : fs::path();
    }
    const char* path_env = std::getenv("PATH");
    std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
    for (const auto& dir : split(path, ':')) {
        fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
        if (is_executable_file(candidate)) {
            return candidate;
        }
    }
    return {};
}

fs::path canonical_path(const fs::path& p) {
    std::error_code ec;
    fs::path abs = fs::absolute(p, ec);
    if (ec) {
        abs = p;
    }
    fs::path out = fs::weakly_canonical(abs, ec);
    if (ec) {
        out = abs.lexically_normal();
    }
    if (!out.has_filename() && out.has_parent_path() && out != out.root_path()) {
        out = out.parent_path(); // "st/" is "st"
    }
    return out;
}

} // namespace rollback::util
