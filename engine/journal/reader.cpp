// SPDX-License-Identifier: MIT
#include "journal/reader.hpp"

#include "journal/line.hpp"
#include "journal/writer.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
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
    boost::json::value v = boost::json::parse(text, ec, std::move(sp));
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

std::string read_content(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        throw util::Error("journal " + file.string() + " does not exist", util::ExitCode::invalid,
                          "run 'rollback history' to list the runs");
    }
    // O_NONBLOCK: a FIFO put in a journal's place must not block the open.
    const int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
        const int err = errno;
        if (fd >= 0) {
            ::close(fd);
        }
        throw util::Error("cannot read journal " + file.string() + ": " + std::strerror(err),
                          util::ExitCode::invalid);
    }
    if (!S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) > k_max_journal_bytes) {
        ::close(fd);
        throw util::Error("cannot read journal " + file.string() +
                              (S_ISDIR(st.st_mode)   ? ": it is a directory"
                               : S_ISREG(st.st_mode) ? ": larger than 1 GiB"
                                                     : ": not a regular file (a FIFO, a device "
                                                       "or a socket)"),
                          util::ExitCode::invalid);
    }
    // Sized once from fstat, read until end of file: a live run may append meanwhile, and a
    // long journal is not copied again and again as a stream buffer grows.
    std::string content;
    content.resize(static_cast<size_t>(st.st_size) + 4096);
    size_t have = 0;
    for (;;) {
        if (have == content.size()) {
            if (have > k_max_journal_bytes) {
                ::close(fd);
                throw util::Error("cannot read journal " + file.string() + ": larger than 1 GiB",
                                  util::ExitCode::invalid);
            }
            content.resize(content.size() * 2);
        }
        const ssize_t n = ::read(fd, content.data() + have, content.size() - have);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            throw util::Error("cannot read journal " + file.string() + ": " + std::strerror(err),
                              util::ExitCode::invalid);
        }
        if (n == 0) {
            break;
        }
        have += static_cast<size_t>(n);
    }
    ::close(fd);
    content.resize(have);
    return content;
}

/// The header problem, or "" when the header is one this rollback reads.
std::string header_problem(const boost::json::object& h, const fs::path& file) {
    const auto* type = h.if_contains("type");
    const auto* format = h.if_contains("format");
    if (type == nullptr || !type->is_string() || type->as_string() != "header" ||
        format == nullptr || !format->is_string() || format->as_string() != k_format_name) {
        return "journal " + file.string() + " is not a rollback journal (line 1 is not its header)";
    }
    const auto* version = h.if_contains("version");
    if (version == nullptr || !version->is_int64()) {
        return "journal " + file.string() + " has no format version in its header";
    }
    if (version->as_int64() != k_format_version) {
        return "journal " + file.string() + " has format version " +
               std::to_string(version->as_int64()) + "; this rollback reads version " +
               std::to_string(k_format_version) +
               (version->as_int64() > k_format_version ? " — use a newer rollback" : "");
    }
    return {};
}

/// What breaks the hash chain at line `i` (0-based) whose text is `text` and object `obj`, given
/// the SHA-256 of the line before it (`prev`, updated to this line's); "" when it links.
std::string link_problem(std::string_view text, const boost::json::object& obj, size_t i,
                         std::string& prev) {
    auto split = line::split_hash(text);
    if (!split) {
        return "no \"hash\" field at the end of the line";
    }
    if (!line::hash_matches(*split)) {
        return "hash mismatch: the record's bytes were changed";
    }
    const auto* seq = obj.if_contains("seq");
    boost::system::error_code ec;
    if (seq == nullptr || !seq->is_number() ||
        seq->to_number<std::int64_t>(ec) != static_cast<std::int64_t>(i) || ec) {
        return "seq " + std::to_string(i) + " expected, found " +
               (seq != nullptr ? boost::json::serialize(*seq) : "none") +
               " (a record was deleted, inserted or moved)";
    }
    const auto* p = obj.if_contains("prev");
    if (p == nullptr || !p->is_string() || p->as_string() != prev) {
        return "\"prev\" is not the SHA-256 of line " + std::to_string(i) +
               " (a record before it was changed, deleted or moved)";
    }
    prev = util::sha256_hex(text);
    return {};
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

Journal parse_owned(std::string content, const fs::path& file, const RecordSink* each) {
    if (content.empty()) {
        throw util::Error("journal " + file.string() + " is empty", util::ExitCode::invalid);
    }
    Journal j;
    j.file = file;
    j.text = std::move(content);
    Lines lines = split_lines(j.text);
    const std::string torn =
        "journal " + file.string() + ": last record is incomplete (crash while writing?); ignored";
    if (lines.complete.empty()) {
        throw util::Error("journal " + file.string() +
                              " has no complete header (crash while creating it?)",
                          util::ExitCode::invalid);
    }
    if (each == nullptr) {
        j.records.reserve(lines.complete.size() - 1);
        j.spans.reserve(lines.complete.size());
    }
    // Each line is parsed once, into an arena reused line after line (the first 64 KiB on the
    // stack), and read into its typed record: no parsed document outlives its line, so a long
    // journal's reading touches little memory beyond the records it keeps.
    boost::json::parser parser;
    alignas(16) unsigned char arena[64 * 1024];
    std::string prev_hash(k_zero_hash);
    for (size_t i = 0; i < lines.complete.size(); ++i) {
        const RawLine& l = lines.complete[i];
        boost::json::monotonic_resource mr(arena, sizeof arena);
        parser.reset(boost::json::storage_ptr(&mr));
        boost::system::error_code ec;
        parser.write(l.text.data(), l.text.size(), ec);
        std::string why;
        if (ec) {
            why = "not valid JSON (" + ec.message() + ")";
        }
        boost::json::value v = why.empty() ? parser.release() : boost::json::value();
        if (why.empty() && !v.is_object()) {
            why = "not a JSON object";
        }
        if (!why.empty()) {
            parser.reset(); // what it built of the line goes while its arena is still there
            bool last = i + 1 == lines.complete.size() && !lines.torn_tail;
            if (last && i > 0) {
                j.warnings.push_back(torn);
                j.text.resize(each == nullptr ? j.valid_bytes : 0);
                return j;
            }
            throw util::Error("journal " + file.string() + ":" + std::to_string(i + 1) + ": " + why,
                              util::ExitCode::invalid,
                              "run 'rollback audit verify RUN_ID' to check the journal");
        }
        const boost::json::object& obj = v.as_object();
        if (j.chain_problem.empty()) {
            j.chain_problem = link_problem(l.text, obj, i, prev_hash);
            if (!j.chain_problem.empty()) {
                j.chain_problem = "line " + std::to_string(i + 1) + " (seq " + std::to_string(i) +
                                  "): " + j.chain_problem;
                j.warnings.push_back("journal " + file.string() +
                                     " is NOT intact: " + j.chain_problem +
                                     " — run 'rollback audit verify RUN_ID' to check it");
            }
        }
        if (i == 0) {
            // The version decides how to read everything after it, so it is checked first.
            if (std::string problem = header_problem(obj, file); !problem.empty()) {
                throw util::Error(problem, util::ExitCode::invalid);
            }
            j.header = read_entry(obj);
        } else if (each != nullptr) {
            (*each)(read_entry(obj));
        } else {
            j.records.push_back(read_entry(obj));
        }
        if (each == nullptr) {
            j.spans.emplace_back(static_cast<size_t>(l.text.data() - j.text.data()), l.text.size());
        }
        j.valid_bytes = l.end;
    }
    if (lines.torn_tail) {
        j.warnings.push_back(torn);
    }
    if (each != nullptr) {
        j.text.clear();
        j.text.shrink_to_fit();
    } else {
        j.text.resize(j.valid_bytes);
    }
    return j;
}

} // namespace

Journal read(const fs::path& file, const RecordSink* each) {
    return parse_owned(read_content(file), file, each);
}

Journal parse(std::string_view content, const fs::path& file, const RecordSink* each) {
    return parse_owned(std::string(content), file, each);
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
            return fail(line_no, why);
        }
        auto split = line::split_hash(text);
        if (!split) {
            return fail(line_no, "no \"hash\" field at the end of the line");
        }
        if (!line::hash_matches(*split)) {
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
        prev = util::sha256_hex(text);
        v.lines = line_no;
    }
    if (lines.torn_tail) {
        return fail(lines.complete.size() + 1,
                    "the last record is incomplete (crash while writing?)");
    }
    v.ok = true;
    return v;
}

} // namespace rollback::journal
