// SPDX-License-Identifier: MIT
#include "journal/writer.hpp"

#include "journal/line.hpp"
#include "journal/reader.hpp"
#include "util/encode.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"
#include "util/sha256.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rollback::journal {
namespace {

// Every I/O failure of the journal is the state directory refusing to be written (exit 7): the
// message names the journal and the kernel's reason; what to do is the caller's to say.
[[noreturn]] void io_error(const std::string& what, const fs::path& file) {
    throw util::Error(what + " journal " + file.string() + ": " + std::strerror(errno),
                      util::ExitCode::state_unwritable,
                      "free space or fix the permissions of " + file.parent_path().string());
}

bool out_of_space(int err) {
    return err == ENOSPC || err == EDQUOT;
}

bool is_reserved(std::string_view key) {
    return key == "seq" || key == "time" || key == "prev" || key == "hash";
}

void mask_strings(boost::json::value& v) {
    if (auto* s = v.if_string()) {
        std::string masked = util::mask_secrets(*s);
        if (masked.size() != s->size() || std::string_view(*s) != masked) {
            *s = masked;
        }
        if (!util::is_valid_utf8(*s)) {
            *s = util::valid_utf8(*s); // a line every JSON reader reads (docs/journal.md)
        }
    } else if (auto* o = v.if_object()) {
        for (auto& kv : *o) {
            mask_strings(kv.value());
        }
    } else if (auto* a = v.if_array()) {
        for (auto& e : *a) {
            mask_strings(e);
        }
    }
}

long long kill_at_from_env() {
    const char* env = std::getenv("ROLLBACK_TEST_KILL_AT_RECORD");
    if (env == nullptr || *env == '\0') {
        return -1;
    }
    char* end = nullptr;
    long long n = std::strtoll(env, &end, 10);
    return (end != nullptr && *end == '\0' && n >= 0) ? n : -1;
}

std::string now_text(const util::Clock* clock) {
    return util::format_time(clock ? clock->now() : std::chrono::system_clock::now());
}

} // namespace

std::string make_line(boost::json::object fields, std::string_view prev_hash) {
    for (auto& kv : fields) {
        mask_strings(kv.value());
    }
    fields["prev"] = prev_hash;
    boost::json::value whole(std::move(fields));
    util::make_valid_utf8(whole); // the keys (a variable's, a label's name) too
    fields = std::move(whole.as_object());
    // The hash covers the line as it would look without its own hash field, so verify can
    // recompute it from the bytes alone; the field itself is appended textually at the end.
    std::string hashed = boost::json::serialize(fields);
    std::string hash = util::sha256_hex(hashed);
    std::string out;
    out.reserve(hashed.size() + line::k_hash_suffix_size);
    out.append(hashed, 0, hashed.size() - 1);
    out.append(line::k_hash_key);
    out.append(hash);
    out.append("\"}");
    return out;
}

Writer::Writer(fs::path file, int fd, std::uint64_t next_seq, std::string last_hash,
               const util::Clock* clock)
    : m_file(std::move(file)), m_fd(fd), m_next_seq(next_seq), m_last_hash(std::move(last_hash)),
      m_clock(clock), m_kill_at(kill_at_from_env()) {}

Writer::Writer(Writer&& other) noexcept
    : m_file(std::move(other.m_file)), m_fd(other.m_fd), m_next_seq(other.m_next_seq),
      m_last_hash(std::move(other.m_last_hash)), m_clock(other.m_clock), m_kill_at(other.m_kill_at),
      m_broken(other.m_broken), m_unsynced(other.m_unsynced), m_size(other.m_size),
      m_has_reserve(other.m_has_reserve), m_space_exhausted(other.m_space_exhausted) {
    other.m_fd = -1;
    other.m_has_reserve = false;
}

Writer& Writer::operator=(Writer&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
        drop_reserve();
        m_file = std::move(other.m_file);
        m_fd = other.m_fd;
        m_next_seq = other.m_next_seq;
        m_last_hash = std::move(other.m_last_hash);
        m_clock = other.m_clock;
        m_kill_at = other.m_kill_at;
        m_unsynced = other.m_unsynced;
        m_broken = other.m_broken;
        m_size = other.m_size;
        m_has_reserve = other.m_has_reserve;
        m_space_exhausted = other.m_space_exhausted;
        other.m_fd = -1;
        other.m_has_reserve = false;
    }
    return *this;
}

Writer::~Writer() {
    if (m_fd >= 0) {
        if (m_unsynced && !m_broken) {
            ::fdatasync(m_fd); // best effort: a destructor cannot report
        }
        ::close(m_fd);
    }
    drop_reserve();
}

fs::path Writer::reserve_path(const fs::path& journal_file) {
    fs::path p = journal_file;
    p += ".reserve";
    return p;
}

void Writer::make_reserve() {
    // Best effort: without it a full disk still ends the run cleanly, only with less room for
    // the records that close it.
    const fs::path p = reserve_path(m_file);
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return;
    }
    m_has_reserve = true;
    const std::string zeros(k_reserve_bytes, '\0');
    size_t done = 0;
    while (done < zeros.size()) {
        ssize_t n = ::write(fd, zeros.data() + done, zeros.size() - done);
        if (n <= 0) {
            break;
        }
        done += static_cast<size_t>(n);
    }
    ::close(fd);
}

bool Writer::drop_reserve() noexcept {
    if (!m_has_reserve) {
        return false;
    }
    m_has_reserve = false;
    std::error_code ec;
    return fs::remove(reserve_path(m_file), ec);
}

Writer Writer::create(const fs::path& file, const boost::json::object& header_fields,
                      const util::Clock* clock) {
    std::error_code ec;
    fs::path dir = file.parent_path();
    if (!dir.empty()) {
        bool fresh = !fs::exists(dir, ec);
        fs::create_directories(dir, ec);
        if (ec) {
            throw util::Error("cannot create directory " + dir.string() + ": " + ec.message(),
                              util::ExitCode::run_failed);
        }
        if (fresh) {
            util::fsync_directory(dir.parent_path());
        }
    }
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        io_error("cannot create", file);
    }
    Writer w(file, fd, 0, std::string(k_zero_hash), clock);
    w.write_line(header_line(header_fields, now_text(clock)), true);
    // A new file is only durable once its directory entry is.
    util::fsync_directory(dir);
    w.make_reserve();
    return w;
}

Writer Writer::open_existing(const fs::path& file, std::vector<std::string>* warnings,
                             const util::Clock* clock) {
    // Throws for missing/empty/unknown version/bad middle line; keeps no record.
    return continue_from(file, read_chain(file), warnings, clock);
}

Writer Writer::continue_from(const fs::path& file, const Journal& j,
                             std::vector<std::string>* warnings, const util::Clock* clock) {
    if (!j.chain_problem.empty()) {
        // Appending would extend a chain that no longer proves anything: corruption (exit 2).
        throw util::Error("journal " + file.string() + " is NOT intact: " + j.chain_problem +
                              "; refusing to append to it",
                          util::ExitCode::invalid,
                          "run 'rollback audit verify " + j.run_id() +
                              "' and restore the journal from a copy, or start a new run");
    }
    int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    struct stat st {};
    if (fd < 0) {
        io_error("cannot open", file);
    }
    if (::fstat(fd, &st) != 0) {
        int saved = errno;
        ::close(fd);
        errno = saved;
        io_error("cannot open", file);
    }
    if (static_cast<std::uint64_t>(st.st_size) > j.valid_bytes) {
        // Cut the torn tail so the next record starts on a line of its own and the chain
        // continues from the last complete record.
        if (::ftruncate(fd, static_cast<off_t>(j.valid_bytes)) != 0 || ::fsync(fd) != 0) {
            int saved = errno;
            ::close(fd);
            errno = saved;
            io_error("cannot truncate the torn tail of", file);
        }
    }
    if (warnings != nullptr) {
        warnings->insert(warnings->end(), j.warnings.begin(), j.warnings.end());
    }
    // The chain continues from the last complete line, as read (its hash taken while reading).
    Writer w(file, fd, static_cast<std::uint64_t>(j.lines), j.last_hash, clock);
    w.m_size = j.valid_bytes;
    w.make_reserve();
    return w;
}

std::uint64_t Writer::append(boost::json::object record, Durability durability) {
    if (m_broken || m_fd < 0) {
        throw util::Error("journal " + m_file.string() +
                              " is unusable after an earlier write error",
                          util::ExitCode::run_failed);
    }
    const std::uint64_t seq = m_next_seq;
    write_line(record_line(std::move(record), seq, now_text(m_clock), m_last_hash),
               durability == Durability::now);
    return seq;
}

std::string header_line(const boost::json::object& header_fields, std::string_view time) {
    boost::json::object header;
    header["seq"] = 0;
    header["time"] = time;
    header["type"] = "header";
    header["format"] = k_format_name;
    header["version"] = k_format_version;
    for (const auto& kv : header_fields) {
        if (!is_reserved(kv.key()) && kv.key() != "type" && kv.key() != "format" &&
            kv.key() != "version") {
            header[kv.key()] = kv.value();
        }
    }
    return make_line(std::move(header), k_zero_hash);
}

std::string record_line(boost::json::object record, std::uint64_t seq, std::string_view time,
                        std::string_view prev_hash) {
    boost::json::object fields;
    fields.reserve(record.size() + 4);
    fields["seq"] = seq;
    fields["time"] = time;
    for (auto& kv : record) {
        if (!is_reserved(kv.key())) {
            fields[kv.key()] = std::move(kv.value());
        }
    }
    return make_line(std::move(fields), prev_hash);
}

void Writer::sync() {
    if (m_unsynced && m_fd >= 0 && !m_broken) {
        if (::fdatasync(m_fd) != 0) {
            m_broken = true;
            io_error("cannot sync", m_file);
        }
        m_unsynced = false;
    }
}

void Writer::write_line(std::string_view text, bool sync_now) {
    std::string buf;
    buf.reserve(text.size() + 1);
    buf.append(text);
    buf.push_back('\n');
    int err = try_write(buf);
    if (out_of_space(err) && drop_reserve()) {
        // The disk is full: the reserve's blocks are now free for this record and the few that
        // close the run; space_exhausted() tells the caller to start nothing new.
        m_space_exhausted = true;
        err = try_write(buf);
    }
    if (err != 0) {
        errno = err;
        io_error("cannot write", m_file);
    }
    m_unsynced = true;
    if (sync_now) {
        sync();
    }
    std::uint64_t seq = m_next_seq;
    m_last_hash = util::sha256_hex(text);
    ++m_next_seq;
    if (m_kill_at >= 0 && seq == static_cast<std::uint64_t>(m_kill_at)) {
        ::kill(::getpid(), SIGKILL);
    }
}

int Writer::try_write(const std::string& buf) {
    // One write(2) per record: a crash leaves at most one torn line at the end, which the reader
    // cuts off. A short write (the disk filled up, RLIMIT_FSIZE) is continued; when that fails the
    // part written is cut off again, so a failed append leaves the journal as it was.
    size_t done = 0;
    while (done < buf.size()) {
        ssize_t n = ::write(m_fd, buf.data() + done, buf.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int err = errno;
            if (done > 0 && ::ftruncate(m_fd, static_cast<off_t>(m_size)) != 0) {
                m_broken = true; // a torn record we cannot remove: refuse to append after it
            }
            return err;
        }
        done += static_cast<size_t>(n);
    }
    m_size += buf.size();
    return 0;
}

} // namespace rollback::journal
