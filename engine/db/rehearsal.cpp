// SPDX-License-Identifier: MIT
#include "db/rehearsal.hpp"

#include "db/backup_catalog.hpp"
#include "db/restore_state.hpp"
#include "db/scratch_record.hpp"
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

namespace {

/// "interrupted by SIGTERM" when an interrupt came (a person's Ctrl-C, `systemctl stop`).
std::string interrupted() {
    const int sig = exec::interrupt_requested();
    return sig == 0 ? std::string() : "interrupted by " + exec::interrupt_name(sig);
}

} // namespace

Rehearsal rehearse_restore(exec::ProcessRunner& runner, const RestoreSpec& prm,
                           const RehearsalSetup& setup) {
    auto say = [&](const std::string& s) {
        if (setup.progress) {
            setup.progress(util::mask_secrets(s));
        }
    };
    const std::string& step_id = setup.step_id;
    Rehearsal r;
    r.step_id = step_id;
    auto now = std::chrono::system_clock::now();
    r.time = util::format_time(now);
    auto t_all = SteadyClock::now();
    std::optional<ScratchClaim> claim;
    std::optional<Dsn> server;
    bool created = false;
    try {
        Dsn dsn = Dsn::parse(setup.dsn_override.empty() ? prm.dsn : setup.dsn_override);
        server = dsn;
        r.database = dsn.dbname();
        // What interrupted rehearsals of this state directory left of this database on this
        // server (kill -9, a reboot): dropped first — their records say they are theirs.
        for (const auto& line : drop_stale_scratch(setup.state_dir, dsn)) {
            say(step_id + ": " + line);
        }
        // Others of the name but of no record here (another state directory's, or left before
        // rehearsals recorded them): named with the command, never dropped.
        try {
            for (const auto& l :
                 find_leftover_databases(dsn, "", scratch_in_use(setup.state_dir, prm.catalog))) {
                if (l.kind == "rehearsal") {
                    say(step_id + ": leftover " + l.name + ": " + l.describe() +
                        "; not recorded here, so not dropped: drop it with: " + l.drop_command);
                }
            }
        } catch (const std::exception&) {
            // The server's problem is the restore's to say.
        }
        BackupCatalog catalog(prm.catalog);
        std::vector<std::string> unreadable;
        BackupManifest m = catalog.select(prm.backup, r.database, unreadable, setup.base);
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
        if (std::string why = interrupted(); !why.empty()) {
            problems = {why};
        }
        if (!problems.empty()) {
            r.problems = problems;
            r.total_s = seconds_since(t_all);
            return r;
        }
        r.scratch = derived_db_name(r.database, "rehearse",
                                    util::format_time(now).substr(0, 19) + "_" +
                                        std::to_string(::getpid()));
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        claim.emplace(ScratchClaim::claim(
            setup.state_dir, ScratchRecord{r.scratch, r.database, scratch_server(dsn), step_id,
                                           setup.playbook, r.time, ::getpid(), host}));
        say(step_id + ": restoring into scratch database " + r.scratch);
        auto t1 = SteadyClock::now();
        RestoreRequest rq{dsn, r.scratch, dump_path(m), prm.jobs, toc.entries, {}, setup.progress};
        RestoreResult rr = restore_into_new_database(runner, rq); // ends pg_restore on interrupt
        created = rr.created;
        r.restore_s = seconds_since(t1);
        if (!rr.ok) {
            r.problems.push_back(rr.error);
        } else if (std::string why = interrupted(); !why.empty()) {
            r.problems.push_back(why + ": not verified");
        } else {
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
        }
        if (rr.ok) {
            auto t3 = SteadyClock::now();
            if (std::string err = drop_database(dsn, r.scratch); !err.empty()) {
                r.problems.push_back(err);
            }
            r.drop_s = seconds_since(t3);
        }
    } catch (const util::Error& e) {
        r.problems.push_back(util::mask_secrets(e.what()));
    } catch (const std::exception& e) {
        r.problems.push_back(db_error_text(e));
    }
    if (claim) {
        if (std::string left = settle_scratch(*claim, created, *server); !left.empty()) {
            r.scratch_left = true;
            r.problems.push_back(left);
        }
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

std::optional<Rehearsal> last_rehearsal(const fs::path& state_dir, const std::string& step_id,
                                        std::vector<std::string>* skipped) {
    // Only an ETA depends on these records: one that cannot be read is passed over and named,
    // never a reason for a restore or its preflight to fail (break-it 42/01).
    std::vector<std::string> unreadable;
    std::optional<Rehearsal> best;
    for (const auto& f :
         util::read_directory_files(state_dir / "rehearsals", ".json", unreadable)) {
        boost::system::error_code jec;
        json::value v = json::parse(f.text, jec);
        if (jec || !v.is_object()) {
            unreadable.push_back("rehearsal record " + f.path.string() + ": " +
                                 (jec ? "invalid JSON: " + jec.message() : "not a JSON object"));
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
    if (skipped != nullptr) {
        skipped->insert(skipped->end(), unreadable.begin(), unreadable.end());
    }
    return best;
}

std::string rehearsal_record_hint(const fs::path& state_dir) {
    return "it only gives the restore's ETA, and blocks nothing: move it out of " +
           (state_dir / "rehearsals").string() +
           ", or give it to the user rollback runs as ('rollback rehearse' renames its records "
           "into place: they are never half-written)";
}

} // namespace rollback::db
