// SPDX-License-Identifier: MIT
#include "sources/tailer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace rollback::sources {

LogTailer::LogTailer(std::filesystem::path path, bool from_start,
                     std::optional<int64_t> predecessor_since, int old_idle_polls)
    : m_path(std::move(path)), m_from_start(from_start),
      m_predecessor_since(from_start ? predecessor_since : std::nullopt),
      m_old_idle_polls(std::max(old_idle_polls, k_old_idle_polls)) {}

namespace {

/// logrotate's names for a file rotated from `path`: `<name>.1` (`.2`, ... when nothing is
/// compressed), and with `dateext` `<name>-<date>` whatever its `dateformat` — the default
/// `-%Y%m%d`, `-%Y-%m-%d`, `-%Y%m%d%H`, `.%Y%m%d`, `-%s` (break-it 44/02: a dashed date was not
/// one): a separator then digits, dashes, dots and underscores only. A compressed one (`.gz`,
/// `.xz`, ...) does not match: only the newest rotation stays uncompressed (`delaycompress`).
bool rotated_name(const std::string& name, const std::string& base) {
    if (name.size() <= base.size() + 1 || name.compare(0, base.size(), base) != 0) {
        return false;
    }
    const std::string_view rest = std::string_view(name).substr(base.size());
    if (rest[0] != '.' && rest[0] != '-' && rest[0] != '_') {
        return false;
    }
    bool digit = false;
    for (const char c : rest.substr(1)) {
        if (c >= '0' && c <= '9') {
            digit = true;
        } else if (c != '-' && c != '.' && c != '_') {
            return false;
        }
    }
    return digit;
}

} // namespace

void LogTailer::adopt_predecessor(Poll& result) {
    const int64_t since = *m_predecessor_since;
    m_predecessor_since.reset();
    struct stat cur {};
    const bool has_cur = ::stat(m_path.c_str(), &cur) == 0;
    const std::string base = m_path.filename().string();
    std::error_code ec;
    std::filesystem::path best;
    int64_t best_mtime = since - 1;
    dev_t best_dev = 0;
    ino_t best_ino = 0;
    for (std::filesystem::directory_iterator it(
             m_path.parent_path().empty() ? std::filesystem::path(".") : m_path.parent_path(), ec),
         end;
         !ec && it != end; it.increment(ec)) {
        if (!rotated_name(it->path().filename().string(), base)) {
            continue;
        }
        struct stat st {};
        if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
            (has_cur && st.st_ino == cur.st_ino && st.st_dev == cur.st_dev)) {
            continue; // a hard link to the file itself is not its predecessor
        }
        if (static_cast<int64_t>(st.st_mtime) > best_mtime) {
            best = it->path();
            best_mtime = st.st_mtime;
            best_dev = st.st_dev;
            best_ino = st.st_ino;
        }
    }
    if (best.empty()) {
        return;
    }
    const int fd = ::open(best.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat fst {};
    if (fd < 0 || ::fstat(fd, &fst) != 0 || fst.st_ino != best_ino || fst.st_dev != best_dev) {
        if (fd >= 0) {
            ::close(fd); // replaced between the look and the open: not adopted
        }
        return;
    }
    Reader r;
    r.fd = fd;
    r.dev = best_dev;
    r.ino = best_ino;
    m_old.push_back(std::move(r));
    result.predecessor = best;
    if (!has_cur) {
        // No file at the path yet (rotated without `create`, the server not reopened): the
        // predecessor is what the server writes to.
        m_renamed_away = true;
    }
}

LogTailer::~LogTailer() {
    if (m_cur.fd >= 0) {
        ::close(m_cur.fd);
    }
    for (const Reader& r : m_old) {
        ::close(r.fd);
    }
}

uint64_t LogTailer::drain(Reader& r, Poll& result,
                          const std::function<void(std::string_view)>& on_line, bool head) {
    // One small buffer for the tailer's life: a monitor follows logs for weeks, and a large
    // buffer allocated per poll would stay in the heap (glibc raises its mmap threshold).
    if (m_buf.empty()) {
        m_buf.resize(64 * 1024);
    }
    std::vector<char>& buf = m_buf;
    uint64_t total = 0;
    for (;;) {
        ssize_t n = ::pread(r.fd, buf.data(), buf.size(), static_cast<off_t>(r.offset));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return total;
        }
        std::string_view chunk(buf.data(), static_cast<size_t>(n));
        if (head && r.offset < k_head) {
            m_head.append(chunk.substr(0, k_head - r.offset));
        }
        r.offset += static_cast<uint64_t>(n);
        total += static_cast<uint64_t>(n);
        size_t start = 0;
        for (;;) {
            size_t nl = chunk.find('\n', start);
            if (r.skipping) {
                if (nl == std::string_view::npos) {
                    break; // still inside the overlong line
                }
                r.skipping = false;
                start = nl + 1;
                continue;
            }
            if (nl == std::string_view::npos) {
                if (r.partial.size() + (chunk.size() - start) > k_max_line) {
                    r.partial.clear();
                    r.skipping = true;
                    ++result.overlong;
                    ++result.lines;
                } else {
                    r.partial.append(chunk.substr(start));
                }
                break;
            }
            if (r.partial.size() + (nl - start) > k_max_line) {
                r.partial.clear();
                ++result.overlong;
            } else if (!r.partial.empty()) {
                r.partial.append(chunk.substr(start, nl - start));
                on_line(r.partial);
                r.partial.clear();
            } else {
                on_line(chunk.substr(start, nl - start));
            }
            ++result.lines;
            start = nl + 1;
        }
    }
}

void LogTailer::drain_old(Poll& result, const std::function<void(std::string_view)>& on_line) {
    for (auto it = m_old.begin(); it != m_old.end();) {
        if (drain(*it, result, on_line, false) > 0) {
            it->idle_polls = 0;
            result.from_old = true;
        } else if (++it->idle_polls >= m_old_idle_polls) {
            // The server reopened its log long enough ago: nothing more comes to the old file.
            // An incomplete last line stays incomplete, as a line the server never finished.
            ::close(it->fd);
            it = m_old.erase(it);
            continue;
        }
        ++it;
    }
}

void LogTailer::retire(Poll& result, const std::function<void(std::string_view)>& on_line) {
    // Another rotation while earlier renamed files are still followed: a server that never
    // reopens its log still writes to the first (break-it 44/01: closing it at the second
    // rotation read a healthy site as dead) — each is closed only once it stays idle.
    if (m_old.size() >= k_max_old) {
        drain(m_old.front(), result, on_line, false);
        ::close(m_old.front().fd);
        m_old.erase(m_old.begin());
    }
    drain(m_cur, result, on_line, true);
    m_cur.idle_polls = 0;
    m_cur.dev = m_dev;
    m_cur.ino = m_ino;
    m_old.push_back(std::move(m_cur));
    m_cur = Reader{};
    result.rotated = true;
}

bool LogTailer::same_head() const {
    if (m_head.empty()) {
        return true;
    }
    std::string now(m_head.size(), '\0');
    ssize_t n = ::pread(m_cur.fd, now.data(), now.size(), 0);
    return n == static_cast<ssize_t>(now.size()) && now == m_head;
}

void LogTailer::restart_from_start(Poll& result) {
    m_cur.offset = 0;
    m_cur.partial.clear();
    m_cur.skipping = false;
    m_head.clear();
    result.truncated = true;
}

LogTailer::Poll LogTailer::poll(const std::function<void(std::string_view)>& on_line) {
    Poll result;
    if (m_predecessor_since) {
        adopt_predecessor(result);
    }
    // The rotated file first: its lines are older than the new file's.
    drain_old(result, on_line);
    struct stat st {};
    if (::stat(m_path.c_str(), &st) != 0) {
        const int err = errno;
        struct stat fst {};
        if (m_cur.fd >= 0 && ::fstat(m_cur.fd, &fst) == 0 && fst.st_nlink > 0) {
            // Renamed away (logrotate without `create`): the server still writes to it until
            // it reopens its log; it is read by its descriptor as the rotated file.
            retire(result, on_line);
            m_renamed_away = true;
        } else if (m_cur.fd >= 0) {
            // Deleted: what it holds is read, and nothing more is waited for.
            drain(m_cur, result, on_line, true);
            ::close(m_cur.fd);
            m_cur = Reader{};
            m_renamed_away = false;
        }
        // Readable while the followed file, renamed away, is still read by its descriptor (the
        // server writes to it until it reopens); not when the followed file was deleted.
        if (m_old.empty() || !m_renamed_away) {
            result.readable = false;
            result.error = m_path.string() + ": " + std::strerror(err);
        }
        return result;
    }
    if (!S_ISREG(st.st_mode)) {
        result.readable = false;
        result.error = m_path.string() + ": not a regular file (" +
                       (S_ISFIFO(st.st_mode)  ? "a FIFO"
                        : S_ISDIR(st.st_mode) ? "a directory"
                                              : "a device or socket") +
                       "): an access log is followed as a file";
        return result;
    }
    if (m_cur.fd >= 0 && (st.st_ino != m_ino || st.st_dev != m_dev)) {
        retire(result, on_line);
    }
    if (m_cur.fd < 0) {
        m_cur.fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
        if (m_cur.fd < 0) {
            result.readable = false;
            result.error = m_path.string() + ": " + std::strerror(errno);
            return result;
        }
        struct stat fst {};
        ::fstat(m_cur.fd, &fst);
        const auto back = std::find_if(m_old.begin(), m_old.end(), [&](const Reader& r) {
            return r.ino == fst.st_ino && r.dev == fst.st_dev;
        });
        if (back != m_old.end()) {
            // A renamed file came back under its name: follow it where it was left.
            ::close(m_cur.fd);
            m_cur = std::move(*back);
            m_old.erase(back);
            m_dev = fst.st_dev;
            m_ino = fst.st_ino;
            m_renamed_away = false;
            drain(m_cur, result, on_line, true);
            return result;
        }
        m_dev = fst.st_dev;
        m_ino = fst.st_ino;
        m_renamed_away = false;
        m_cur.offset = (m_first && !m_from_start) ? static_cast<uint64_t>(fst.st_size) : 0;
        m_first = false;
        m_head.clear();
        if (m_cur.offset > 0) {
            m_head.resize(std::min<uint64_t>(k_head, m_cur.offset));
            if (::pread(m_cur.fd, m_head.data(), m_head.size(), 0) !=
                static_cast<ssize_t>(m_head.size())) {
                m_head.clear();
            }
        }
    } else {
        struct stat fst {};
        ::fstat(m_cur.fd, &fst);
        if (static_cast<uint64_t>(fst.st_size) < m_cur.offset || !same_head()) {
            restart_from_start(result);
        }
    }
    drain(m_cur, result, on_line, true);
    return result;
}

} // namespace rollback::sources
