// SPDX-License-Identifier: MIT
// action = "pg_restore", strategy "side_swap": the step's keys read into a db::RestoreSpec; the
// restore itself (restore into <db>_restore_<run>, verify, swap names keeping the old database as
// <db>_rolledback_<run>, reconcile), its preflight, probe and rehearsal are db/'s; this file turns
// their outcomes into the step's result, checks and probe answer. See docs/database.md.
#include "actions/pg_restore_action.hpp"

#include "actions/db_sessions.hpp"
#include "actions/kind_action.hpp"
#include "actions/sql_text.hpp"
#include "db/restore_preflight.hpp"
#include "db/scratch_record.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <chrono>
#include <memory>
#include <set>

namespace rollback::actions {

using namespace db; // the database work is db/'s: this file adapts it to a step

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

db::RestoreSpec read_spec(const playbook::Playbook& pb, StepParams& p) {
    db::RestoreSpec out;
    if (auto dsn = p.string("dsn")) {
        out.dsn = *dsn;
        try {
            Dsn d = Dsn::parse(*dsn);
            if (d.dbname().empty()) {
                p.error("dsn", "must name the database (dbname=... or postgresql://.../DB)");
            }
        } catch (const util::Error& e) {
            p.error("dsn", e.what());
        }
    }
    if (auto c = p.string("catalog")) {
        fs::path cat = *c;
        out.catalog = cat.is_relative() ? (pb.directory / cat).lexically_normal() : cat;
    }
    if (auto b = p.string("backup")) {
        out.backup = *b;
        if (out.backup.rfind("before_release:", 0) == 0 &&
            out.backup.size() == std::string("before_release:").size()) {
            p.error("backup", "\"before_release:\" needs a release, e.g. \"before_release:2.4.0\"");
        }
    }
    if (auto j = p.integer("jobs")) {
        if (*j < 1 || *j > 64) {
            p.error("jobs", "must be between 1 and 64");
        } else {
            out.jobs = static_cast<int>(*j);
        }
    }
    if (auto s = p.string("strategy")) {
        out.strategy = *s;
        if (*s != "side_swap") {
            p.error(
                "strategy",
                "unknown strategy " + util::quoted(*s) + " (the only one is \"side_swap\")",
                "side_swap never overwrites the live database; an in-place restore is not offered");
        }
    }
    if (const auto* a = p.raw("assert")) {
        if (!a->is_array()) {
            p.error("assert", "expected an array of { sql = \"...\", expect = ... }");
        } else {
            for (size_t index = 0; index < a->as_array().size(); ++index) {
                const auto& item = a->as_array()[index];
                const auto* sql = member(&item, "sql");
                const auto* expect = member(&item, "expect");
                const auto* rows = member(&item, "expect_rows");
                if (sql == nullptr || !sql->is_string()) {
                    p.error("assert", "each entry needs sql = \"...\"");
                    continue;
                }
                SqlAssert sa;
                sa.sql = std::string(sql->as_string());
                refuse_transaction_control(p, "assert", sa.sql,
                                           "\"assert\" entry " + std::to_string(index + 1), true);
                sa.params = p.sql_params("assert." + std::to_string(index) + ".sql");
                if (expect != nullptr) {
                    sa.expect.scalar = expectation_text(*expect);
                    if (!sa.expect.scalar) {
                        p.error("assert", "expect must be a string, number or boolean");
                    }
                }
                if (rows != nullptr) {
                    if (!rows->is_int64() || rows->as_int64() < 0) {
                        p.error("assert", "expect_rows must be an integer ≥ 0");
                    } else {
                        sa.expect.rows = rows->as_int64();
                    }
                }
                if (expect == nullptr && rows == nullptr) {
                    p.error("assert", "each entry needs expect = ... or expect_rows = N");
                }
                for (const auto& [k, _] : item.as_object()) {
                    if (k != "sql" && k != "expect" && k != "expect_rows") {
                        p.error("assert",
                                "unknown key " + util::quoted(std::string(k)) + " in an entry");
                    }
                }
                out.asserts.push_back(std::move(sa));
            }
        }
    }
    if (const auto* r = p.raw("reconcile")) {
        if (!r->is_array()) {
            p.error("reconcile", "expected an array of { table = \"orders\", key = \"id\" }");
        } else {
            for (const auto& item : r->as_array()) {
                const auto* table = member(&item, "table");
                const auto* key = member(&item, "key");
                if (table == nullptr || !table->is_string() || table->as_string().empty()) {
                    p.error("reconcile", "each entry needs table = \"...\"");
                    continue;
                }
                ReconcileSpec spec;
                spec.table = std::string(table->as_string());
                if (key != nullptr && key->is_string()) {
                    spec.key.emplace_back(key->as_string());
                } else if (key != nullptr && key->is_array()) {
                    for (const auto& k : key->as_array()) {
                        if (k.is_string()) {
                            spec.key.emplace_back(k.as_string());
                        }
                    }
                }
                if (spec.key.empty()) {
                    p.error("reconcile", "entry for " + util::quoted(spec.table) +
                                             " needs key = \"column\" or key = [\"a\", \"b\"]");
                }
                for (const auto& [k, _] : item.as_object()) {
                    if (k != "table" && k != "key") {
                        p.error("reconcile",
                                "unknown key " + util::quoted(std::string(k)) + " in an entry");
                    }
                }
                out.reconcile.push_back(std::move(spec));
            }
        }
    }
    return out;
}

struct PgRestore {
    static constexpr std::string_view name = "pg_restore";
    using Params = PgRestoreParams;

    static std::vector<std::string> keys() {
        return {"dsn", "catalog", "backup", "jobs", "strategy", "assert", "reconcile"};
    }
    static std::vector<std::string> required_keys() { return {"dsn", "catalog"}; }
    static std::map<std::string, playbook::Encoding> encodings() {
        return {{"dsn", playbook::Encoding::dsn}, {"assert.sql", playbook::Encoding::sql}};
    }

    static Params parse(StepParams& p, const playbook::Playbook& pb, const playbook::Step&) {
        Params out;
        out.spec = read_spec(pb, p);
        if (auto c = p.string("catalog")) {
            fs::path cat = *c;
            out.shown_catalog = (cat.is_relative() ? cat.lexically_normal() : cat).string();
        }
        return out;
    }

    static std::string describe(const playbook::Step&, const Params& params) {
        const RestoreSpec& prm = params.spec;
        std::string out = "restore " + prm.backup + " from " + params.shown_catalog + " into " +
                          util::mask_dsn(prm.dsn) + " (side_swap, jobs " +
                          std::to_string(prm.jobs) + ")";
        if (!prm.asserts.empty()) {
            out += ", " + std::to_string(prm.asserts.size()) + " assert(s)";
        }
        if (!prm.reconcile.empty()) {
            std::vector<std::string> t;
            for (const auto& r : prm.reconcile) {
                t.push_back(r.table);
            }
            out += ", reconcile " + util::join(t, ", ");
        }
        return out;
    }

    static std::vector<Check> preflight(const Context& ctx, const Params& params) {
        std::vector<Check> checks;
        for (auto& c : preflight_side_swap(ctx.runner, params.spec,
                                           {ctx.run_id, ctx.playbook.directory, ctx.state_dir,
                                            ctx.step.id, ctx.playbook.file})) {
            checks.push_back(
                {c.ok, std::move(c.what), std::move(c.problem), std::move(c.hint), c.notice});
        }
        return checks;
    }

    // The step's work: db::run_side_swap for this run, its outcome as the step's result.
    static Result run(const Context& ctx, const Params& params) {
        Result res;
        SideSwapRun run{ctx.run_id,  ctx.playbook.directory, ctx.run_dir / "reconcile",
                        ctx.step.id, ctx.progress,           ctx.stage};
        // Only the progress' ETA: a record that cannot be read is said, never a failure.
        std::vector<std::string> skipped;
        if (auto r = db::last_rehearsal(ctx.state_dir, ctx.step.id, &skipped);
            r && r->restore_s > 0) {
            run.expected_restore = util::Millis(static_cast<long long>(r->restore_s * 1000));
        }
        if (ctx.progress) {
            for (const auto& why : skipped) {
                ctx.progress("rehearsal record passed over (no ETA from it): " + why);
            }
        }
        run.session = step_session(ctx, "a database change of step " + util::quoted(ctx.step.id));
        SideSwapOutcome o =
            fenced_work([&] { return run_side_swap(ctx.runner, params.spec, run); });
        if (o.ok) {
            res.status = Status::succeeded;
            res.exit_code = 0;
        }
        res.summary = std::move(o.summary);
        res.output_tail = std::move(o.output_tail);
        res.details = std::move(o.details);
        return res;
    }

    // Through the maintenance database: the step's own may not accept connections halfway
    // through a swap, and pg_stat_activity shows every database of the server.
    static SessionSweep end_sessions(const Params& params, const std::vector<std::string>& names,
                                     util::Millis wait) {
        return end_db_sessions(params.spec.dsn, true, names, wait);
    }

    // Resume's "is it done?": done once reconciled; not_done (re-running continues) at any
    // earlier stage; unknown when the databases are in a state no run leaves them in, or cannot
    // be read.
    static ProbeAnswer probe(const Context& ctx, const Params& params) {
        ProbeAnswer a;
        try {
            RestoreProbe found = probe_restore(Dsn::parse(params.spec.dsn), ctx.run_id);
            a.state = util::mask_secrets(found.describe());
            if (!found.problem.empty()) {
                a.verdict = ProbeAnswer::Verdict::unknown;
            } else if (found.stage == RestoreStage::reconciled) {
                a.verdict = ProbeAnswer::Verdict::done;
            } else {
                a.verdict = ProbeAnswer::Verdict::not_done;
            }
        } catch (const std::exception& e) {
            a.verdict = ProbeAnswer::Verdict::unknown;
            a.state = "cannot probe the databases: " + util::mask_secrets(e.what());
        }
        return a;
    }
};

} // namespace

std::unique_ptr<Action> make_pg_restore_action() {
    return std::make_unique<KindAction<PgRestore>>();
}

std::shared_ptr<const PgRestoreParams>
pg_restore_params(const playbook::Playbook& pb, const playbook::Step& step, std::string& problem) {
    if (auto kept = std::dynamic_pointer_cast<const PgRestoreParams>(step.parsed)) {
        return kept;
    }
    Parsed parsed = KindAction<PgRestore>().parse(pb, step);
    if (!parsed.diagnostics.empty()) {
        problem = parsed.diagnostics.front().problem;
        return nullptr;
    }
    return std::static_pointer_cast<const PgRestoreParams>(parsed.params);
}

Rehearsal rehearse_pg_restore(const playbook::Playbook& pb, const playbook::Step& step,
                              exec::ProcessRunner& runner, const std::string& dsn_override,
                              const ProgressFn& progress, const fs::path& state_dir) {
    std::string problem;
    auto prm = pg_restore_params(pb, step, problem);
    if (prm == nullptr) {
        Rehearsal r;
        r.step_id = step.id;
        r.time = util::format_time(std::chrono::system_clock::now());
        r.problems.push_back(problem);
        return r;
    }
    const std::string playbook =
        pb.file.empty() ? std::string() : fs::absolute(pb.file).lexically_normal().string();
    return rehearse_restore(runner, prm->spec,
                            {step.id, pb.directory, dsn_override, state_dir, playbook, progress});
}

LeftoverScan scan_leftover_databases(const playbook::Playbook& pb, const std::string& live_run_id,
                                     const fs::path& state_dir) {
    LeftoverScan scan;
    std::set<std::string> seen;
    for (const auto* list : {&pb.steps, &pb.finally}) {
        for (const auto& step : *list) {
            if (step.action != "pg_restore") {
                continue;
            }
            std::string problem;
            auto prm = pg_restore_params(pb, step, problem);
            if (prm == nullptr) {
                continue;
            }
            try {
                Dsn dsn = Dsn::parse(prm->spec.dsn);
                if (!seen.insert(maintenance_dsn(dsn).conninfo() + "\n" + dsn.dbname()).second) {
                    continue;
                }
                // In use: a rehearsal of this state directory's, a verification of the step's
                // backup catalog's.
                const auto in_use = scratch_in_use(state_dir, prm->spec.catalog);
                for (auto& l : find_leftover_databases(dsn, live_run_id, in_use)) {
                    scan.found.push_back(std::move(l));
                }
            } catch (const std::exception& e) {
                scan.not_checked.push_back("step " + step.id + ": " + util::mask_secrets(e.what()));
            }
        }
    }
    return scan;
}

} // namespace rollback::actions
