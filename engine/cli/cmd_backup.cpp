// SPDX-License-Identifier: MIT
// rollback backup [list|verify]: take, list and verify catalogued PostgreSQL backups.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "db/backup_catalog.hpp"
#include "exec/runner.hpp"
#include "util/error.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <cstdio>
#include <optional>

namespace rollback::cli {

namespace {

std::string mib(std::uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return buf;
}

void print_err(const std::string& line) {
    std::fprintf(stderr, "%s\n", util::mask_secrets(line).c_str());
}

int take(const std::string& dsn_text, const std::string& catalog_dir, const std::string& release,
         bool mark_good, const std::vector<std::string>& tables, bool json) {
    if (dsn_text.empty()) {
        throw util::Error("backup: --dsn is required", util::ExitCode::invalid,
                          "rollback backup --dsn DSN --catalog DIR [--release V] [--mark-good]");
    }
    db::BackupCatalog catalog(catalog_dir);
    catalog.require_exists();
    db::BackupRequest req{db::Dsn::parse(dsn_text), release, mark_good, tables};
    exec::RealProcessRunner runner;
    db::BackupManifest m = db::take_backup(runner, catalog, req, print_err);
    if (json) {
        std::printf("%s\n", util::mask_secrets(util::json_text(db::to_json(m))).c_str());
    } else {
        size_t keys = m.key_tables.size();
        std::printf("backup %s: %s, sha256 %s, %zu tables (%zu with checksums), %s%s\n",
                    m.id.c_str(), mib(m.size).c_str(), m.sha256.substr(0, 16).c_str(),
                    m.tables.size(), keys, m.verified ? "verified" : "NOT verified",
                    m.good ? ", marked good" : "");
    }
    return util::to_int(m.verified ? util::ExitCode::ok : util::ExitCode::verification_failed);
}

/// An entry of the catalog that is no readable manifest, as every reader of the catalog passes
/// it over (db::BackupCatalog::list): named on stderr.
void warn_unreadable(const std::string& catalog_dir, const std::vector<std::string>& unreadable) {
    for (const auto& why : unreadable) {
        print_err("rollback: warning: passed over: " + why);
    }
    if (!unreadable.empty()) {
        print_err("  hint: " + db::unreadable_hint(catalog_dir));
    }
}

int list(const std::string& catalog_dir, bool json) {
    db::BackupCatalog catalog(catalog_dir);
    std::vector<std::string> unreadable;
    auto all = catalog.list(unreadable);
    warn_unreadable(catalog_dir, unreadable);
    // A backup whose archive is gone or cut short is listed, and said: no restore takes it
    // (db::BackupCatalog::select passes it over; break-it 42/04).
    for (const auto& m : all) {
        if (std::string why = db::archive_problem(m); !why.empty()) {
            print_err("rollback: warning: " + why + ": no restore takes it");
        }
    }
    if (json) {
        for (const auto& m : all) {
            auto o = db::to_json(m);
            if (std::string why = db::archive_problem(m); !why.empty()) {
                o["archive_problem"] = why;
            }
            std::printf("%s\n", util::json_text(o).c_str());
        }
        return 0;
    }
    if (all.empty()) {
        std::printf("no backups in %s\n", catalog_dir.c_str());
        return 0;
    }
    std::printf("%-36s %-24s %-14s %-10s %10s  %-8s %s\n", "ID", "TIME", "DATABASE", "RELEASE",
                "SIZE", "VERIFIED", "GOOD");
    for (const auto& m : all) {
        std::printf("%-36s %-24s %-14s %-10s %10s  %-8s %s\n", m.id.c_str(),
                    util::format_time(m.time).c_str(), m.database.c_str(),
                    m.release.empty() ? "-" : m.release.c_str(), mib(m.size).c_str(),
                    m.verified ? "yes" : "no", m.good ? "yes" : "no");
    }
    return 0;
}

int verify(const std::string& catalog_dir, const std::string& id, bool restore_test,
           const std::string& dsn_text, bool json) {
    db::BackupCatalog catalog(catalog_dir);
    std::optional<db::Dsn> server;
    if (restore_test) {
        if (dsn_text.empty()) {
            throw util::Error(
                "backup verify: --restore-test needs --dsn (the server to restore into)",
                util::ExitCode::invalid);
        }
        server = db::Dsn::parse(dsn_text);
    }
    std::vector<db::BackupManifest> targets;
    std::vector<std::string> unreadable;
    if (id.empty()) {
        targets = catalog.list(unreadable);
    } else {
        targets.push_back(catalog.get(id));
    }
    if (targets.empty() && unreadable.empty()) {
        throw util::Error("backup verify: no backups in " + catalog_dir, util::ExitCode::invalid);
    }
    exec::RealProcessRunner runner;
    if (server) {
        // Ctrl-C, `systemctl stop` (SIGTERM), SIGHUP during the restore test: pg_restore's group
        // is ended and the scratch database — a copy of production's data — dropped before
        // exiting 130; the manifest is left as it was.
        exec::install_interrupt_handlers();
    }
    // Verifying every backup, an entry that is no readable manifest fails the verification (the
    // daily timer's exit 3): it may be a backup that did not finish, and no restore picks it.
    bool all_ok = unreadable.empty();
    for (const auto& why : unreadable) {
        if (json) {
            boost::json::object o; // the schema of a backup's result below; no id to name
            o["id"] = nullptr;
            o["ok"] = false;
            o["passed"] = boost::json::array();
            o["problems"] = boost::json::array{boost::json::value(why)};
            std::printf("%s\n", util::mask_secrets(util::json_text(o)).c_str());
            continue;
        }
        std::printf("FAIL %s\n", util::mask_secrets(why).c_str());
    }
    if (!unreadable.empty() && !json) {
        std::printf("  hint: %s\n", db::unreadable_hint(catalog_dir).c_str());
    }
    for (auto& m : targets) {
        if (exec::interrupt_requested() != 0) {
            break; // the backups not verified yet are left as they were
        }
        db::VerifyReport r = db::verify_backup(runner, catalog, m, server, print_err);
        all_ok = all_ok && r.ok;
        if (json) {
            boost::json::object o;
            o["id"] = m.id;
            o["ok"] = r.ok;
            o["passed"] = boost::json::value_from(r.passed);
            o["problems"] = boost::json::value_from(r.problems);
            std::printf("%s\n", util::mask_secrets(util::json_text(o)).c_str());
            continue;
        }
        std::printf("%s: %s\n", m.id.c_str(), r.ok ? "ok" : "FAILED");
        for (const auto& p : r.passed) {
            std::printf("  ok   %s\n", util::mask_secrets(p).c_str());
        }
        for (const auto& p : r.problems) {
            std::printf("  FAIL %s\n", util::mask_secrets(p).c_str());
        }
    }
    if (const int sig = exec::interrupt_requested(); sig != 0) {
        std::fprintf(
            stderr,
            "rollback: backup verify interrupted by %s: pg_restore ended, the scratch "
            "database dropped (or named above with the command that drops it); the manifests "
            "of the backups not verified to the end are "
            "unchanged\n",
            exec::interrupt_name(sig).c_str());
        return util::to_int(util::ExitCode::interrupted);
    }
    return util::to_int(all_ok ? util::ExitCode::ok : util::ExitCode::verification_failed);
}

} // namespace

int cmd_backup(const Args& args) {
    CommonOptions common;
    std::string sub;
    std::string id;
    std::string dsn;
    std::string catalog;
    std::string release;
    std::vector<std::string> tables;
    bool mark_good = false;
    bool restore_test = false;
    po::options_description desc("backup options");
    desc.add_options() //
        ("sub", po::value(&sub)->value_name("list|verify"),
         "list | verify (none: take a backup)") //
        ("id", po::value(&id)->value_name("BACKUP_ID"),
         "backup id (verify; default: every backup)") //
        ("dsn", po::value(&dsn)->value_name("DSN"),
         "database to back up (verify: server for --restore-test)")                           //
        ("catalog", po::value(&catalog)->value_name("DIR"), "backup catalog directory")       //
        ("release", po::value(&release)->value_name("V"), "the release about to be deployed") //
        ("mark-good", po::bool_switch(&mark_good),
         "mark the backup known good (backup = \"last_good\")") //
        ("tables", po::value(&tables)->value_name("T1,T2"),
         "key tables to checksum (default: none)") //
        ("restore-test", po::bool_switch(&restore_test),
         "verify: restore into a scratch database and compare");
    add_common_options(desc, common, use_json);
    po::positional_options_description pos;
    pos.add("sub", 1).add("id", 1);
    po::variables_map vm;
    if (!parse_options("backup", args, desc, pos, vm)) {
        return 0;
    }
    if (catalog.empty()) {
        throw util::Error("backup: --catalog is required", util::ExitCode::invalid,
                          "rollback help backup");
    }
    if (sub.empty()) {
        return take(dsn, catalog, release, mark_good, split_list(tables), common.json);
    }
    if (sub == "list") {
        return list(catalog, common.json);
    }
    if (sub == "verify") {
        return verify(catalog, id, restore_test, dsn, common.json);
    }
    throw util::Error("backup: unknown subcommand " + util::quoted(sub) +
                          " (list, verify, or none to take a backup)",
                      util::ExitCode::invalid);
}

} // namespace rollback::cli
