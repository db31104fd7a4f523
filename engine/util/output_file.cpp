// SPDX-License-Identifier: MIT
#include "util/output_file.hpp"

#include "util/error.hpp"
#include "util/files.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rollback::util {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void refuse(const fs::path& path, const std::string& why, const std::string& hint) {
    throw Error("cannot write " + path.string() + ": " + why, ExitCode::invalid, hint);
}

// The first bytes of the regular file at `path` (opened without following a link: lstat said
// it is no link, and a link put there since is not read through).
std::string head_of(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        refuse(path, std::string("it cannot be read: ") + std::strerror(errno),
               "name a file you may read and write");
    }
    std::string head(k_output_head_bytes, '\0');
    size_t got = 0;
    while (got < head.size()) {
        const ssize_t n = ::read(fd, head.data() + got, head.size() - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += static_cast<size_t>(n);
    }
    ::close(fd);
    head.resize(got);
    return head;
}

} // namespace

void write_output_file(const fs::path& path, std::string_view content, const OutputRule& rule) {
    const std::string to_stdout = "or -o - to write " + rule.what + " to standard output";
    // What is at the path itself: the rename would replace it, whatever it is.
    struct stat st {};
    const bool exists = ::lstat(path.c_str(), &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) {
        refuse(path,
               S_ISDIR(st.st_mode)   ? "it is a directory"
               : S_ISLNK(st.st_mode) ? "it is a symbolic link (name the file itself)"
                                     : "not a regular file (a FIFO, a device or a socket): it "
                                       "would be replaced, not written to",
               "name a regular file, " + to_stdout);
    }
    // Where it is: its directory as the kernel resolves it (symlinks, `..`), and its name.
    std::error_code ec;
    const fs::path absolute = fs::absolute(path, ec);
    const fs::path where = fs::weakly_canonical(absolute.parent_path(), ec) / absolute.filename();
    for (const auto& [dir, why] : rule.protected_dirs) {
        if (dir.empty()) {
            continue;
        }
        const fs::path protected_dir = fs::weakly_canonical(fs::absolute(dir, ec), ec);
        const fs::path rel = where.lexically_relative(protected_dir);
        if (!rel.empty() && *rel.begin() != "..") {
            refuse(path, "it is in " + why, "name a file outside it, " + to_stdout);
        }
    }
    if (exists && st.st_size > 0) {
        if (!rule.replaceable || !rule.replaceable(head_of(path))) {
            refuse(path, "it exists and is not " + rule.kind,
                   "remove it first, or name another file, " + to_stdout);
        }
    }
    try {
        write_file_atomic(path, content);
    } catch (const std::exception& e) {
        throw Error("cannot write " + rule.what + ": " + e.what(), ExitCode::invalid,
                    "name a file in a writable directory, " + to_stdout);
    }
}

} // namespace rollback::util
