// SPDX-License-Identifier: MIT
#include "actions/pg_restore_action.hpp"
#include "cli/commands.hpp"
#include "cli/load.hpp"
#include "cli/options.hpp"
#include "cli/state_dir.hpp"
#include "db/scratch_record.hpp"
#include "journal/paths.hpp"
#include "journal/state.hpp"
#include "report/run_report.hpp"
#include "state/local_store.hpp"
#include "state/pg_store.hpp"
#include "state/step_gate.hpp"
#include "util/error.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <optional>
#include <set>

namespace rollback::cli {

namespace {

// Databases the restores of the run's playbook left behind (side databases of runs not running
// now, kept rolled-back databases), and the scratch databases interrupted rehearsals of the state
// directory left — of their playbooks too, so they are shown when there is no run at all (break-it
// 42/03). A playbook that cannot be loaded any more is "not checked".
actions::LeftoverScan leftover_databases(const journal::RunState* run, const state::Store& store,
                                         const std::filesystem::path& state_dir) {
    actions::LeftoverScan scan;
    std::vector<std::string> playbooks;
    if (run != nullptr && !run->playbook.empty() &&
        std::any_of(run->steps.begin(), run->steps.end(),
                    [](const auto& st) { return st.action == "pg_restore"; })) {
        playbooks.push_back(run->playbook);
    }
    std::vector<std::string> skipped;
    const auto records = db::scratch_records(state_dir, skipped);
    for (const auto& r : records) {
        if (!r.in_use && !r.playbook.empty() &&
            std::find(playbooks.begin(), playbooks.end(), r.playbook) == playbooks.end()) {
            playbooks.push_back(r.playbook);
        }
    }
    std::set<std::string> names;   // each leftover once, whichever playbook found it
    std::set<std::string> checked; // "server\ndatabase" of every pg_restore step looked at
    for (const auto& playbook : playbooks) {
        try {
            auto pb = load_playbook(playbook, {});
            auto holder = store.lease_holder();
            auto found =
                actions::scan_leftover_databases(pb, holder ? holder->run_id : "", state_dir);
            for (auto& l : found.found) {
                if (names.insert(l.name + "\n" + l.drop_command).second) {
                    scan.found.push_back(std::move(l));
                }
            }
            for (auto& n : found.not_checked) {
                scan.not_checked.push_back(std::move(n));
            }
            for (const auto* steps : {&pb.steps, &pb.finally}) {
                for (const auto& st : *steps) {
                    std::string problem;
                    auto prm = st.action == "pg_restore"
                                   ? actions::pg_restore_params(pb, st, problem)
                                   : nullptr;
                    if (prm != nullptr) {
                        const auto dsn = db::Dsn::parse(prm->spec.dsn);
                        checked.insert(db::scratch_server(dsn) + "\n" + dsn.dbname());
                    }
                }
            }
        } catch (const std::exception& e) {
            scan.not_checked.push_back("playbook " + playbook + ": " + e.what());
        }
    }
    // A rehearsal on another server (`rehearse --dsn`): its server is no playbook's.
    for (const auto& r : records) {
        if (!r.in_use && checked.count(r.server + "\n" + r.database) == 0) {
            scan.not_checked.push_back(
                "scratch database " + r.name + " of a rehearsal started " + r.started +
                " that did not finish, on a server no " +
                "playbook names; if it is there, drop it with: " + r.drop_command());
        }
    }
    for (const auto& why : skipped) {
        scan.not_checked.push_back("scratch record passed over: " + why);
    }
    return scan;
}

/// `leftover_databases` and `leftover_databases_not_checked` of status --json.
void leftovers_json(const actions::LeftoverScan& leftovers, boost::json::object& o) {
    boost::json::array dbs;
    for (const auto& l : leftovers.found) {
        dbs.push_back({{"name", l.name},
                       {"kind", l.kind},
                       {"database", l.database},
                       {"run_id", l.run_id},
                       {"stage", l.stage},
                       {"drop_command", l.drop_command}});
    }
    o["leftover_databases"] = std::move(dbs);
    boost::json::array not_checked;
    for (const auto& n : leftovers.not_checked) {
        not_checked.emplace_back(n);
    }
    o["leftover_databases_not_checked"] = std::move(not_checked);
}

std::string leftovers_text(const actions::LeftoverScan& leftovers) {
    std::string out;
    if (!leftovers.found.empty()) {
        out += "  leftover databases (no run drops them):\n";
        for (const auto& l : leftovers.found) {
            out += "    " + l.name + ": " + l.describe() + "\n      drop: " + l.drop_command + "\n";
        }
    }
    for (const auto& n : leftovers.not_checked) {
        out += "  leftover databases: not checked (" + n + ")\n";
    }
    return out;
}

/// The approval gates the run waits at: a step of action "approve" in flight whose request has
/// no answer yet (after an engine crash too: resume waits again until the same expiry).
std::vector<state::GateRequest> awaited_gates(const journal::RunState& run,
                                              state::GateDocuments& docs) {
    std::vector<state::GateRequest> out;
    const state::StepGates gates(docs);
    for (const auto& st : run.steps) {
        if (st.action != "approve" || !st.in_flight) {
            continue;
        }
        // An unreadable gate file is said and counts as no answer: status keeps working.
        try {
            auto req = gates.request(run.run_id, st.id);
            if (!req) {
                continue;
            }
            try {
                if (gates.answer(run.run_id, st.id)) {
                    continue;
                }
            } catch (const util::Error& e) {
                std::fprintf(stderr, "rollback: warning: %s (hint: %s)\n", e.what(),
                             e.hint().c_str());
            }
            out.push_back(*req);
        } catch (const util::Error& e) {
            std::fprintf(stderr, "rollback: warning: %s (hint: %s)\n", e.what(), e.hint().c_str());
        }
    }
    return out;
}

/// Who leads the monitors sharing the state (docs/config.md "Leadership"); nullopt for a state
/// directory (a monitor alone always leads).
std::optional<std::string> leader_line(state::Store& store, boost::json::object* json) {
    auto* pg = dynamic_cast<state::PgStore*>(&store);
    if (pg == nullptr) {
        return std::nullopt;
    }
    auto row = pg->lease_row("leader");
    if (!row.live || !row.holder) {
        if (json != nullptr) {
            (*json)["leader"] = nullptr;
        }
        return "leader: none (no monitor leads now; last generation " +
               std::to_string(row.generation) + ")";
    }
    const auto& h = *row.holder;
    if (json != nullptr) {
        (*json)["leader"] = {{"host", h.host},
                             {"pid", h.pid},
                             {"generation", row.generation},
                             {"since", h.started},
                             {"lease_expires_at", row.expires_at}};
    }
    return "leader: " + h.host + " pid " + std::to_string(h.pid) + " (generation " +
           std::to_string(row.generation) + ", since " + h.started + ", lease until " +
           row.expires_at + ")";
}

} // namespace

int cmd_status(const Args& args) {
    CommonOptions common;
    std::string playbook;
    std::string run_id;
    po::options_description desc("status [RUN_ID] options");
    add_common_options(desc, common, use_config | use_state_dir | use_json);
    desc.add_options()("playbook,p", po::value(&playbook)->value_name("PLAYBOOK"),
                       "use the state directory beside this playbook") //
        ("run-id", po::value(&run_id)->value_name("RUN_ID"),
         "the run (default: the current or last run)");
    po::positional_options_description pos;
    pos.add("run-id", 1);
    po::variables_map vm;
    if (!parse_options("status", args, desc, pos, vm)) {
        return util::to_int(util::ExitCode::ok);
    }
    const StateDir sd = resolve_state_dir(common, playbook);
    auto store_ptr = open_store(sd, state::SchemaAccess::read);
    state::Store& store = *store_ptr;
    if (run_id.empty()) {
        // The current run is the lock holder's; otherwise the newest journal.
        if (auto holder = store.lease_holder();
            holder && journal::is_valid_run_id(holder->run_id)) {
            run_id = holder->run_id;
        } else if (auto latest = store.latest_run()) {
            run_id = *latest;
        } else {
            boost::json::object o{{"run_id", nullptr},
                                  {"state", "none"},
                                  {"store", state_where(sd)},
                                  {"store_origin", sd.origin}};
            auto leader = leader_line(store, &o);
            // No run, but perhaps a rehearsal that did not finish and left its scratch copy.
            const auto leftovers = leftover_databases(nullptr, store, sd.dir);
            if (common.json) {
                leftovers_json(leftovers, o);
                std::puts(util::mask_secrets(util::json_text(o)).c_str());
            } else {
                std::printf("no runs in %s (%s)\n", util::terminal_text(state_where(sd)).c_str(),
                            util::terminal_text(sd.origin).c_str());
                if (leader) {
                    std::printf("%s\n", util::terminal_text(*leader).c_str());
                }
                std::fputs(util::terminal_text(leftovers_text(leftovers)).c_str(), stdout);
            }
            return util::to_int(util::ExitCode::ok);
        }
    }
    auto view =
        report::load_run(store, run_id, state_args(sd), false); // a long run's records are not kept
    auto leftovers = leftover_databases(&view.state, store, sd.dir);
    // Releases rolled back from stay marked bad: never re-deployed or re-judged as a baseline.
    std::vector<state::BadRelease> bad;
    std::string bad_problem; // an unreadable releases.json is said; the run is still shown
    try {
        bad = store.bad_releases();
    } catch (const util::Error& e) {
        bad_problem = std::string(e.what()) + (e.hint().empty() ? "" : " (hint: " + e.hint() + ")");
    }
    std::string out;
    if (common.json) {
        auto o = report::status_json(view.state, view.ctx);
        boost::json::array list;
        for (const auto& b : bad) {
            list.push_back({{"release", b.release},
                            {"location", b.location},
                            {"marked_bad_at", b.marked_bad_at},
                            {"run_id", b.run_id},
                            {"switched_to", b.switched_to}});
        }
        o["bad_releases"] = std::move(list);
        if (!bad_problem.empty()) {
            o["bad_releases_error"] = bad_problem;
        }
        leftovers_json(leftovers, o);
        boost::json::array awaited;
        for (const auto& g : awaited_gates(view.state, store)) {
            boost::json::array approvers;
            for (const auto& a : g.approvers) {
                approvers.emplace_back(a);
            }
            awaited.push_back(
                {{"step", g.step},
                 {"message", g.message},
                 {"approvers", std::move(approvers)},
                 {"requested_at", util::format_time(g.requested_at)},
                 {"expires_at", util::format_time(g.expires_at)},
                 {"on_timeout", g.approve_on_timeout ? "approve" : "reject"},
                 {"expired", std::chrono::system_clock::now() >= g.expires_at},
                 {"approve", "rollback approve " + g.run_id + " " + g.step + state_args(sd)}});
        }
        o["awaiting_approval"] = std::move(awaited);
        o["store"] = state_where(sd);
        o["store_origin"] = sd.origin;
        leader_line(store, &o);
        out = util::json_text(o) + "\n";
    } else {
        out = report::format_status(view.state, view.ctx);
        // Which store answered: a shared state and a local directory can hold different runs.
        out += "  state: " + state_where(sd) + " (" + sd.origin + ")\n";
        if (auto leader = leader_line(store, nullptr)) {
            out += "  " + *leader + "\n";
        }
        const auto now = std::chrono::system_clock::now();
        for (const auto& g : awaited_gates(view.state, store)) {
            const std::string then = g.approve_on_timeout ? "approve" : "reject";
            if (now >= g.expires_at) {
                // The run died while waiting: resume opens the same gate, already expired.
                out += "  approval gate at step " + g.step + " expired at " +
                       util::format_time(g.expires_at) + ": rollback resume " + g.run_id +
                       state_args(sd) + " goes on with " + then + " (on_timeout)\n";
                continue;
            }
            out += "  awaiting approval at step " + g.step + " by " +
                   (g.approvers.empty() ? std::string("anyone") : util::join(g.approvers, " or ")) +
                   " until " + util::format_time(g.expires_at) + " (then " + then + ")" +
                   (g.message.empty() ? "" : ": " + g.message) + "\n    answer: rollback approve " +
                   g.run_id + " " + g.step + state_args(sd) + " [--reject]\n";
        }
        if (!bad_problem.empty()) {
            out += "  bad releases: not readable: " + bad_problem + "\n";
        }
        for (const auto& b : bad) {
            out += "  bad release: " + b.release + " in " + b.location + " (marked " +
                   b.marked_bad_at + " by run " + b.run_id + ", switched to " + b.switched_to +
                   ")\n";
        }
        out += leftovers_text(leftovers);
    }
    std::fputs((common.json ? util::mask_secrets(out) : util::terminal_text(out)).c_str(), stdout);
    if (!common.json) {
        for (const auto& w : view.journal.warnings) {
            std::fprintf(stderr, "rollback: warning: %s\n", util::terminal_text(w).c_str());
        }
    }
    return util::to_int(util::ExitCode::ok);
}

} // namespace rollback::cli
