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

LogTailer::LogTailer(std::filesystem::path path, bool from_start)
    : m_path(std::move(path)), m_from_start(from_start) {}

LogTailer::~LogTailer() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

void LogTailer::drain(Poll& result, const std::function<void(std::string_view)>& on_line) {
    // One small buffer for the tailer's life: a monitor follows logs for weeks, and a large
    // buffer allocated per poll would stay in the heap (glibc raises its mmap threshold).
    if (m_buf.empty()) {
        m_buf.resize(64 * 1024);
    }
    std::vector<char>& buf = m_buf;
    for (;;) {
        ssize_t n = ::pread(m_fd, buf.data(), buf.size(), static_cast<off_t>(m_offset));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        std::string_view chunk(buf.data(), static_cast<size_t>(n));
        if (m_offset < k_head) {
            m_head.append(chunk.substr(0, k_head - m_offset));
        }
        m_offset += static_cast<uint64_t>(n);
        size_t start = 0;
        for (;;) {
            size_t nl = chunk.find('\n', start);
            if (m_skipping) {
                if (nl == std::string_view::npos) {
                    break; // still inside the overlong line
                }
                m_skipping = false;
                start = nl + 1;
                continue;
            }
            if (nl == std::string_view::npos) {
                if (m_partial.size() + (chunk.size() - start) > k_max_line) {
                    m_partial.clear();
                    m_skipping = true;
                    ++result.overlong;
                    ++result.lines;
                } else {
                    m_partial.append(chunk.substr(start));
                }
                break;
            }
            if (m_partial.size() + (nl - start) > k_max_line) {
                m_partial.clear();
                ++result.overlong;
            } else if (!m_partial.empty()) {
                m_partial.append(chunk.substr(start, nl - start));
                on_line(m_partial);
                m_partial.clear();
            } else {
                on_line(chunk.substr(start, nl - start));
            }
            ++result.lines;
            start = nl + 1;
        }
    }
}

bool LogTailer::same_head() const {
    if (m_head.empty()) {
        return true;
    }
    std::string now(m_head.size(), '\0');
    ssize_t n = ::pread(m_fd, now.data(), now.size(), 0);
    return n == static_cast<ssize_t>(now.size()) && now == m_head;
}

void LogTailer::restart_from_start(Poll& result) {
    m_offset = 0;
    m_partial.clear();
    m_skipping = false;
    m_head.clear();
    result.truncated = true;
}

LogTailer::Poll LogTailer::poll(const std::function<void(std::string_view)>& on_line) {
    Poll result;
    struct stat st {};
    if (::stat(m_path.c_str(), &st) != 0) {
        result.readable = false;
        result.error = m_path.string() + ": " + std::strerror(errno);
        if (m_fd >= 0) {
            drain(result, on_line); // rotated away, new file not there yet: finish the old one
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
    if (m_fd >= 0 && (st.st_ino != m_ino || st.st_dev != m_dev)) {
        drain(result, on_line);
        ::close(m_fd);
        m_fd = -1;
        m_partial.clear();
        result.rotated = true;
    }
    if (m_fd < 0) {
        m_fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
        if (m_fd < 0) {
            result.readable = false;
            result.error = m_path.string() + ": " + std::strerror(errno);
            return result;
        }
        struct stat fst {};
        ::fstat(m_fd, &fst);
        m_dev = fst.st_dev;
        m_ino = fst.st_ino;
        m_offset = (m_first && !m_from_start) ? static_cast<uint64_t>(fst.st_size) : 0;
        m_first = false;
        m_head.clear();
        m_partial.clear();
        m_skipping = false;
        if (m_offset > 0) {
            m_head.resize(std::min<uint64_t>(k_head, m_offset));
            if (::pread(m_fd, m_head.data(), m_head.size(), 0) !=
                static_cast<ssize_t>(m_head.size())) {
                m_head.clear();
            }
        }
    } else {
        struct stat fst {};
        ::fstat(m_fd, &fst);
        if (static_cast<uint64_t>(fst.st_size) < m_offset || !same_head()) {
            restart_from_start(result);
        }
    }
    drain(result, on_line);
    return result;
}

} // namespace rollback::sources
