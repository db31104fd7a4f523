// SPDX-License-Identifier: MIT
#pragma once

// Appending to a run's journal (the format is specified in docs/journal.md). Every append is on
// disk (fdatasync) before append() returns, so the caller may start the side effect it describes.

#include "util/time.hpp"

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace rollback::journal {

namespace fs = std::filesystem;

struct Journal;

inline constexpr std::string_view k_format_name = "rollback-journal";
inline constexpr int k_format_version = 1;
/// `prev` of the header line.
inline constexpr std::string_view k_zero_hash =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// When an appended record must be on disk: before append() returns, or together with the next
/// durable record (one fdatasync covers both). A record that only closes something (a step's
/// finish) can wait for the next record that opens a side effect.
enum class Durability { now, with_next };

/// Appending to one run's journal, wherever it is kept (Writer: a file; a state::Store may keep
/// it elsewhere). The contract is Writer's: a record is durable when append() returns (unless
/// Durability::with_next), an append that fails leaves no torn record.
class Appender {
  public:
    virtual ~Appender() = default;
    virtual std::uint64_t append(boost::json::object record,
                                 Durability durability = Durability::now) = 0;
    virtual void sync() = 0;
    /// The storage is full: stop starting side effects (see Writer::space_exhausted).
    virtual bool space_exhausted() const = 0;
    /// Appending is refused from now on (see Writer::broken).
    virtual bool broken() const = 0;
    /// Broken because this process lost the run lock (fencing: another process took the run
    /// over, or its lease expired), not because the storage failed.
    virtual bool fenced() const { return false; }
    /// Before a side effect that is journaled only after it happened (a hook, a COMMIT or a
    /// further request inside a step): throws what the next append would throw when this
    /// process lost the run lock, appending nothing; `before` names the effect for the message
    /// ("a hook", "attempt 3 of step \"drain\""). A store without fencing (a local file under
    /// flock) does nothing.
    virtual void check_fence(const std::string& before) { (void)before; }
    /// Where the journal is, for messages (a file path for Writer).
    virtual std::string location() const = 0;
};

class Writer final : public Appender {
  public:
    /// Creates `file` (and its parent directories; fails if it exists) and writes the header:
    /// {"seq":0,"time":...,"type":"header","format":"rollback-journal","version":1,
    ///  <header_fields in order>,"prev":<64 zeros>,"hash":...}. `header_fields` should hold
    /// "run_id" and "created". fsyncs the file and its directory. Throws util::Error (exit 7).
    static Writer create(const fs::path& file, const boost::json::object& header_fields,
                         const util::Clock* clock = nullptr);

    /// Opens an existing journal to continue it (resume): a torn last line is cut off (a warning
    /// is added to `warnings`), seq and the hash chain continue after the last complete record.
    /// Throws util::Error for a missing, empty, unreadable or unknown-version journal.
    static Writer open_existing(const fs::path& file, std::vector<std::string>* warnings = nullptr,
                                const util::Clock* clock = nullptr);
    /// open_existing() from `as_read`, what journal::read or read_chain found of `file` (its
    /// records kept or not), when nothing can have written to it since (the caller held the
    /// run lock while reading): the same checks, cut and warnings, without reading it again.
    static Writer continue_from(const fs::path& file, const Journal& as_read,
                                std::vector<std::string>* warnings = nullptr,
                                const util::Clock* clock = nullptr);

    Writer(Writer&& other) noexcept;
    Writer& operator=(Writer&& other) noexcept;
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    ~Writer() override;

    /// Appends one record: `record` (must hold "type") gets "seq" and "time" in front and "prev"
    /// and "hash" at the end; secrets in string values are masked before hashing; one write(2),
    /// then fdatasync. Returns the record's seq. Throws util::Error (exit 7, state_unwritable) on
    /// an I/O error. A write that fails (disk full, quota, read-only, file size limit) is cut off
    /// again, so the journal never keeps a torn record and a later append may succeed; a failed
    /// fdatasync leaves the writer refusing further appends. When the disk is full the space
    /// reserve (see below) is given up and the write tried once more.
    /// Test hook: env ROLLBACK_TEST_KILL_AT_RECORD=N makes the process SIGKILL itself right after
    /// record N is durable.
    /// With Durability::with_next the line is written (a crash of the process keeps it) but synced
    /// only by the next durable append, sync() or the destructor.
    std::uint64_t append(boost::json::object record,
                         Durability durability = Durability::now) override;

    /// Syncs lines appended with Durability::with_next. Throws util::Error (exit 7) on failure.
    void sync() override;

    /// True once the space reserve was given up for a record (the state directory's disk is
    /// full): the caller should stop starting side effects, keeping the freed space for the
    /// records that close the run.
    bool space_exhausted() const override { return m_space_exhausted; }
    /// True after a failure that left the file in an unknown state (a failed fdatasync, a torn
    /// record that could not be cut off): every further append throws.
    bool broken() const override { return m_broken; }
    std::string location() const override { return m_file.string(); }

    /// `<journal>.reserve`: a file of k_reserve_bytes created with the journal (best effort) and
    /// removed when the disk is full or the writer is destroyed.
    static fs::path reserve_path(const fs::path& journal_file);

    /// The seq the next append will get (1 after create).
    std::uint64_t next_seq() const { return m_next_seq; }
    /// SHA-256 (hex) of the last line written, i.e. the next record's "prev".
    const std::string& last_hash() const { return m_last_hash; }
    const fs::path& file() const { return m_file; }

  private:
    Writer(fs::path file, int fd, std::uint64_t next_seq, std::string last_hash,
           const util::Clock* clock);
    void write_line(std::string_view line, bool sync_now);
    /// One attempt to write `buf` at the end; on failure cuts the file back to m_size and returns
    /// the errno (0 on success).
    int try_write(const std::string& buf);
    void make_reserve();
    bool drop_reserve() noexcept;

    fs::path m_file;
    int m_fd = -1;
    std::uint64_t m_next_seq = 0;
    std::string m_last_hash;
    const util::Clock* m_clock = nullptr; ///< null = system clock
    long long m_kill_at = -1;             ///< ROLLBACK_TEST_KILL_AT_RECORD, -1 = off
    bool m_broken = false;
    bool m_unsynced = false;        ///< lines written since the last fdatasync
    std::uint64_t m_size = 0;       ///< bytes of complete records (the file's length)
    bool m_has_reserve = false;     ///< reserve_path(m_file) exists (we made it)
    bool m_space_exhausted = false; ///< the reserve was given up
};

/// Bytes kept free for the records that close a run when its disk fills up.
inline constexpr std::size_t k_reserve_bytes = 64 * 1024;

/// Serializes a record as a journal line (without newline): `fields` masked, "prev" and "hash"
/// added. Exposed for tests and verify; the writer uses it.
std::string make_line(boost::json::object fields, std::string_view prev_hash);

/// The header line a new journal starts with (Writer::create), written at `time`.
std::string header_line(const boost::json::object& header_fields, std::string_view time);
/// The line of `record` appended as `seq` at `time` after the line hashed `prev_hash`
/// (Writer::append): "seq" and "time" in front, the record's fields, "prev" and "hash".
std::string record_line(boost::json::object record, std::uint64_t seq, std::string_view time,
                        std::string_view prev_hash);

} // namespace rollback::journal
