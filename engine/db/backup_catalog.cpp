// SPDX-License-Identifier: MIT
#include "db/backup_catalog.hpp"

#include "util/duration.hpp"
#include "util/file_name.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <pqxx/connection_base>
#include <pqxx/transaction>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rollback::db {

namespace fs = std::filesystem;
namespace json = boost::json;

// --- manifest JSON ---------------------------------------------------------------------------

json::object to_json(const BackupManifest& m) {
    json::object o;
    o["format"] = m.format;
    o["id"] = m.id;
    o["file"] = m.file;
    o["time"] = util::format_time(m.time);
    o["database"] = m.database;
    o["server_version"] = m.server_version;
    o["pg_dump_version"] = m.pg_dump_version;
    o["size"] = m.size;
    o["sha256"] = m.sha256;
    o["release"] = m.release;
    o["toc_entries"] = m.toc_entries;
    json::array keys;
    for (const auto& k : m.key_tables) {
        keys.emplace_back(k);
    }
    o["key_tables"] = std::move(keys);
    json::array tables;
    for (const auto& t : m.tables) {
        json::object to;
        to["table"] = t.table;
        to["rows"] = t.rows;
        if (!t.checksum.empty()) {
            to["checksum"] = t.checksum;
        }
        tables.emplace_back(std::move(to));
    }
    o["tables"] = std::move(tables);
    o["verified"] = m.verified;
    o["verified_at"] = m.verified_at;
    o["restore_tested_at"] = m.restore_tested_at;
    o["good"] = m.good;
    return o;
}

namespace {

[[noreturn]] void bad_manifest(const std::string& source, const std::string& problem) {
    throw util::Error("backup manifest " + source + ": " + problem, util::ExitCode::invalid);
}

const json::value& field(const json::object& o, const char* key, const std::string& source) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) {
        bad_manifest(source, std::string("missing \"") + key + "\"");
    }
    return *v;
}

std::string str(const json::object& o, const char* key, const std::string& source,
                bool required = true) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr && !required) {
        return {};
    }
    const json::value& f = field(o, key, source);
    if (!f.is_string()) {
        bad_manifest(source, std::string("\"") + key + "\" must be a string");
    }
    return std::string(f.as_string());
}

std::int64_t integer(const json::object& o, const char* key, const std::string& source) {
    const json::value& f = field(o, key, source);
    if (f.is_int64()) {
        return f.as_int64();
    }
    if (f.is_uint64()) {
        return static_cast<std::int64_t>(f.as_uint64());
    }
    bad_manifest(source, std::string("\"") + key + "\" must be an integer");
}

bool boolean(const json::object& o, const char* key, const std::string& source) {
    const json::value& f = field(o, key, source);
    if (!f.is_bool()) {
        bad_manifest(source, std::string("\"") + key + "\" must be true or false");
    }
    return f.as_bool();
}

} // namespace

BackupManifest manifest_from_json(const json::value& v, const std::string& source) {
    if (!v.is_object()) {
        bad_manifest(source, "not a JSON object");
    }
    const json::object& o = v.as_object();
    BackupManifest m;
    m.format = static_cast<int>(integer(o, "format", source));
    if (m.format != 1) {
        bad_manifest(source,
                     "unsupported format " + std::to_string(m.format) + " (this version reads 1)");
    }
    m.id = str(o, "id", source);
    m.file = str(o, "file", source);
    auto t = util::parse_time(str(o, "time", source));
    if (!t) {
        bad_manifest(source, "\"time\" is not an RFC 3339 time");
    }
    m.time = *t;
    m.database = str(o, "database", source);
    m.server_version = str(o, "server_version", source, false);
    m.pg_dump_version = str(o, "pg_dump_version", source, false);
    m.size = static_cast<std::uint64_t>(integer(o, "size", source));
    m.sha256 = str(o, "sha256", source);
    m.release = str(o, "release", source, false);
    m.toc_entries =
        o.if_contains("toc_entries") ? static_cast<int>(integer(o, "toc_entries", source)) : 0;
    if (const json::value* keys = o.if_contains("key_tables");
        keys != nullptr && keys->is_array()) {
        for (const auto& k : keys->as_array()) {
            if (k.is_string()) {
                m.key_tables.emplace_back(k.as_string());
            }
        }
    }
    const json::value& tables = field(o, "tables", source);
    if (!tables.is_array()) {
        bad_manifest(source, "\"tables\" must be an array");
    }
    for (const auto& tv : tables.as_array()) {
        if (!tv.is_object()) {
            bad_manifest(source, "\"tables\" entries must be objects");
        }
        TableStat ts;
        ts.table = str(tv.as_object(), "table", source);
        ts.rows = integer(tv.as_object(), "rows", source);
        ts.checksum = str(tv.as_object(), "checksum", source, false);
        m.tables.push_back(std::move(ts));
    }
    m.verified = boolean(o, "verified", source);
    m.verified_at = str(o, "verified_at", source, false);
    m.restore_tested_at = str(o, "restore_tested_at", source, false);
    m.good = boolean(o, "good", source);
    return m;
}

// --- catalog -----------------------------------------------------------------------------------

BackupCatalog::BackupCatalog(fs::path dir) : m_dir(std::move(dir)) {}

namespace {

std::string user_name(uid_t uid) {
    const passwd* pw = ::getpwuid(uid);
    return pw != nullptr ? std::string(pw->pw_name) : "uid " + std::to_string(uid) + " (no user)";
}

std::string group_name(gid_t gid) {
    const group* gr = ::getgrgid(gid);
    return gr != nullptr ? std::string(gr->gr_name) : "gid " + std::to_string(gid) + " (no group)";
}

/// A catalog this process may not read: its path, owner and mode, who reads, and the chown that
/// fixes it. The packaged case: a catalog kept by a purge, the package installed again (its new
/// user has another uid), or the directory given to whoever got the old uid.
[[noreturn]] void unreadable_catalog(const fs::path& dir, const std::error_code& ec) {
    std::string owner;
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        owner = "; it belongs to " + user_name(st.st_uid) + ":" + group_name(st.st_gid) +
                ", mode " + mode;
    }
    const std::string me = user_name(::geteuid());
    throw util::Error("backup catalog " + dir.string() + " cannot be read: " + ec.message() +
                          owner + ", and this runs as " + me,
                      util::ExitCode::invalid,
                      "give the catalog to the user rollback runs as (the package's service user "
                      "is rollback): chown -R " +
                          me + ": " + dir.string() +
                          " — after a purge and a reinstall, the kept backups still belong to the "
                          "removed user's uid");
}

bool is_permission(const std::error_code& ec) {
    return ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted;
}

/// The catalog's entries; unreadable_catalog when it cannot be opened.
fs::directory_iterator open_catalog(const fs::path& dir) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
        unreadable_catalog(dir, ec);
    }
    return it;
}

/// Whether the entry is in a manifest's place (a `.json` that is no directory: a FIFO or a
/// dangling link there is an unreadable manifest, not nothing); unreadable_catalog when the
/// directory lists names but may not be searched (mode r without x).
bool is_manifest(const fs::path& dir, const fs::directory_entry& e) {
    if (e.path().extension() != ".json") {
        return false;
    }
    std::error_code ec;
    const bool directory = e.is_directory(ec);
    if (ec && is_permission(ec)) {
        unreadable_catalog(dir, ec);
    }
    return !directory;
}

} // namespace

void BackupCatalog::require_exists() const {
    std::error_code ec;
    if (!fs::is_directory(m_dir, ec)) {
        if (is_permission(ec)) { // a parent this process may not enter: not "does not exist"
            unreadable_catalog(m_dir, ec);
        }
        throw util::Error("backup catalog " + m_dir.string() + " does not exist",
                          util::ExitCode::invalid,
                          "create it first (mkdir -p " + m_dir.string() +
                              "): a catalog is never created implicitly, so a mistyped path "
                              "cannot scatter backups");
    }
}

namespace {

/// "; 2 entries are no readable manifest, the first: backup manifest FILE: ..." ("" for none).
std::string unreadable_note(const std::vector<std::string>& unreadable) {
    if (unreadable.empty()) {
        return {};
    }
    return "; " + std::to_string(unreadable.size()) +
           (unreadable.size() == 1 ? " entry is" : " entries are") +
           " no readable manifest, the first: " + unreadable.front();
}

BackupManifest read_manifest(const fs::path& file) {
    std::string text;
    try {
        text = util::read_file(file);
    } catch (const util::Error& e) {
        // "cannot read FILE: Permission denied": in the shape of every manifest's problem.
        const std::string what = e.what();
        const std::string prefix = "cannot read " + file.string();
        bad_manifest(file.string(),
                     "cannot be read" +
                         (what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : ": " + what));
    }
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) {
        throw util::Error("backup manifest " + file.string() + ": invalid JSON: " + ec.message(),
                          util::ExitCode::invalid);
    }
    BackupManifest m = manifest_from_json(v, file.string());
    m.directory = file.parent_path();
    return m;
}

} // namespace

std::vector<BackupManifest> BackupCatalog::list(std::vector<std::string>& unreadable) const {
    require_exists();
    std::vector<BackupManifest> out;
    for (const auto& e : open_catalog(m_dir)) {
        if (is_manifest(m_dir, e)) {
            try {
                out.push_back(read_manifest(e.path()));
            } catch (const std::exception& ex) {
                unreadable.push_back(ex.what());
            }
        }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return a.time != b.time ? a.time < b.time : a.id < b.id;
    });
    // Directory order is no order: the same catalog names its unreadable entries the same way.
    std::sort(unreadable.begin(), unreadable.end());
    return out;
}

BackupManifest BackupCatalog::get(const std::string& id) const {
    std::vector<std::string> unreadable;
    for (auto& m : list(unreadable)) {
        if (m.id == id) {
            return m;
        }
    }
    throw util::Error("no backup " + util::quoted(id) + " in catalog " + m_dir.string() +
                          unreadable_note(unreadable),
                      util::ExitCode::invalid,
                      "'rollback backup list --catalog " + m_dir.string() + "' shows the backups");
}

void BackupCatalog::save(const BackupManifest& m) const {
    if (m.id.empty() || fs::path(m.id + ".json").has_parent_path()) {
        // An id read from a foreign or damaged manifest: never a path outside the catalog.
        throw util::Error("backup id " + util::quoted(m.id) + " in catalog " + m_dir.string() +
                              " is not a file name the engine makes; nothing was written",
                          util::ExitCode::invalid,
                          "the manifest was not written by 'rollback backup'; take a new backup");
    }
    util::write_file_atomic(m_dir / (m.id + ".json"), util::json_text(to_json(m)) + "\n");
}

std::string unreadable_hint(const fs::path& catalog) {
    return "no backup is chosen from it: move a file that is no manifest out of " +
           catalog.string() +
           " ('rollback backup' renames its manifests into place: they are never half-written); "
           "a damaged manifest's backup needs a new backup ('rollback backup --mark-good')";
}

fs::path dump_path(const BackupManifest& m) {
    return m.directory / m.file;
}

std::string archive_problem(const BackupManifest& m) {
    const fs::path p = dump_path(m);
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
        const int err = errno;
        return "backup " + m.id + ": archive " + p.string() +
               (err == ENOENT ? std::string(" is missing") : ": " + std::string(strerror(err)));
    }
    if (!S_ISREG(st.st_mode)) {
        return "backup " + m.id + ": archive " + p.string() + " is not a regular file";
    }
    if (static_cast<std::uint64_t>(st.st_size) != m.size) {
        return "backup " + m.id + ": archive " + p.string() + " has " + std::to_string(st.st_size) +
               " bytes, its manifest records " + std::to_string(m.size) +
               " (cut short or replaced)";
    }
    return {};
}

BackupManifest BackupCatalog::select(const std::string& spec, const std::string& database,
                                     std::vector<std::string>& unreadable,
                                     const fs::path& base) const {
    if (spec != "last_good" && spec.rfind("before_release:", 0) != 0) {
        fs::path p = spec;
        if (p.is_relative() && !base.empty()) {
            p = base / p;
        }
        fs::path manifest = p.extension() == ".json" ? p : fs::path(p).replace_extension(".json");
        std::error_code ec;
        if (!fs::exists(manifest, ec)) {
            throw util::Error("backup " + p.string() + ": no manifest " + manifest.string(),
                              util::ExitCode::invalid,
                              "backups are taken with 'rollback backup', which writes the manifest "
                              "beside the archive");
        }
        return read_manifest(manifest);
    }
    std::vector<BackupManifest> all = list(unreadable);
    std::vector<BackupManifest> mine;
    for (auto& m : all) {
        if (m.database == database) {
            mine.push_back(std::move(m));
        }
    }
    const bool last_good = spec == "last_good";
    const std::string release =
        last_good ? std::string() : spec.substr(std::string("before_release:").size());
    // A backup whose archive is gone (a retention script that prunes *.dump) or is not of the
    // recorded size cannot be restored: it is passed over like an unreadable manifest, so the
    // restore, its preflight, a rehearsal and /metrics' last good backup never name it (break-it
    // 42/04). One stat per candidate; the sha256 is the restore's own check.
    std::vector<std::string> no_archive;
    for (auto it = mine.rbegin(); it != mine.rend(); ++it) {
        if (!it->verified || !(last_good ? it->good : it->release == release)) {
            continue;
        }
        if (std::string why = archive_problem(*it); !why.empty()) {
            no_archive.push_back(std::move(why));
            continue;
        }
        unreadable.insert(unreadable.end(), no_archive.begin(), no_archive.end());
        return *it;
    }
    std::string what =
        last_good ? "no good backup" : "no verified backup taken before release " + release;
    size_t verified = static_cast<size_t>(
        std::count_if(mine.begin(), mine.end(), [](const auto& m) { return m.verified; }));
    std::string archives;
    if (!no_archive.empty()) {
        archives = "; passed over for its archive: " + no_archive.front();
        if (no_archive.size() > 1) {
            archives += " (and " + std::to_string(no_archive.size() - 1) + " more)";
        }
    }
    const std::string manifests = unreadable_note(unreadable);
    unreadable.insert(unreadable.end(), no_archive.begin(), no_archive.end());
    throw util::Error(what + " of database " + database + " in catalog " + m_dir.string() + " (" +
                          std::to_string(mine.size()) + " backups, " + std::to_string(verified) +
                          " verified" + manifests + archives + ")",
                      util::ExitCode::invalid,
                      last_good
                          ? "take one with 'rollback backup --mark-good', or name a backup: "
                            "backup = \"before_release:V\" or a path"
                          : "backups record the release they precede: 'rollback backup --release " +
                                release + "'");
}

std::string loss_window(const BackupManifest& m, util::SystemTime now) {
    auto age = std::chrono::duration_cast<std::chrono::seconds>(now - m.time);
    std::string taken = util::format_time(m.time).substr(0, 16) + "Z";
    if (age.count() < 0) {
        return "0s (backup taken " + taken + ", in the future: check the clocks)";
    }
    // Minutes are enough for a person once the window is past an hour.
    auto shown =
        age >= std::chrono::hours(1) ? std::chrono::duration_cast<std::chrono::minutes>(age) : age;
    return util::format_duration(std::chrono::duration_cast<util::Millis>(shown)) +
           " (backup taken " + taken + ")";
}

} // namespace rollback::db
