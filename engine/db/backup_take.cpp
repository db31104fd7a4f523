// SPDX-License-Identifier: MIT
// Taking a backup into the catalog and verifying one (db/backup_catalog.hpp): pg_dump of an
// exported snapshot with its row counts and checksums, sha256 and TOC, the manifest last.
#include "db/backup_catalog.hpp"

#include "db/scratch_record.hpp"
#include "exec/runner.hpp"

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
#include <cstdio>
#include <fcntl.h>
#include <pqxx/connection_base>
#include <pqxx/transaction>
#include <sys/stat.h>
#include <unistd.h>

namespace rollback::db {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string compact_time(util::SystemTime t) {
    std::string s = util::format_time(t); // 2026-11-26T14:35:00.123Z
    std::string out;
    for (char c : s.substr(0, 19)) {
        if (c != '-' && c != ':') {
            out += c;
        }
    }
    return out + "Z";
}

void fsync_file(const fs::path& p) {
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

/// The restore test of verify_backup: a scratch database recorded (and held) in the catalog
/// before it exists, the backup restored into it, compared with the manifest, dropped. What a
/// kill -9 leaves, the next verification of the catalog drops; an interrupt (SIGINT, SIGTERM)
/// ends pg_restore and drops it before returning.
void restore_test(exec::ProcessRunner& runner, const BackupCatalog& catalog,
                  const BackupManifest& m, const Dsn& server, const TocInfo& toc,
                  const ProgressFn& progress, VerifyReport& r) {
    auto say = [&](const std::string& line) {
        if (progress) {
            progress(util::mask_secrets(line));
        }
    };
    auto interrupted = [] {
        const int sig = exec::interrupt_requested();
        return sig == 0 ? std::string() : "interrupted by " + exec::interrupt_name(sig);
    };
    const Dsn target = server.with_dbname(m.database);
    for (const auto& line : drop_stale_scratch(catalog.dir(), target, ScratchKind::verification)) {
        say("backup verify: " + line);
    }
    if (r.interrupted = interrupted(); !r.interrupted.empty()) {
        return;
    }
    const auto now = std::chrono::system_clock::now();
    const std::string scratch =
        derived_db_name(m.database, "verify", compact_time(now) + std::to_string(::getpid()));
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    ScratchRecord rec{scratch,
                      m.database,
                      scratch_server(target),
                      "",
                      "",
                      util::format_time(now),
                      static_cast<int>(::getpid()),
                      host,
                      ScratchKind::verification};
    auto claim = ScratchClaim::claim(catalog.dir(), rec);
    RestoreRequest rq{server, scratch, dump_path(m), 2, toc.entries, {}, progress};
    RestoreResult rr = restore_into_new_database(runner, rq); // ends pg_restore on interrupt
    r.interrupted = interrupted();
    if (!rr.ok && r.interrupted.empty()) {
        r.problems.push_back("restore test: " + rr.error);
    } else if (rr.ok && r.interrupted.empty()) {
        std::vector<std::string> diffs;
        try {
            auto c = connect(server.with_dbname(scratch));
            pqxx::read_transaction tx(*c);
            diffs = compare_stats(tx, m.tables);
        } catch (const std::exception& e) {
            diffs.push_back("cannot compare the restored database: " + db_error_text(e));
        }
        for (const auto& d : diffs) {
            r.problems.push_back("restore test: " + d);
        }
        if (diffs.empty()) {
            r.passed.push_back("restore test: " + std::to_string(m.tables.size()) +
                               " tables restored in " + util::format_duration(rr.restore_time) +
                               ", row counts and checksums match");
        }
    }
    if (rr.created) {
        if (std::string err = drop_database(server, scratch); !err.empty()) {
            r.problems.push_back("restore test: " + err);
        }
    }
    if (std::string left = settle_scratch(claim, rr.created, target); !left.empty()) {
        r.problems.push_back("restore test: " + left);
    }
}

} // namespace

// --- taking and verifying ------------------------------------------------------------------------

std::vector<std::string> check_archive(exec::ProcessRunner& runner, const BackupManifest& m,
                                       TocInfo& toc) {
    std::vector<std::string> problems;
    fs::path p = dump_path(m);
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) {
        problems.push_back("archive " + p.string() + " is missing");
        return problems;
    }
    std::string sha = util::sha256_file(p);
    if (sha != m.sha256) {
        problems.push_back("archive " + p.string() + ": sha256 " + sha.substr(0, 12) +
                           "… differs from the manifest's " + m.sha256.substr(0, 12) +
                           "… (corrupted or replaced)");
    }
    toc = read_toc(runner, p);
    if (!toc.ok) {
        problems.push_back("archive " + p.string() + ": " + toc.error);
    }
    return problems;
}

BackupManifest take_backup(exec::ProcessRunner& runner, const BackupCatalog& catalog,
                           const BackupRequest& req, const ProgressFn& progress) {
    auto say = [&](const std::string& s) {
        if (progress) {
            progress(s);
        }
    };
    catalog.require_exists();
    auto conn = connect(req.dsn);
    BackupManifest m;
    // pg_dump works from the snapshot this transaction exports, so the archive, the row counts and
    // the checksums all describe the same instant. The transaction must stay open until pg_dump
    // ends.
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only> tx(
        *conn);
    pqxx::row info = tx.exec1(
        "SELECT pg_export_snapshot(), current_database(), current_setting('server_version'),"
        " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
    std::string snapshot = info[0].c_str();
    m.database = info[1].c_str();
    m.server_version = info[2].c_str();
    auto server_time = util::parse_time(info[3].c_str());
    if (!server_time) {
        throw util::Error("the server's clock reads " + std::string(info[3].c_str()) +
                              ", not a time a backup can carry",
                          util::ExitCode::run_failed);
    }
    m.time = *server_time;
    m.release = req.release;
    m.good = req.mark_good;
    for (const auto& k : req.key_tables) {
        m.key_tables.push_back(qualify_table(k));
    }
    // The database's name as one file name component: "../sales" or "sales/eu" (PostgreSQL
    // allows any character in a quoted name) never puts a file outside the catalog.
    const std::string stem = util::file_name_part(m.database);
    m.id = stem + "-" + compact_time(m.time);
    for (int n = 2; fs::exists(catalog.dir() / (m.id + ".json")) ||
                    fs::exists(catalog.dir() / (m.id + ".dump"));
         ++n) {
        m.id = stem + "-" + compact_time(m.time) + "-" + std::to_string(n);
    }
    m.file = m.id + ".dump";
    m.directory = catalog.dir();
    fs::path final_path = catalog.dir() / m.file;
    fs::path partial = catalog.dir() / (m.file + ".partial");

    // Counted in the exported snapshot, before the dump: a missing key table fails before any file
    // is written.
    say("counting rows and checksumming key tables in the backup's snapshot");
    m.tables = collect_stats(tx, m.key_tables);
    say("dumping " + m.database + " to " + final_path.string());
    exec::Command cmd;
    cmd.argv = {pg_program("pg_dump"), "--format=custom", "--snapshot=" + snapshot,
                "--file=" + partial.string(), "--dbname=" + req.dsn.conninfo_without_password()};
    cmd.env = req.dsn.child_env();
    exec::Outcome o = runner.run(cmd);
    if (!o.ok()) {
        std::error_code ec;
        fs::remove(partial, ec);
        std::string why = o.ending == exec::Ending::failed_to_start
                              ? o.error
                              : std::string(util::trim(o.stderr_tail));
        throw util::Error(util::mask_secrets("pg_dump of " + m.database + " failed: " + why),
                          util::ExitCode::run_failed);
    }
    tx.commit();

    exec::Command ver;
    ver.argv = {pg_program("pg_dump"), "--version"};
    if (exec::Outcome vo = runner.run(ver); vo.ok()) {
        m.pg_dump_version = std::string(util::trim(vo.stdout_tail));
    }
    fsync_file(partial);
    fs::rename(partial, final_path);
    util::fsync_directory(catalog.dir());
    m.size = fs::file_size(final_path);
    m.sha256 = util::sha256_file(final_path);
    TocInfo toc = read_toc(runner, final_path);
    m.toc_entries = toc.entries;
    m.verified = toc.ok && util::sha256_file(final_path) == m.sha256;
    if (m.verified) {
        m.verified_at = util::format_time(std::chrono::system_clock::now());
    } else {
        log::warn("backup {}: not verified: {}", m.id, toc.error);
    }
    catalog.save(m);
    return m;
}

VerifyReport verify_backup(exec::ProcessRunner& runner, const BackupCatalog& catalog,
                           BackupManifest& m, const std::optional<Dsn>& restore_server,
                           const ProgressFn& progress) {
    VerifyReport r;
    TocInfo toc;
    r.problems = check_archive(runner, m, toc);
    if (r.problems.empty()) {
        r.passed.push_back("sha256 matches the manifest");
        r.passed.push_back("TOC readable (" + std::to_string(toc.entries) + " items)");
    }
    if (r.problems.empty() && restore_server) {
        restore_test(runner, catalog, m, *restore_server, toc, progress, r);
    }
    if (!r.interrupted.empty()) {
        // It did not finish: the manifest says what the last finished verification said.
        r.ok = false;
        r.problems.push_back(r.interrupted + ": the verification did not finish, " + m.id +
                             "'s manifest is unchanged");
        return r;
    }
    r.ok = r.problems.empty();
    m.verified = r.ok;
    m.verified_at = util::format_time(std::chrono::system_clock::now());
    if (r.ok && restore_server) {
        m.restore_tested_at = m.verified_at;
    }
    catalog.save(m);
    return r;
}

} // namespace rollback::db
