// SPDX-License-Identifier: MIT
#include "journal/reader.hpp"

#include "journal/line.hpp"
#include "journal/line_reader.hpp"
#include "journal/writer.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace rollback::journal {
namespace {

struct RawLine {
    std::string_view text; ///< without the newline
    size_t end = 0;        ///< offset just past its newline
};

/// Complete lines (each ended by '\n') and whether bytes follow the last newline.
struct Lines {
    std::vector<RawLine> complete;
    bool torn_tail = false;
};

Lines split_lines(std::string_view content) {
    Lines out;
    size_t pos = 0;
    while (pos < content.size()) {
        size_t nl = content.find('\n', pos);
        if (nl == std::string_view::npos) {
            out.torn_tail = true;
            break;
        }
        out.complete.push_back({content.substr(pos, nl - pos), nl + 1});
        pos = nl + 1;
    }
    return out;
}

std::optional<boost::json::object> parse_object(std::string_view text, std::string& why,
                                                boost::json::storage_ptr sp = {}) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(text, ec, std::move(sp), line_parse_options());
    if (ec) {
        why = "not valid JSON (" + ec.message() + ")";
        return std::nullopt;
    }
    if (!v.is_object()) {
        why = "not a JSON object";
        return std::nullopt;
    }
    return std::move(v.as_object());
}

/// A journal larger than this is refused rather than read into memory.
constexpr std::uint64_t k_max_journal_bytes = std::uint64_t{1} << 30;

/// An open journal file, closed when it goes.
class JournalFile {
  public:
    /// Opens `file` for reading: util::Error (exit 2) when it is missing, unreadable, not a
    /// regular file or larger than 1 GiB.
    explicit JournalFile(const fs::path& file) : m_file(file) {
        std::error_code ec;
        if (!fs::exists(file, ec)) {
            throw util::Error("journal " + file.string() + " does not exist",
                              util::ExitCode::invalid, "run 'rollback history' to list the runs");
        }
        // O_NONBLOCK: a FIFO put in a journal's place must not block the open.
        m_fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (m_fd < 0 || ::fstat(m_fd, &m_st) != 0) {
            const int err = errno;
            close();
            throw util::Error("cannot read journal " + file.string() + ": " + std::strerror(err),
                              util::ExitCode::invalid);
        }
        if (!S_ISREG(m_st.st_mode) ||
            static_cast<std::uint64_t>(m_st.st_size) > k_max_journal_bytes) {
            close();
            throw util::Error("cannot read journal " + file.string() +
                                  (S_ISDIR(m_st.st_mode)   ? ": it is a directory"
                                   : S_ISREG(m_st.st_mode) ? ": larger than 1 GiB"
                                                           : ": not a regular file (a FIFO, a "
                                                             "device or a socket)"),
                              util::ExitCode::invalid);
        }
    }
    ~JournalFile() { close(); }
    JournalFile(const JournalFile&) = delete;
    JournalFile& operator=(const JournalFile&) = delete;

    std::size_t size_hint() const { return static_cast<std::size_t>(m_st.st_size); }

    /// Reads up to `n` bytes into `to` (0 at end of file); `total` is what was read before, so
    /// a journal growing past 1 GiB while it is read is refused.
    std::size_t read(char* to, std::size_t n, std::uint64_t total) const {
        if (total > k_max_journal_bytes) {
            throw util::Error("cannot read journal " + m_file.string() + ": larger than 1 GiB",
                              util::ExitCode::invalid);
        }
        for (;;) {
            const ssize_t got = ::read(m_fd, to, n);
            if (got >= 0) {
                return static_cast<std::size_t>(got);
            }
            if (errno != EINTR) {
                throw util::Error("cannot read journal " + m_file.string() + ": " +
                                      std::strerror(errno),
                                  util::ExitCode::invalid);
            }
        }
    }

  private:
    void close() {
        if (m_fd >= 0) {
            ::close(m_fd);
            m_fd = -1;
        }
    }

    const fs::path& m_file;
    int m_fd = -1;
    struct stat m_st {};
};

std::string read_content(const fs::path& file) {
    const JournalFile in(file);
    // Sized once from fstat, read until end of file: a live run may append meanwhile, and a
    // long journal is not copied again and again as a stream buffer grows.
    std::string content;
    content.resize(in.size_hint() + 4096);
    size_t have = 0;
    for (;;) {
        if (have == content.size()) {
            content.resize(content.size() * 2);
        }
        const std::size_t n = in.read(content.data() + have, content.size() - have, have);
        if (n == 0) {
            break;
        }
        have += n;
    }
    content.resize(have);
    return content;
}

} // namespace

std::string Journal::run_id() const {
    if (const auto* h = std::get_if<Header>(&header.record)) {
        return h->run_id;
    }
    return {};
}

std::string_view Journal::line(std::size_t i) const {
    if (i >= spans.size()) {
        return {};
    }
    return std::string_view(text).substr(spans[i].first, spans[i].second);
}

boost::json::object Journal::object(std::size_t i) const {
    std::string why;
    auto o = parse_object(line(i), why);
    return o ? std::move(*o) : boost::json::object();
}

namespace {

std::string torn_warning(const fs::path& file) {
    return "journal " + file.string() +
           ": last record is incomplete (crash while writing?); ignored";
}

[[noreturn]] void throw_empty(const fs::path& file) {
    throw util::Error("journal " + file.string() + " is empty", util::ExitCode::invalid);
}

[[noreturn]] void throw_no_header(const fs::path& file) {
    throw util::Error("journal " + file.string() +
                          " has no complete header (crash while creating it?)",
                      util::ExitCode::invalid);
}

[[noreturn]] void throw_bad_line(const fs::path& file, std::size_t line_no,
                                 const std::string& why) {
    throw util::Error("journal " + file.string() + ":" + std::to_string(line_no) + ": " + why,
                      util::ExitCode::invalid,
                      "run 'rollback audit verify RUN_ID' to check the journal");
}

/// A journal whose whole text is at hand.
Journal parse_whole(std::string_view content, const fs::path& file, Keep keep,
                    const RecordSink* each) {
    if (content.empty()) {
        throw_empty(file);
    }
    Journal j;
    j.file = file;
    Lines lines = split_lines(content);
    if (lines.complete.empty()) {
        throw_no_header(file);
    }
    if (keep == Keep::records) {
        j.records.reserve(lines.complete.size() - 1);
        j.spans.reserve(lines.complete.size());
        j.text.reserve(content.size());
    }
    auto reader = std::make_unique<LineReader>(j, keep, each);
    for (size_t i = 0; i < lines.complete.size(); ++i) {
        const RawLine& l = lines.complete[i];
        if (std::string why = reader->take(l.text, l.end); !why.empty()) {
            bool last = i + 1 == lines.complete.size() && !lines.torn_tail;
            if (last && i > 0) {
                break;
            }
            throw_bad_line(file, i + 1, why);
        }
    }
    if (lines.torn_tail || j.lines < lines.complete.size()) {
        j.warnings.push_back(torn_warning(file));
    }
    return j;
}

/// A journal file read in chunks into one buffer reused chunk after chunk (only a line longer
/// than the buffer makes it grow; the text kept with Keep::records is copied line by line):
/// the same outcome as parse_whole() of the file's content — a bad line is a warning only when
/// nothing follows it.
Journal read_chunked(const fs::path& file, Keep keep, const RecordSink* each) {
    const JournalFile in(file);
    Journal j;
    j.file = file;
    if (keep == Keep::records) {
        j.text.reserve(in.size_hint()); // not zero-filled, unlike a string sized for a read
        // Every line has at least its seq, prev and hash (> 150 bytes): room for all records
        // at once, never moved as they come (the pages of what is not used are never touched).
        j.records.reserve(in.size_hint() / 128 + 1);
        j.spans.reserve(in.size_hint() / 128 + 2);
    }
    auto reader = std::make_unique<LineReader>(j, keep, each);
    std::size_t cap = std::min<std::size_t>(in.size_hint() + 1, std::size_t{256} * 1024);
    std::unique_ptr<char[]> buf(new char[cap]); // not zero-filled: every byte used is read
    std::size_t begin = 0;                      // the first byte of buf not yet cut into a line
    std::size_t have = 0;                       // bytes in buf
    std::uint64_t base = 0;                     // the journal's offset of buf[0]
    std::uint64_t total = 0;                    // bytes read
    std::size_t line_no = 0;                    // complete lines cut so far
    std::string bad; // why the last complete line is not a record ("" = it is)
    for (;;) {
        const std::size_t n = in.read(buf.get() + have, cap - have, total);
        total += n;
        have += n;
        for (;;) {
            const void* nl = std::memchr(buf.get() + begin, '\n', have - begin);
            if (nl == nullptr) {
                break;
            }
            if (!bad.empty()) {
                throw_bad_line(file, line_no, bad); // a line follows it: not the last
            }
            const auto at = static_cast<std::size_t>(static_cast<const char*>(nl) - buf.get());
            bad = reader->take(std::string_view(buf.get() + begin, at - begin), base + at + 1);
            ++line_no;
            if (!bad.empty() && line_no == 1) {
                throw_bad_line(file, line_no, bad);
            }
            begin = at + 1;
        }
        if (n == 0) {
            break;
        }
        // Keep the unfinished line: at the buffer's start, in a larger buffer when it fills it.
        if (begin > 0) {
            std::memmove(buf.get(), buf.get() + begin, have - begin);
            base += begin;
            have -= begin;
            begin = 0;
        }
        if (have == cap) {
            std::unique_ptr<char[]> larger(new char[cap * 2]);
            std::memcpy(larger.get(), buf.get(), have);
            buf = std::move(larger);
            cap *= 2;
        }
    }
    if (total == 0) {
        throw_empty(file);
    }
    if (line_no == 0) {
        throw_no_header(file);
    }
    const bool torn_tail = have > begin;
    if (!bad.empty() && torn_tail) {
        throw_bad_line(file, line_no, bad);
    }
    if (!bad.empty() || torn_tail) {
        j.warnings.push_back(torn_warning(file));
    }
    return j;
}

} // namespace

Journal read(const fs::path& file, const RecordSink* each) {
    return read_chunked(file, each != nullptr ? Keep::handed : Keep::records, each);
}

Journal read_chain(const fs::path& file) {
    return read_chunked(file, Keep::none, nullptr);
}

Journal parse(std::string_view content, const fs::path& file, const RecordSink* each) {
    if (each != nullptr) {
        return parse_whole(content, file, Keep::handed, each);
    }
    return parse_whole(content, file, Keep::records, nullptr);
}

std::optional<Entry> last_entry(const fs::path& file, std::size_t max_line) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    struct stat st {};
    std::string tail;
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
        const auto size = static_cast<std::size_t>(st.st_size);
        const std::size_t want =
            std::min(size, max_line + 2); // the line, its newline, the one before
        tail.resize(want);
        const ssize_t n = ::pread(fd, tail.data(), want, static_cast<off_t>(size - want));
        tail.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    }
    ::close(fd);
    // A torn last line (no newline yet) is not a record: the one before it is the last.
    const std::size_t end = tail.rfind('\n');
    if (end == std::string::npos || end == 0) {
        return std::nullopt;
    }
    const std::size_t nl = tail.rfind('\n', end - 1);
    if (nl == std::string::npos) {
        return std::nullopt; // the line does not fit in max_line, or it is the header
    }
    return parse_entry(std::string_view(tail).substr(nl + 1, end - nl - 1));
}

std::optional<Entry> parse_entry(std::string_view line) {
    std::string why;
    auto obj = parse_object(line, why);
    if (!obj) {
        return std::nullopt;
    }
    return read_entry(*obj);
}

Verification verify(const fs::path& file) {
    return verify_content(read_content(file), file);
}

Verification verify_content(std::string_view content, const fs::path& file) {
    Verification v;
    auto fail = [&](size_t line_no, std::string problem) {
        v.ok = false;
        v.bad_line = line_no;
        v.bad_seq = static_cast<std::int64_t>(line_no) - 1;
        v.problem = std::move(problem);
        return v;
    };
    if (content.empty()) {
        return fail(1, "the journal is empty");
    }
    Lines lines = split_lines(content);
    std::string prev(k_zero_hash);
    for (size_t i = 0; i < lines.complete.size(); ++i) {
        std::string_view text = lines.complete[i].text;
        size_t line_no = i + 1;
        std::string why;
        auto obj = parse_object(text, why);
        if (!obj) {
            // Bytes the writer hashed as they are were not changed: the line cannot be read,
            // which is not the same as a line someone altered.
            auto whole = line::split_hash(text);
            if (whole && line::hash_matches(*whole)) {
                v.unreadable = true;
                why += "; its hash matches: the line is as it was written, not changed";
            }
            return fail(line_no, why);
        }
        auto split = line::split_hash(text);
        if (!split) {
            return fail(line_no, "no \"hash\" field at the end of the line");
        }
        const line::Hashes hashes = line::hash_line(text, *split);
        if (!hashes.matches) {
            return fail(line_no, "hash mismatch: the record's bytes were changed");
        }
        const auto* seq = obj->if_contains("seq");
        if (seq == nullptr || !seq->is_number()) {
            return fail(line_no, "no \"seq\" field");
        }
        boost::system::error_code ec;
        auto got = seq->to_number<std::int64_t>(ec);
        if (ec || got != static_cast<std::int64_t>(i)) {
            return fail(line_no, "seq " + std::to_string(i) + " expected, found " +
                                     boost::json::serialize(*seq) +
                                     " (a record was deleted, inserted or moved)");
        }
        const auto* p = obj->if_contains("prev");
        if (p == nullptr || !p->is_string() || p->as_string() != prev) {
            return fail(line_no, "\"prev\" is not the SHA-256 of line " + std::to_string(i) +
                                     " (a record before it was changed, deleted or moved)");
        }
        if (i == 0) {
            if (std::string problem = header_problem(*obj, file); !problem.empty()) {
                return fail(line_no, problem);
            }
        }
        prev.assign(hashes.line, sizeof hashes.line);
        v.lines = line_no;
    }
    if (lines.torn_tail) {
        return fail(lines.complete.size() + 1,
                    "the last record is incomplete (crash while writing?)");
    }
    v.ok = true;
    return v;
}

std::string header_run_id(std::string_view content) {
    const auto end = content.find('\n');
    if (end == std::string_view::npos) {
        return "";
    }
    std::string why;
    const auto obj = parse_object(content.substr(0, end), why);
    if (!obj) {
        return "";
    }
    const auto* type = obj->if_contains("type");
    const auto* id = obj->if_contains("run_id");
    if (type == nullptr || !type->is_string() || type->as_string() != "header" || id == nullptr ||
        !id->is_string()) {
        return "";
    }
    return std::string(id->as_string());
}

} // namespace rollback::journal
