// SPDX-License-Identifier: MIT
#include "db/scratch_record.hpp"

#include "db/connection.hpp"
#include "db/restore.hpp"
#include "db/restore_state.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <pqxx/transaction>
#include <sys/file.h>
#include <unistd.h>

namespace rollback::db {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

const char* kind_name(ScratchKind kind) {
    return kind == ScratchKind::verification ? "verification_scratch" : "rehearsal_scratch";
}

/// What the name of a scratch database of `kind` carries after the database's name.
const char* name_infix(ScratchKind kind) {
    return kind == ScratchKind::verification ? "_verify_" : "_rehearse_";
}

/// Who left a scratch database of `kind`, for the lines that name it.
const char* owner_words(ScratchKind kind) {
    return kind == ScratchKind::verification ? "backup verification" : "rehearsal";
}

std::string text(const json::object& o, const char* k) {
    const json::value* v = o.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

json::object to_json(const ScratchRecord& r) {
    return {{"format", 1},
            {"kind", kind_name(r.kind)},
            {"name", r.name},
            {"database", r.database},
            {"server", r.server},
            {"step", r.step},
            {"playbook", r.playbook},
            {"started", r.started},
            {"pid", r.pid},
            {"host", r.host}};
}

/// The record of `f` (of `kind`); util::Error when it is none.
ScratchRecord from_json(const util::DirectoryFile& f, ScratchKind kind) {
    boost::system::error_code ec;
    json::value v = json::parse(f.text, ec);
    if (ec || !v.is_object()) {
        throw util::Error("scratch record " + f.path.string() + ": not a JSON object");
    }
    const auto& o = v.as_object();
    ScratchRecord r;
    r.name = text(o, "name");
    r.database = text(o, "database");
    r.server = text(o, "server");
    r.step = text(o, "step");
    r.playbook = text(o, "playbook");
    r.started = text(o, "started");
    r.host = text(o, "host");
    if (const auto* pid = o.if_contains("pid"); pid != nullptr && pid->is_int64()) {
        r.pid = static_cast<int>(pid->as_int64());
    }
    r.file = f.path;
    r.kind = kind;
    if (r.name.empty() || r.database.empty() || r.server.empty() ||
        text(o, "kind") != kind_name(kind) || !is_scratch_name(r.database, r.name, kind)) {
        throw util::Error("scratch record " + f.path.string() +
                          ": names no scratch database of a " + owner_words(kind));
    }
    return r;
}

/// An open descriptor of `file` locked with `how` | LOCK_NB; -1 when the lock is held by
/// another (or the file cannot be opened).
int lock_now(const fs::path& file, int how) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return -1;
    }
    if (::flock(fd, how | LOCK_NB) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

} // namespace

std::string ScratchRecord::drop_command() const {
    return db::drop_command(Dsn::parse(server), name);
}

std::string scratch_server(const Dsn& dsn) {
    return maintenance_dsn(dsn).conninfo_without_password();
}

fs::path scratch_dir(const fs::path& owner, ScratchKind kind) {
    return kind == ScratchKind::verification ? owner / "scratch" : owner / "rehearsals" / "scratch";
}

bool is_scratch_name(const std::string& database, const std::string& name, ScratchKind kind) {
    // derived_db_name keeps the whole name, or its first 31 bytes when the result would pass
    // PostgreSQL's 63-byte limit.
    for (const std::string& base : {database, database.substr(0, 31)}) {
        const std::string prefix = base + name_infix(kind);
        if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) {
            return true;
        }
    }
    return false;
}

ScratchClaim ScratchClaim::claim(const fs::path& owner, ScratchRecord r) {
    const fs::path dir = scratch_dir(owner, r.kind);
    r.file = dir / (r.name + ".json");
    auto unwritable = [&](const std::string& why) {
        return util::Error("cannot record the scratch database " + r.name +
                               " before creating it: " + why,
                           util::ExitCode::state_unwritable,
                           "nothing was created; make " + owner.string() + " writable");
    };
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        throw unwritable(ec.message());
    }
    // Locked before it is renamed into place: nobody ever sees the record unheld while its
    // rehearsal runs.
    const fs::path tmp = r.file.string() + ".tmp." + util::temp_suffix();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw unwritable(std::strerror(errno));
    }
    const std::string doc = util::mask_secrets(util::json_text(to_json(r))) + "\n";
    bool ok = ::flock(fd, LOCK_EX) == 0;
    for (size_t done = 0; ok && done < doc.size();) {
        const ssize_t n = ::write(fd, doc.data() + done, doc.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        ok = n > 0;
        done += ok ? static_cast<size_t>(n) : 0;
    }
    ok = ok && ::fsync(fd) == 0 && ::rename(tmp.c_str(), r.file.c_str()) == 0;
    if (!ok) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        throw unwritable(std::strerror(err));
    }
    util::fsync_directory(dir);
    return ScratchClaim(std::move(r), fd);
}

ScratchClaim::ScratchClaim(ScratchClaim&& other) noexcept
    : m_record(std::move(other.m_record)), m_fd(other.m_fd) {
    other.m_fd = -1;
}

ScratchClaim::~ScratchClaim() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

void ScratchClaim::release() {
    if (m_fd < 0) {
        return;
    }
    ::unlink(m_record.file.c_str());
    util::fsync_directory(m_record.file.parent_path());
    ::close(m_fd);
    m_fd = -1;
}

std::string settle_scratch(ScratchClaim& claim, bool created, const Dsn& dsn) {
    if (created) {
        bool exists = true;
        try {
            auto c = connect(maintenance_dsn(dsn).with_default("connect_timeout", "5"));
            pqxx::read_transaction tx(*c);
            exists = database_exists(tx, claim.record().name);
        } catch (const std::exception&) {
            // Not known: kept recorded.
        }
        if (exists) {
            return "scratch database " + claim.record().name +
                   " was not dropped (a copy of the backup: drop it with: " +
                   claim.record().drop_command() + "; the next " +
                   owner_words(claim.record().kind) + " drops it too)";
        }
    }
    claim.release();
    return {};
}

std::vector<ScratchRecord> scratch_records(const fs::path& owner, std::vector<std::string>& skipped,
                                           ScratchKind kind) {
    std::vector<ScratchRecord> out;
    for (const auto& f : util::read_directory_files(scratch_dir(owner, kind), ".json", skipped)) {
        try {
            ScratchRecord r = from_json(f, kind);
            const int fd = lock_now(r.file, LOCK_SH);
            r.in_use = fd < 0;
            if (fd >= 0) {
                ::close(fd);
            }
            out.push_back(std::move(r));
        } catch (const util::Error& e) {
            skipped.push_back(e.what());
        }
    }
    return out;
}

std::vector<std::string> scratch_in_use(const fs::path& owner, ScratchKind kind) {
    std::vector<std::string> skipped;
    std::vector<std::string> out;
    for (const auto& r : scratch_records(owner, skipped, kind)) {
        if (r.in_use) {
            out.push_back(r.name);
        }
    }
    return out;
}

std::vector<std::string> scratch_in_use(const fs::path& state_dir, const fs::path& catalog) {
    std::vector<std::string> out = scratch_in_use(state_dir, ScratchKind::rehearsal);
    if (!catalog.empty()) {
        for (auto& name : scratch_in_use(catalog, ScratchKind::verification)) {
            out.push_back(std::move(name));
        }
    }
    return out;
}

std::vector<std::string> drop_stale_scratch(const fs::path& owner, const Dsn& dsn,
                                            ScratchKind kind) {
    std::vector<std::string> lines;
    std::vector<std::string> skipped;
    const std::string server = scratch_server(dsn);
    for (const auto& r : scratch_records(owner, skipped, kind)) {
        if (r.in_use || r.server != server || r.database != dsn.dbname()) {
            continue; // running, or another server's or database's: status and plan name it
        }
        // Held while it is dropped: two rehearsals never act on one record.
        const int fd = lock_now(r.file, LOCK_EX);
        if (fd < 0) {
            continue;
        }
        const std::string who = std::string("left by an interrupted ") + owner_words(kind) +
                                " (pid " + std::to_string(r.pid) + " on " + r.host + ", started " +
                                r.started + ")";
        if (std::string err = drop_database(dsn, r.name); err.empty()) {
            ::unlink(r.file.c_str());
            lines.push_back("dropped scratch database " + r.name + " " + who);
        } else {
            lines.push_back("scratch database " + r.name + " " + who + " not dropped: " + err +
                            "; drop it with: " + r.drop_command());
        }
        ::close(fd);
    }
    for (const auto& why : skipped) {
        lines.push_back("scratch record passed over: " + why);
    }
    return lines;
}

} // namespace rollback::db
