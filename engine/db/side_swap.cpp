// SPDX-License-Identifier: MIT
// The side_swap restore, stage by stage. Each stage is recorded in the databases (a COMMENT ON
// DATABASE, see restore_state.hpp) before the next one starts, and reported to the caller
// (SideSwapRun::on_stage; the pg_restore step journals it as step_progress). A restore after a
// crash probes the databases and continues from the stage it finds. See docs/database.md.
#include "db/side_swap.hpp"

#include "db/backup_catalog.hpp"
#include "db/restore.hpp"
#include "db/restore_state.hpp"
#include "db/tables.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <boost/json/value_from.hpp>
#include <chrono>
#include <optional>
#include <pqxx/connection_base>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <thread>

namespace rollback::db {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point t0) {
    return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// Blocks new connections to `db`, terminates the sessions of `db` and `side`, and in one
// transaction renames db → rolled, side → db and marks the new `db` as swapped (ALTER DATABASE
// RENAME and COMMENT are transactional: all or nothing). On failure `db` accepts connections as
// `mark.allow_connections` says and nothing was renamed.
std::string swap_databases(const Dsn& server, const std::string& db, const std::string& side,
                           const std::string& rolled, RestoreMark mark,
                           const StepSession& session) {
    auto conn = connect(maintenance_dsn(server));
    pqxx::nontransaction nt(*conn);
    session.fence(); // nothing done yet: a refusal leaves everything as it is
    try {
        nt.exec("ALTER DATABASE " + quote_ident(db) + " ALLOW_CONNECTIONS false");
    } catch (const std::exception& e) {
        return "cannot block new connections to " + db + ": " + db_error_text(e);
    }
    std::string error;
    std::optional<Fenced> fenced; // refused before the COMMIT: rolled back, then rethrown
    try {
        int left = 0;
        for (int attempt = 0; attempt < 100; ++attempt) {
            nt.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN (" +
                    quote_literal(db) + ", " + quote_literal(side) +
                    ") AND pid <> pg_backend_pid()");
            left = nt.exec1("SELECT count(*) FROM pg_stat_activity WHERE datname IN (" +
                            quote_literal(db) + ", " + quote_literal(side) +
                            ") AND pid <> pg_backend_pid()")[0]
                       .as<int>();
            if (left == 0) {
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (left != 0) {
            error = std::to_string(left) + " session(s) on " + db +
                    " could not be terminated (permission?)";
        } else {
            nt.exec("BEGIN");
            try {
                nt.exec("ALTER DATABASE " + quote_ident(db) + " RENAME TO " + quote_ident(rolled));
                nt.exec("ALTER DATABASE " + quote_ident(side) + " RENAME TO " + quote_ident(db));
                mark.stage = RestoreStage::swapped;
                write_mark(nt, db, mark);
                try {
                    session.fence();
                } catch (const Fenced& f) {
                    fenced = f;
                }
                nt.exec(fenced ? "ROLLBACK" : "COMMIT");
            } catch (...) {
                try {
                    nt.exec("ROLLBACK");
                } catch (...) {
                }
                throw;
            }
        }
    } catch (const std::exception& e) {
        error = "swap failed: " + db_error_text(e);
    }
    if (fenced) {
        error = "not swapped: the run lock was lost";
    }
    // Whichever name the old database now has, it accepts connections as before (the reconciliation
    // reads it; people may need to).
    std::string now_named = error.empty() ? rolled : db;
    try {
        nt.exec("ALTER DATABASE " + quote_ident(now_named) + " ALLOW_CONNECTIONS " +
                (mark.allow_connections ? "true" : "false"));
    } catch (const std::exception& e) {
        log::warn("cannot re-allow connections to {}: {}", now_named, db_error_text(e));
        if (!error.empty()) {
            error += "; and connections to " + db + " are still blocked: " + db_error_text(e);
        }
    }
    if (fenced) {
        throw *fenced; // nothing of the swap happened; no outcome of it (no drop of the side)
    }
    return error;
}

// Records `stage` in database `name` (durable: a committed comment), then in the journal.
void advance(const SideSwapRun& run, const Dsn& dsn, const std::string& name, RestoreMark& mark,
             RestoreStage stage) {
    mark.stage = stage;
    {
        auto conn = connect(maintenance_dsn(dsn));
        pqxx::work tx(*conn);
        write_mark(tx, name, mark);
        run.session.fence();
        tx.commit();
    }
    if (run.on_stage) {
        run.on_stage(std::string(to_string(stage)), {{"database", name}, {"backup", mark.backup}});
    }
}

} // namespace

SideSwapOutcome run_side_swap(exec::ProcessRunner& runner, const RestoreSpec& prm,
                              const SideSwapRun& run) {
    SideSwapOutcome res;
    auto say = [&](const std::string& s) {
        log::info("{}: {}", run.log_name, s);
        if (run.progress) {
            run.progress(util::mask_secrets(s));
        }
    };
    json::object timings;
    try {
        // Named: every session of this attempt — pg_restore's too, by its --dbname — is found
        // by a resume that must end it before the step runs again.
        Dsn dsn = run.session.named(Dsn::parse(prm.dsn));
        const std::string db = dsn.dbname();
        RestoreProbe probe = probe_restore(dsn, run.run_id);
        const std::string& side = probe.side;
        const std::string& rolled = probe.rolled;
        res.details["database"] = db;
        res.details["side_database"] = side;
        res.details["rolled_back_database"] = rolled;
        if (!probe.problem.empty()) {
            res.summary = "cannot continue the restore of " + db + ": " + probe.problem;
            return res;
        }
        RestoreStage stage = probe.stage;
        res.details["resumed_at_stage"] = std::string(to_string(stage));

        // The backup an earlier attempt of this run restored stays the one (a newer "last_good"
        // must not be verified against, or swapped in half-way).
        BackupCatalog catalog(prm.catalog);
        std::vector<std::string> unreadable;
        BackupManifest m =
            probe.mark && !probe.mark->backup.empty() && stage >= RestoreStage::restored
                ? catalog.get(probe.mark->backup)
                : catalog.select(prm.backup, db, unreadable, run.base);
        if (!unreadable.empty()) {
            json::array passed;
            for (const auto& why : unreadable) {
                say("backup catalog entry passed over: " + why);
                passed.emplace_back(why);
            }
            res.details["catalog_unreadable"] = std::move(passed);
        }
        std::string window = loss_window(m, std::chrono::system_clock::now());
        res.details["backup"] = m.id;
        res.details["loss_window"] = window;
        say("backup " + m.id + "; loss window " + window);
        RestoreMark mark = probe.mark.value_or(RestoreMark{run.run_id, stage, m.id, true});
        mark.backup = m.id;

        if (stage == RestoreStage::side_created) {
            // pg_restore may have stopped anywhere: this run's side database starts over.
            say("dropping " + side + " left half-restored by an earlier attempt of this run");
            if (std::string err = drop_database(dsn, side, run.session); !err.empty()) {
                res.summary = err;
                return res;
            }
            stage = RestoreStage::none;
        } else if (stage != RestoreStage::none) {
            say("continuing the restore of " + db + " at stage " + std::string(to_string(stage)) +
                " (" + probe.describe() + ")");
        }

        if (stage == RestoreStage::none) {
            auto t0 = SteadyClock::now();
            TocInfo toc;
            auto problems = check_archive(runner, m, toc);
            timings["check_archive_s"] = seconds_since(t0);
            if (!problems.empty()) {
                res.summary = "backup " + m.id + " is not usable: " + util::join(problems, "; ") +
                              "; " + db + " unchanged";
                return res;
            }
            say("restoring " + m.id + " into " + side + " (" + std::to_string(toc.entries) +
                " items, jobs " + std::to_string(prm.jobs) + ")");
            RestoreRequest rq{dsn, side, dump_path(m), prm.jobs, toc.entries, db, run.progress};
            rq.expected = run.expected_restore;
            rq.session = run.session;
            rq.on_created = [&] { advance(run, dsn, side, mark, RestoreStage::side_created); };
            RestoreResult rr = restore_into_new_database(runner, rq);
            timings["create_s"] = std::chrono::duration<double>(rr.create_time).count();
            timings["restore_s"] = std::chrono::duration<double>(rr.restore_time).count();
            res.output_tail = rr.output_tail;
            if (!rr.ok) {
                res.summary = rr.error + "; " + db + " unchanged";
                res.details["timings"] = timings;
                return res;
            }
            advance(run, dsn, side, mark, RestoreStage::restored);
            stage = RestoreStage::restored;
        }

        if (stage == RestoreStage::restored) {
            auto t1 = SteadyClock::now();
            say("verifying " + side + " against the manifest (" + std::to_string(m.tables.size()) +
                " tables) and " + std::to_string(prm.asserts.size()) + " assert(s)");
            std::vector<std::string> problems;
            {
                auto sc = connect(dsn.with_dbname(side));
                pqxx::read_transaction tx(*sc);
                problems = compare_stats(tx, m.tables);
                for (auto& f : run_asserts(tx, prm.asserts)) {
                    problems.push_back(std::move(f));
                }
                tx.commit();
            }
            timings["verify_s"] = seconds_since(t1);
            if (!problems.empty()) {
                std::string err = drop_database(dsn, side, run.session);
                res.summary =
                    "restored database failed verification: " + util::join(problems, "; ") + "; " +
                    side + " dropped" + (err.empty() ? "" : " (" + err + ")") + "; " + db +
                    " unchanged";
                res.details["verification_problems"] = json::value_from(problems);
                res.details["timings"] = timings;
                return res;
            }
            advance(run, dsn, side, mark, RestoreStage::verified);
            stage = RestoreStage::verified;
        }

        if (stage == RestoreStage::verified || stage == RestoreStage::swapping) {
            if (stage == RestoreStage::verified) {
                // The one moment <db>'s own setting is known for sure: before we block it.
                auto conn = connect(maintenance_dsn(dsn));
                pqxx::read_transaction tx(*conn);
                mark.allow_connections = tx.exec1("SELECT datallowconn FROM pg_database WHERE "
                                                  "datname = " +
                                                  quote_literal(db))[0]
                                             .as<bool>();
                tx.commit();
                advance(run, dsn, side, mark, RestoreStage::swapping);
            }
            auto t2 = SteadyClock::now();
            say("swapping: " + db + " → " + rolled + ", " + side + " → " + db);
            std::string err = swap_databases(dsn, db, side, rolled, mark, run.session);
            timings["swap_s"] = seconds_since(t2);
            if (!err.empty()) {
                std::string derr = drop_database(dsn, side, run.session);
                res.summary = err + "; " + side + " dropped" +
                              (derr.empty() ? "" : " (" + derr + ")") + "; " + db + " unchanged";
                res.details["timings"] = timings;
                return res;
            }
            mark.stage = RestoreStage::swapped;
            if (run.on_stage) {
                run.on_stage("swapped", {{"database", db}, {"rolled_back_database", rolled}});
            }
        } else {
            // Swapped by an earlier attempt, which may have died before the old database was
            // let accept connections again; the reconciliation reads it.
            auto conn = connect(maintenance_dsn(dsn));
            pqxx::nontransaction nt(*conn);
            run.session.fence();
            nt.exec("ALTER DATABASE " + quote_ident(rolled) + " ALLOW_CONNECTIONS " +
                    (mark.allow_connections ? "true" : "false"));
            say(db + " was already swapped by an earlier attempt of this run (" + rolled +
                " kept); reconciling");
        }

        auto t3 = SteadyClock::now();
        json::array rec;
        std::int64_t total_missing = 0;
        std::int64_t total_changed = 0;
        std::string rec_error;
        if (!prm.reconcile.empty()) {
            say("reconciling " + std::to_string(prm.reconcile.size()) + " table(s) of " + rolled +
                " with " + db);
            try {
                auto old_conn = connect(dsn.with_dbname(rolled));
                auto new_conn = connect(dsn);
                for (const auto& spec : prm.reconcile) {
                    ReconcileCounts c =
                        reconcile_table(*old_conn, *new_conn, spec, run.reconcile_dir);
                    json::object o;
                    o["table"] = c.table;
                    o["missing"] = c.missing;
                    o["changed"] = c.changed;
                    o["restored_only"] = c.restored_only;
                    o["missing_csv"] = c.missing_csv.string();
                    o["changed_csv"] = c.changed_csv.string();
                    rec.push_back(std::move(o));
                    total_missing += c.missing;
                    total_changed += c.changed;
                }
            } catch (const std::exception& e) {
                rec_error = util::mask_secrets(e.what());
            }
        }
        timings["reconcile_s"] = seconds_since(t3);
        res.details["reconcile"] = std::move(rec);
        res.details["timings"] = timings;
        std::string summary = "restored " + m.id + " as " + db + " (loss window " + window +
                              "); previous database kept as " + rolled;
        if (!rec_error.empty()) {
            // No counts of a reconciliation that did not finish: "0 missing" would read as
            // "nothing was lost" while the rows were never exported.
            res.details["reconcile_error"] = rec_error;
            res.summary = summary + "; reconciliation FAILED, the export in " +
                          run.reconcile_dir.string() + " is incomplete: " + rec_error +
                          " (reconcile " + rolled + " by hand)";
            return res;
        }
        if (!prm.reconcile.empty()) {
            summary += "; reconcile: " + std::to_string(total_missing) + " missing, " +
                       std::to_string(total_changed) + " changed row(s) in " +
                       run.reconcile_dir.string();
        }
        advance(run, dsn, db, mark, RestoreStage::reconciled);
        res.ok = true;
        res.summary = summary;
    } catch (const util::Error& e) {
        res.summary = util::mask_secrets(e.what());
        if (!e.hint().empty()) {
            res.summary += " (hint: " + e.hint() + ")";
        }
        res.details["timings"] = timings;
    } catch (const std::exception& e) {
        res.summary = db_error_text(e);
        res.details["timings"] = timings;
    }
    return res;
}

} // namespace rollback::db
