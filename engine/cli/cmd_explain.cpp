// SPDX-License-Identifier: MIT
#include "cli/check_support.hpp"
#include "cli/commands.hpp"
#include "cli/evidence.hpp"
#include "cli/options.hpp"
#include "cli/output_file.hpp"
#include "cli/state_dir.hpp"
#include "journal/paths.hpp"
#include "journal/reader.hpp"
#include "journal/state.hpp"
#include "report/record_text.hpp"
#include "state/local_store.hpp"
#include "state/store.hpp"
#include "util/error.hpp"
#include "util/exit_code.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cstdio>

namespace rollback::cli {

namespace {

namespace fs = std::filesystem;

journal::RunState fold_run(const state::Store& store, const std::string& run_id) {
    return journal::fold(store.read_journal(run_id), false);
}

/// A decision record of the store; on a shared state also one `check` kept in the local
/// directory (its records stay there).
decision::DecisionRecord read_record(const state::Store& store, const StateDir& sd,
                                     const std::string& id) {
    try {
        return store.record(id);
    } catch (const util::Error&) {
        if (!sd.shared) {
            throw;
        }
        const state::LocalStore local(sd.dir);
        if (!local.newest_record_id()) {
            throw;
        }
        return local.record(id);
    }
}

std::string run_line(const journal::RunState& st) {
    std::string out = "run " + st.run_id + " (" + st.playbook_name + ", trigger " + st.trigger.kind;
    out += ", " + std::string(journal::to_string(st.status));
    if (st.exit_code) {
        out += ", exit " + std::to_string(*st.exit_code);
    }
    out += ", started " + st.started + (st.finished.empty() ? "" : ", finished " + st.finished);
    if (st.handed_over) {
        out += ", handed over " + report::hand_over_text(st.handed_over->record);
    }
    if (st.abandoned) {
        out += ", abandoned " + report::abandoned_text(st.abandoned->record);
    }
    return out + ")";
}

/// What followed the decision: the runs naming it, an approval request, or nothing.
std::string action_taken(const state::Store& store, const std::string& decision_id,
                         const std::string& args) {
    std::string out;
    for (const auto& id : store.list_runs()) {
        try {
            auto st = fold_run(store, id);
            if (st.trigger.decision_id == decision_id) {
                out += "  " + run_line(st) + "\n    rollback report " + id + args + "\n";
            }
        } catch (const std::exception&) {
            continue; // an unreadable journal is `rollback audit`'s business, not explain's
        }
    }
    if (auto a = store.approval(decision_id)) {
        out += "  approval request: " + a->state +
               (a->state == "approved" || a->state == "rejected"
                    ? " by " + a->approved_by +
                          (a->answer_reason.empty() ? "" : " (" + a->answer_reason + ")")
                : a->state == "withdrawn"
                    ? " at " + util::format_time(a->withdrawn_at.value_or(a->expires_at)) + ": " +
                          a->withdrawn_reason
                    : " until " + util::format_time(a->expires_at)) +
               "\n";
    }
    return out.empty() ? "  none: no run names this decision\n" : out;
}

} // namespace

int cmd_explain(const Args& args) {
    CommonOptions common;
    std::string id;
    std::string playbook;
    bool now = false, last = false, html = false;
    std::string output;
    po::options_description desc("rollback explain DECISION_ID|RUN_ID|--now|--last");
    add_common_options(desc, common, use_config | use_state_dir | use_json);
    desc.add_options() //
        ("id", po::value(&id)->value_name("DECISION_ID|RUN_ID"),
         "a record in <state_dir>/decisions/, or the run it caused") //
        ("now", po::bool_switch(&now),
         "evaluate every condition now and explain (records it too)")  //
        ("last", po::bool_switch(&last), "the newest decision record") //
        ("html", po::bool_switch(&html),
         "one self-contained HTML page: a chart per condition from the tick log")      //
        ("output,o", po::value(&output)->value_name("FILE"), "write the page to FILE") //
        ("playbook,p", po::value(&playbook)->value_name("PLAYBOOK"),
         "find the state by this playbook, like status, report and resume");
    po::positional_options_description pos;
    pos.add("id", 1);
    po::variables_map vm;
    if (!parse_options("explain", args, desc, pos, vm)) {
        return util::to_int(util::ExitCode::ok);
    }
    if (static_cast<int>(now) + static_cast<int>(last) + static_cast<int>(!id.empty()) != 1) {
        throw util::Error("explain: give one of DECISION_ID, RUN_ID, --now, --last",
                          util::ExitCode::invalid);
    }
    // Only --now needs the config (its sources); a record or a run is read from the store found
    // by the one rule (the shared state when the configuration names one).
    std::optional<config::Config> cfg;
    if (now) {
        cfg = load_rollback_config(common);
    }
    const StateDir sd = cfg ? resolve_state_dir(common, *cfg) : resolve_state_dir(common, playbook);
    if (now && !sd.shared) {
        // --now records its decision like `check`: refused (exit 2, nothing written) for another
        // user than the state's owner, whose monitor could not write decisions/ any more.
        prepare_state_dir(sd, "explain --now", "decision records");
    }
    const auto& state_dir = sd.dir;
    auto store_ptr = open_store(sd, now ? state::SchemaAccess::write : state::SchemaAccess::read);
    state::Store& store = *store_ptr;
    decision::DecisionRecord record;
    std::string run_header;
    if (!id.empty() && journal::is_valid_run_id(id)) {
        // A run: the decision that caused it.
        const auto runs = store.list_runs();
        if (std::find(runs.begin(), runs.end(), id) == runs.end()) {
            throw util::Error("no run " + util::quoted(id) + " in " + state_where(sd) + " (" +
                                  sd.origin + ")",
                              util::ExitCode::invalid,
                              "rollback history" + state_args(sd) +
                                  " lists the runs; -p PLAYBOOK or -c FILE finds another state");
        }
        auto st = fold_run(store, id);
        if (st.trigger.decision_id.empty()) {
            // A person's `rollback run`: the decision was theirs, and it is in the run itself.
            std::string text = "Run " + id + " names no decision record: it was started by " +
                               (st.user.empty() ? "a person" : st.user) + " (trigger " +
                               st.trigger.kind + ", reason: " + st.reason + ").\n  " +
                               run_line(st) + "\n    rollback report " + id + state_args(sd) + "\n";
            if (common.json) {
                text = util::json_text(boost::json::object{{"run_id", id},
                                                           {"decision_id", boost::json::value()},
                                                           {"started_by", st.user},
                                                           {"trigger", st.trigger.kind},
                                                           {"reason", st.reason}}) +
                       "\n";
            }
            std::fputs(util::mask_secrets(text).c_str(), stdout);
            return util::to_int(util::ExitCode::ok);
        }
        run_header = "Run " + id + " was caused by decision " + st.trigger.decision_id + ".\n\n";
        id = st.trigger.decision_id;
    }
    if (now) {
        record = evaluate_now(*cfg, store, std::chrono::system_clock::now());
        store.put_record(record);
    } else if (last) {
        auto newest = store.newest_record_id();
        if (sd.shared) {
            // `check` keeps its records locally: the newest of both (ids start with the time).
            if (auto local = state::LocalStore(sd.dir).newest_record_id();
                local && (!newest || *local > *newest)) {
                newest = local;
            }
        }
        if (!newest) {
            throw util::Error("no decision records in " + state_where(sd), util::ExitCode::invalid,
                              "run 'rollback check' or 'rollback explain --now'");
        }
        record = read_record(store, sd, *newest);
    } else {
        record = read_record(store, sd, id);
    }
    id = decision::record_id(record);
    if (html || !output.empty()) {
        const std::string page = report::decision_html(
            decision_view(store, record, id),
            now ? std::string("(evaluated now)") : action_taken(store, id, state_args(sd)));
        if (write_output(output, page, page_output(state_dir))) {
            std::fprintf(stderr, "wrote %s (%zu bytes)\n", output.c_str(), page.size());
        }
        return util::to_int(util::ExitCode::ok);
    }
    if (common.json) {
        std::printf("%s\n", util::mask_secrets(decision::to_json(record)).c_str());
    } else {
        std::string text = run_header + decision::explain(record);
        if (!now) {
            text += "\nAction taken:\n" + action_taken(store, id, state_args(sd));
        }
        std::fputs(util::terminal_text(text).c_str(), stdout);
    }
    return util::to_int(util::ExitCode::ok);
}

} // namespace rollback::cli
