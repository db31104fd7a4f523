// SPDX-License-Identifier: MIT
#include "db/restore.hpp"

#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <pqxx/connection_base>
#include <pqxx/nontransaction>
#include <pqxx/result>

namespace rollback::db {

namespace {

using Clock = std::chrono::steady_clock;

util::Millis since(Clock::time_point t0) {
    return std::chrono::duration_cast<util::Millis>(Clock::now() - t0);
}

bool starts_with(std::string_view s, std::string_view p) {
    return s.substr(0, p.size()) == p;
}

// One line of `pg_restore --verbose` that marks the start of a TOC item's work, serial or parallel.
bool is_item_line(std::string_view line) {
    return starts_with(line, "pg_restore: creating ") ||
           starts_with(line, "pg_restore: processing data for table ") ||
           starts_with(line, "pg_restore: executing ");
}

// Recreates the original database's properties a pg_dump -Fc archive does not carry.
void copy_database_properties(pqxx::transaction_base& tx, const std::string& from,
                              const std::string& to) {
    std::string qto = quote_ident(to);
    pqxx::row d = tx.exec1(
        "SELECT d.oid, d.datconnlimit, d.datacl IS NULL FROM pg_database d WHERE d.datname = " +
        quote_literal(from));
    std::string oid = d[0].c_str();
    tx.exec("ALTER DATABASE " + qto + " CONNECTION LIMIT " + d[1].c_str());
    pqxx::result settings = tx.exec(
        "SELECT unnest(setconfig) FROM pg_db_role_setting WHERE setrole = 0 AND setdatabase = " +
        oid);
    for (const auto& s : settings) {
        std::string kv = s[0].c_str();
        size_t eq = kv.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        tx.exec("ALTER DATABASE " + qto + " SET " + quote_ident(kv.substr(0, eq)) + " = " +
                quote_literal(kv.substr(eq + 1)));
    }
    if (!d[2].as<bool>()) {
        tx.exec("REVOKE ALL ON DATABASE " + qto + " FROM PUBLIC");
        pqxx::result acl = tx.exec("SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE "
                                   "quote_ident(pg_get_userbyid(a.grantee)) END,"
                                   " a.privilege_type, a.is_grantable FROM pg_database d, "
                                   "aclexplode(d.datacl) a WHERE d.oid = " +
                                   oid);
        for (const auto& a : acl) {
            tx.exec("GRANT " + std::string(a[1].c_str()) + " ON DATABASE " + qto + " TO " +
                    a[0].c_str() + (a[2].as<bool>() ? " WITH GRANT OPTION" : ""));
        }
    }
}

} // namespace

Dsn maintenance_dsn(const Dsn& dsn) {
    return dsn.with_dbname("postgres");
}

TocInfo read_toc(exec::ProcessRunner& runner, const std::filesystem::path& dump) {
    exec::Command cmd;
    // Absolute: an operand that begins with '-' would be read as an option.
    cmd.argv = {pg_program("pg_restore"), "--list", std::filesystem::absolute(dump).string()};
    cmd.capture_limit = 16 * 1024 * 1024;
    cmd.timeout = std::chrono::minutes(10);
    exec::Outcome o = runner.run(cmd);
    TocInfo t;
    if (!o.ok()) {
        if (o.ending == exec::Ending::failed_to_start) {
            t.error = util::mask_secrets("cannot run pg_restore: " + o.error);
        } else {
            t.error = util::mask_secrets("pg_restore --list failed: " +
                                         std::string(util::trim(o.stderr_tail)));
        }
        return t;
    }
    for (const auto& line : util::split(o.stdout_tail, '\n')) {
        if (!line.empty() && line[0] != ';') {
            ++t.entries;
        }
    }
    t.ok = true;
    return t;
}

bool database_exists(pqxx::transaction_base& tx, const std::string& name) {
    return !tx.exec("SELECT 1 FROM pg_database WHERE datname = " + quote_literal(name)).empty();
}

std::string drop_database(const Dsn& server, const std::string& name, const StepSession& session) {
    try {
        auto c = connect(maintenance_dsn(server));
        pqxx::nontransaction nt(*c);
        session.fence();
        nt.exec("DROP DATABASE IF EXISTS " + quote_ident(name) + " WITH (FORCE)");
        return {};
    } catch (const std::exception& e) {
        return "cannot drop database " + name + ": " + db_error_text(e);
    }
}

RestoreResult restore_into_new_database(exec::ProcessRunner& runner, const RestoreRequest& req) {
    RestoreResult res;
    auto t0 = Clock::now();
    {
        auto c = connect(maintenance_dsn(req.server));
        pqxx::nontransaction nt(*c);
        try {
            if (database_exists(nt, req.database)) {
                res.error = "database " + req.database + " already exists; it was left alone";
                return res;
            }
            std::string create =
                "CREATE DATABASE " + quote_ident(req.database) + " TEMPLATE template0";
            if (!req.like_database.empty()) {
                pqxx::row d = nt.exec1(
                    "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate,"
                    " datctype FROM pg_database WHERE datname = " +
                    quote_literal(req.like_database));
                create += " OWNER " + quote_ident(d[0].c_str()) + " ENCODING " +
                          quote_literal(d[1].c_str()) + " LC_COLLATE " +
                          quote_literal(d[2].c_str()) + " LC_CTYPE " + quote_literal(d[3].c_str());
            }
            req.session.fence();
            nt.exec(create);
            res.created = true;
            if (!req.like_database.empty()) {
                copy_database_properties(nt, req.like_database, req.database);
            }
            if (req.on_created) {
                req.on_created();
            }
        } catch (const std::exception& e) {
            res.error = "cannot create database " + req.database + ": " + db_error_text(e);
        }
    }
    res.create_time = since(t0);
    if (!res.error.empty()) {
        if (res.created) {
            if (std::string err = drop_database(req.server, req.database, req.session);
                !err.empty()) {
                res.error += "; " + err;
            }
        }
        return res;
    }

    auto t1 = Clock::now();
    exec::Command cmd;
    cmd.argv = {pg_program("pg_restore"),
                "--verbose",
                "--exit-on-error",
                "--jobs=" + std::to_string(std::max(1, req.jobs)),
                "--dbname=" + req.server.with_dbname(req.database).conninfo_without_password(),
                std::filesystem::absolute(req.dump).string()}; // never read as an option
    cmd.env = req.server.child_env();
    cmd.capture_limit = 64 * 1024;
    int done = 0;
    std::string partial;
    auto last_report = Clock::now() - std::chrono::seconds(10);
    cmd.on_output = [&](std::string_view chunk, bool is_stderr) {
        if (!is_stderr) {
            return;
        }
        partial.append(chunk);
        size_t nl;
        while ((nl = partial.find('\n')) != std::string::npos) {
            if (is_item_line(std::string_view(partial).substr(0, nl))) {
                ++done;
            }
            partial.erase(0, nl + 1);
        }
        if (!req.progress || Clock::now() - last_report < std::chrono::milliseconds(500)) {
            return;
        }
        last_report = Clock::now();
        int total = std::max(req.toc_entries, done);
        std::string line =
            "restoring: " + std::to_string(done) + "/" + std::to_string(total) + " items";
        // Time, not items: the count of TOC items says nothing of how long the rest takes (a
        // large table's data is one item), so the ETA comes only from a rehearsal's measurement.
        const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(since(t1));
        line += ", " + util::format_duration(elapsed) + " elapsed";
        if (req.expected.count() > 0) {
            const auto left =
                std::chrono::duration_cast<std::chrono::seconds>(req.expected) - elapsed;
            line += left.count() > 0
                        ? ", ETA " + util::format_duration(left) + " as rehearsed"
                        : ", longer than the rehearsed " +
                              util::format_duration(
                                  std::chrono::duration_cast<std::chrono::seconds>(req.expected));
        } else {
            line += ", no ETA (no rehearsal)";
        }
        req.progress(line);
    };
    exec::Outcome o = runner.run(cmd);
    res.restore_time = since(t1);
    res.output_tail = util::tail(util::mask_secrets(o.stderr_tail), 4096);
    if (!o.ok()) {
        if (o.ending == exec::Ending::exited) {
            // The last "pg_restore: error:" line says what went wrong.
            std::string why;
            for (const auto& line : util::split(o.stderr_tail, '\n')) {
                if (line.find("error:") != std::string::npos ||
                    line.find("ERROR:") != std::string::npos) {
                    why = std::string(util::trim(line));
                }
            }
            res.error = "pg_restore into " + req.database + " failed (exit " +
                        std::to_string(o.exit_code) + ")" + (why.empty() ? "" : ": " + why);
        } else if (o.ending == exec::Ending::failed_to_start) {
            res.error = "cannot run pg_restore: " + o.error;
        } else {
            res.error =
                "pg_restore into " + req.database + " " + std::string(exec::to_string(o.ending));
        }
        res.error = util::mask_secrets(res.error);
        if (std::string err = drop_database(req.server, req.database, req.session); !err.empty()) {
            res.error += "; " + err;
        }
        return res;
    }
    if (req.progress) {
        req.progress("restoring: " + std::to_string(req.toc_entries) + "/" +
                     std::to_string(req.toc_entries) + " items, done in " +
                     util::format_duration(res.restore_time));
    }
    res.ok = true;
    return res;
}

} // namespace rollback::db
