// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace rollback::sources {

/// Follows a growing log file like `tail -F`: across rotation (a new file at the path, or none
/// yet: the renamed old file is still read by its open descriptor — a server writes to it until
/// it reopens its log — each poll before the new one, until it has grown by nothing for
/// `old_idle_polls` polls in a row (at most k_max_old renamed files are followed: a server that
/// never reopens writes to the first one through every later rotation); the new file from its
/// start) and
/// truncation (logrotate's copytruncate: the file got smaller than what was read, or its first
/// bytes are no longer the ones read — truncated and written again between two polls: read again
/// from its start). Only complete lines are delivered, each at most k_max_line bytes: a longer one
/// (a run of NUL bytes after a power loss) is skipped to its newline and counted, so memory stays
/// bounded. A path that is not a regular file (a FIFO, a device) is never opened: reading it could
/// block or never end.
///
/// A tailer that reads from the start may also adopt the file's predecessor at its first poll:
/// the newest uncompressed file rotated from it (`<path>.1`, or logrotate's `dateext` name
/// `<path>-<digits>`) last written at or after `predecessor_since` — read first, from its start,
/// then followed as a rotated file (a server may still write to it: logrotate without a reopen
/// signal). A monitor started just after a rotation so sees the last hour, and the lines its
/// server still writes to the renamed file.
class LogTailer {
  public:
    /// `from_start`: read what the file already holds on the first poll; otherwise start at its
    /// end. `predecessor_since` (s since the epoch; with `from_start` only): adopt the
    /// predecessor last modified at or after it.
    /// `old_idle_polls`: a renamed file is closed after that many polls in a row found nothing
    /// new in it (at least k_old_idle_polls; a caller that allows lines to come late keeps it
    /// open for that long).
    explicit LogTailer(std::filesystem::path path, bool from_start = false,
                       std::optional<int64_t> predecessor_since = std::nullopt,
                       int old_idle_polls = k_old_idle_polls);
    ~LogTailer();
    LogTailer(const LogTailer&) = delete;
    LogTailer& operator=(const LogTailer&) = delete;

    struct Poll {
        bool readable = true; ///< false: the file cannot be opened now (no data, not no traffic)
        std::string error;    ///< why, when not readable
        uint64_t lines = 0;
        uint64_t overlong = 0; ///< lines longer than k_max_line, skipped (counted in `lines` too)
        bool rotated = false, truncated = false;
        /// Lines came from the rotated file's descriptor at this poll (its path may be gone).
        bool from_old = false;
        /// The predecessor adopted at the first poll (empty: none).
        std::filesystem::path predecessor;
    };
    static constexpr size_t k_max_line = 64 * 1024;
    /// A rotated file is closed after at least this many polls in a row that found nothing new
    /// in it.
    static constexpr int k_old_idle_polls = 3;
    /// The renamed files followed at once; at another rotation the oldest is read to its end
    /// and closed.
    static constexpr size_t k_max_old = 8;
    /// Delivers every complete line appended since the last poll (without the newline).
    Poll poll(const std::function<void(std::string_view)>& on_line);
    /// The followed file (device, inode) and how far it was read, once opened.
    struct Identity {
        uint64_t dev = 0, ino = 0, offset = 0;
    };
    std::optional<Identity> identity() const {
        if (m_cur.fd < 0) {
            return std::nullopt;
        }
        return Identity{static_cast<uint64_t>(m_dev), static_cast<uint64_t>(m_ino), m_cur.offset};
    }

  private:
    /// One open file being read: its descriptor, how far it was read, the incomplete last line.
    struct Reader {
        int fd = -1;
        uint64_t offset = 0;
        std::string partial;
        bool skipping = false; ///< inside an overlong line: dropping bytes up to its newline
        int idle_polls = 0;    ///< the rotated file: polls in a row that found nothing new
        dev_t dev = 0;         ///< the file's identity (a renamed file may come back)
        ino_t ino = 0;
    };
    /// Delivers the complete lines appended to `r`; returns the bytes read. `head`: keep the
    /// file's first bytes (the followed file, for copytruncate).
    uint64_t drain(Reader& r, Poll& result, const std::function<void(std::string_view)>& on_line,
                   bool head);
    /// Reads the rotated files (oldest first) and closes each once it stays idle.
    void drain_old(Poll& result, const std::function<void(std::string_view)>& on_line);
    /// The followed file was rotated: it becomes the newest rotated file (beyond k_max_old, the
    /// oldest is read to its end and closed).
    void retire(Poll& result, const std::function<void(std::string_view)>& on_line);
    /// The first poll: opens the predecessor (if any) as the rotated file.
    void adopt_predecessor(Poll& result);
    /// True when the file's first bytes are still those read from it (m_head).
    bool same_head() const;
    void restart_from_start(Poll& result);
    std::filesystem::path m_path;
    bool m_from_start;
    bool m_first = true;
    std::optional<int64_t> m_predecessor_since; ///< reset at the first poll
    Reader m_cur;
    std::vector<Reader> m_old; ///< renamed files still followed, oldest first
    int m_old_idle_polls;
    bool m_renamed_away = false; ///< the path is missing: the followed file was renamed (m_old)
    dev_t m_dev = 0;
    ino_t m_ino = 0;
    std::string m_head; ///< the file's first bytes as read (at most k_head), for copytruncate
    static constexpr size_t k_head = 256;
    std::vector<char> m_buf;
};

} // namespace rollback::sources
