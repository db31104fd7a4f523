// SPDX-License-Identifier: MIT
#include "db/rehearsal.hpp"

#include "db/backup_catalog.hpp"
#include "db/tables.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <pqxx/connection_base>
#include <pqxx/transaction>
#include <unistd.h>

namespace rollback::db {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point t0) {
    return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

double num(const json::object& o, const char* k) {
    const json::value* v = o.if_contains(k);
    if (v == nullptr) {
        return 0;
    }
    return v->is_double() ? v->as_double() : v->is_int64() ? static_cast<double>(v->as_int64()) : 0;
}

std::string text(const json::object& o, const char* k) {
    const json::value* v = o.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

} // namespace

json::object to_json(const Rehearsal& r) {
    json::object o;
    o["format"] = 1;
    o["step"] = r.step_id;
    o["time"] = r.time;
    o["backup"] = r.backup;
    o["database"] = r.database;
    o["scratch"] = r.scratch;
    o["ok"] = r.ok;
    o["problems"] = json::value_from(r.problems);
    o["toc_entries"] = r.toc_entries;
    o["check_s"] = r.check_s;
    o["restore_s"] = r.restore_s;
    o["verify_s"] = r.verify_s;
    o["drop_s"] = r.drop_s;
    o["total_s"] = r.total_s;
    if (!r.rehearse_id.empty()) {
        o["rehearse_id"] = r.rehearse_id;
        o["of"] = r.of;
        o["playbook"] = r.playbook;
    }
    if (!r.only.empty()) {
        o["only"] = json::value_from(r.only);
    }
    return o;
}

Rehearsal rehearse_restore(exec::ProcessRunner& runner, const RestoreSpec& prm,
                           const std::string& step_id, const fs::path& base,
                           const std::string& dsn_override, const ProgressFn& progress) {
    auto say = [&](const std::string& s) {
        if (progress) {
            progress(util::mask_secrets(s));
        }
    };
    Rehearsal r;
    r.step_id = step_id;
    auto now = std::chrono::system_clock::now();
    r.time = util::format_time(now);
    auto t_all = SteadyClock::now();
    try {
        Dsn dsn = Dsn::parse(dsn_override.empty() ? prm.dsn : dsn_override);
        r.database = dsn.dbname();
        BackupCatalog catalog(prm.catalog);
        std::vector<std::string> unreadable;
        BackupManifest m = catalog.select(prm.backup, r.database, unreadable, base);
        r.backup = m.id;
        for (const auto& why : unreadable) {
            say(step_id + ": backup catalog entry passed over: " + why);
        }
        say(step_id + ": backup " + m.id + ", loss window if run now: " + loss_window(m, now));

        auto t0 = SteadyClock::now();
        TocInfo toc;
        auto problems = check_archive(runner, m, toc);
        r.check_s = seconds_since(t0);
        r.toc_entries = toc.entries;
        if (!problems.empty()) {
            r.problems = problems;
            r.total_s = seconds_since(t_all);
            return r;
        }
        r.scratch = derived_db_name(r.database, "rehearse",
                                    util::format_time(now).substr(0, 19) + "_" +
                                        std::to_string(::getpid()));
        say(step_id + ": restoring into scratch database " + r.scratch);
        auto t1 = SteadyClock::now();
        RestoreRequest rq{dsn, r.scratch, dump_path(m), prm.jobs, toc.entries, {}, progress};
        RestoreResult rr = restore_into_new_database(runner, rq);
        r.restore_s = seconds_since(t1);
        if (!rr.ok) {
            r.problems.push_back(rr.error);
            r.total_s = seconds_since(t_all);
            return r;
        }
        auto t2 = SteadyClock::now();
        try {
            auto c = connect(dsn.with_dbname(r.scratch));
            pqxx::read_transaction tx(*c);
            for (auto& d : compare_stats(tx, m.tables)) {
                r.problems.push_back(std::move(d));
            }
            for (auto& f : run_asserts(tx, prm.asserts)) {
                r.problems.push_back(std::move(f));
            }
            tx.commit();
        } catch (const std::exception& e) {
            r.problems.push_back("verification: " + db_error_text(e));
        }
        r.verify_s = seconds_since(t2);
        auto t3 = SteadyClock::now();
        if (std::string err = drop_database(dsn, r.scratch); !err.empty()) {
            r.problems.push_back(err);
        }
        r.drop_s = seconds_since(t3);
    } catch (const util::Error& e) {
        r.problems.push_back(util::mask_secrets(e.what()));
    } catch (const std::exception& e) {
        r.problems.push_back(db_error_text(e));
    }
    r.ok = r.problems.empty();
    r.total_s = seconds_since(t_all);
    return r;
}

fs::path save_rehearsal(const fs::path& state_dir, const Rehearsal& r) {
    fs::path dir = state_dir / "rehearsals";
    fs::create_directories(dir);
    std::string stamp;
    for (char c : r.time) {
        stamp += (c == ':' ? '-' : c);
    }
    fs::path file = dir / (stamp + "-" + r.step_id + ".json");
    util::write_file_atomic(file, util::mask_secrets(util::json_text(to_json(r))) + "\n");
    return file;
}

std::optional<Rehearsal> last_rehearsal(const fs::path& state_dir, const std::string& step_id) {
    std::error_code ec;
    fs::path dir = state_dir / "rehearsals";
    if (!fs::is_directory(dir, ec)) {
        return std::nullopt;
    }
    std::optional<Rehearsal> best;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.path().extension() != ".json") {
            continue;
        }
        boost::system::error_code jec;
        json::value v = json::parse(util::read_file(e.path()), jec);
        if (jec || !v.is_object()) {
            continue;
        }
        const auto& o = v.as_object();
        const json::value* ok = o.if_contains("ok");
        if (text(o, "step") != step_id || ok == nullptr || !ok->is_bool() || !ok->as_bool()) {
            continue;
        }
        Rehearsal r;
        r.step_id = step_id;
        r.time = text(o, "time");
        r.backup = text(o, "backup");
        r.database = text(o, "database");
        r.scratch = text(o, "scratch");
        r.ok = true;
        r.toc_entries = static_cast<int>(num(o, "toc_entries"));
        r.check_s = num(o, "check_s");
        r.restore_s = num(o, "restore_s");
        r.verify_s = num(o, "verify_s");
        r.drop_s = num(o, "drop_s");
        r.total_s = num(o, "total_s");
        if (!best || r.time > best->time) {
            best = std::move(r);
        }
    }
    return best;
}

} // namespace rollback::db
