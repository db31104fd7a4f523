// SPDX-License-Identifier: MIT
// rollback approve DECISION_ID : a person approves what the monitor asked for in mode = "confirm";
// the playbook then runs like a trigger's, naming the decision and the approver.
#include "cli/check_support.hpp"
#include "cli/commands.hpp"
#include "cli/load.hpp"
#include "cli/options.hpp"
#include "cli/run_support.hpp"
#include "cli/state_dir.hpp"
#include "journal/paths.hpp"
#include "monitor/decision_actions.hpp"
#include "state/approval_answer.hpp"
#include "state/local_store.hpp"
#include "state/step_gate.hpp"
#include "util/error.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>

namespace rollback::cli {

namespace {

/// A pending request past its expiry is shown as expired (the file keeps "pending").
std::string shown_state(const state::ApprovalRequest& a,
                        std::chrono::system_clock::time_point now) {
    return a.state == "pending" && now > a.expires_at ? "expired" : a.state;
}

/// A run's approval gate as --list shows it: pending, expired, approved or rejected.
struct GateView {
    state::GateRequest request;
    std::string state;
    std::string by; ///< who answered
    std::optional<util::SystemTime> at;
    std::string note; ///< the answer's --reason
};

std::vector<GateView> gates_of(state::Store& store, std::chrono::system_clock::time_point now) {
    std::vector<GateView> out;
    const state::StepGates gates(store);
    for (const auto& run_id : store.list_runs()) {
        for (auto& req : gates.requests(run_id)) {
            GateView v{req, now >= req.expires_at ? "expired" : "pending", "", std::nullopt, ""};
            try {
                if (auto a = gates.answer(run_id, req.step)) {
                    v.state = a->approved ? "approved" : "rejected";
                    v.by = a->by;
                    v.at = a->at;
                    v.note = a->note;
                }
            } catch (const util::Error& e) {
                // Shown, not fatal: the other gates and approvals are still listed.
                v.state = "unreadable";
                v.note = std::string(e.what()) + " (" + e.hint() + ")";
            }
            out.push_back(std::move(v));
        }
    }
    return out;
}

int list(const StateDir& sd, bool json) {
    auto store = open_store(sd, state::SchemaAccess::read);
    std::vector<std::string> skipped;
    auto all = store->approvals(&skipped);
    // A request that cannot be read is named, never a reason to list none (break-it 42/01):
    // a warning, or with --json a line of state "unreadable", as `history` lists a journal.
    for (const auto& why : skipped) {
        if (json) {
            boost::json::object o{{"kind", "decision"}, {"state", "unreadable"}, {"error", why}};
            std::printf("%s\n", util::mask_secrets(util::json_text(o)).c_str());
        } else {
            std::fprintf(stderr, "rollback: warning: approval request passed over: %s\n",
                         util::terminal_text(why).c_str());
        }
    }
    const auto now = std::chrono::system_clock::now();
    const auto gates = gates_of(*store, now);
    if (json) {
        // JSON Lines: the stored request ("kind": "decision"), its state as shown (expired when
        // past expires_at); then the runs' approval gates ("kind": "gate"). Both kinds have
        // kind, state, requested_at, expires_at, answered_by, answered_at, answer_reason.
        for (const auto& a : all) {
            auto o = boost::json::parse(state::approval_json(a)).as_object();
            o["kind"] = "decision";
            o["state"] = shown_state(a, now);
            o["answered_by"] = a.approved_by;
            o["answered_at"] = a.approved_at ? util::format_time(*a.approved_at) : "";
            std::printf("%s\n", util::mask_secrets(util::json_text(o)).c_str());
        }
        for (const auto& g : gates) {
            boost::json::array approvers;
            for (const auto& a : g.request.approvers) {
                approvers.emplace_back(a);
            }
            boost::json::object o{{"kind", "gate"},
                                  {"run_id", g.request.run_id},
                                  {"step", g.request.step},
                                  {"state", g.state},
                                  {"message", g.request.message},
                                  {"approvers", std::move(approvers)},
                                  {"requested_at", util::format_time(g.request.requested_at)},
                                  {"expires_at", util::format_time(g.request.expires_at)},
                                  {"answered_by", g.by},
                                  {"answered_at", g.at ? util::format_time(*g.at) : ""},
                                  {"answer_reason", g.note}};
            std::printf("%s\n", util::mask_secrets(util::json_text(o)).c_str());
        }
        return util::to_int(util::ExitCode::ok);
    }
    if (all.empty() && gates.empty()) {
        std::printf("no approval requests in %s\n", util::terminal_text(state_where(sd)).c_str());
        return util::to_int(util::ExitCode::ok);
    }
    std::string out;
    for (const auto& g : gates) {
        char head[96];
        std::snprintf(head, sizeof head, "  %-8s ", g.state.c_str());
        out += g.request.run_id + " " + g.request.step + head + "gate until " +
               util::format_time(g.request.expires_at) +
               (g.by.empty() ? std::string() : ", answered by " + g.by) +
               (g.state == "pending" ? "\n    rollback approve " + g.request.run_id + " " +
                                           g.request.step + state_args(sd) + " [--reject]"
                                     : std::string()) +
               (g.request.message.empty() ? std::string() : "\n    " + g.request.message) + "\n";
    }
    for (const auto& a : all) {
        const std::string state = shown_state(a, now);
        char head[96];
        std::snprintf(head, sizeof head, "  %-8s ", state.c_str());
        out += a.decision_id + head + a.condition + " (" + a.severity + ") requested " +
               util::format_time(a.requested_at) +
               (state == "approved" ? " approved by " + a.approved_by + ", run " + a.run_id
                : state == "rejected"
                    ? " rejected by " + a.approved_by +
                          (a.answer_reason.empty() ? "" : " (" + a.answer_reason + ")")
                    : std::string()) +
               "\n    " + a.reason + "\n" +
               (state == "withdrawn"
                    ? "    withdrawn " +
                          (a.withdrawn_at ? util::format_time(*a.withdrawn_at) : std::string()) +
                          ": " + a.withdrawn_reason + "\n"
                    : std::string());
    }
    std::fputs(util::terminal_text(out).c_str(), stdout);
    return util::to_int(util::ExitCode::ok);
}

/// `rollback approve RUN_ID STEP [--reject]`: answers the approval gate (action = "approve") a
/// run waits at. The answer is written once; the waiting run (or a resumed one) reads it.
int answer_gate(const StateDir& sd, const std::string& run_id, const std::string& step,
                bool approve, const std::string& note, bool json) {
    if (!journal::is_valid_run_id(run_id)) {
        throw util::Error("approve: " + util::quoted(run_id) + " is not a run id",
                          util::ExitCode::invalid,
                          "rollback history" + state_args(sd) + " lists the runs");
    }
    auto store = open_store(sd, state::SchemaAccess::write);
    const state::StepGates gates(*store);
    auto request = gates.request(run_id, step);
    if (!request) {
        const auto runs = store->list_runs();
        if (std::find(runs.begin(), runs.end(), run_id) == runs.end()) {
            throw util::Error("no run " + run_id + " in " + state_where(sd),
                              util::ExitCode::invalid,
                              "name the run's state: -c CONFIG or --state-dir DIR (the command "
                              "the gate printed carries it)");
        }
        throw util::Error("run " + run_id + " has no approval gate at step " + util::quoted(step) +
                              " in " + state_where(sd),
                          util::ExitCode::invalid,
                          "rollback status " + run_id + state_args(sd) +
                              " shows what the run awaits");
    }
    if (auto a = gates.answer(run_id, step)) {
        throw util::Error("step " + step + " of run " + run_id +
                              " was answered already: " + (a->approved ? "approved" : "rejected") +
                              " by " + a->by + " at " + util::format_time(a->at),
                          util::ExitCode::invalid, "rollback status " + run_id + state_args(sd));
    }
    const auto now = std::chrono::system_clock::now();
    if (now >= request->expires_at) {
        throw util::Error("the approval gate " + step + " of run " + run_id + " expired at " +
                              util::format_time(request->expires_at) + ": the run went on with " +
                              (request->approve_on_timeout ? "approve" : "reject") +
                              " (on_timeout)",
                          util::ExitCode::invalid, "rollback status " + run_id + state_args(sd));
    }
    const std::string user = current_user();
    if (!request->approvers.empty() &&
        std::find(request->approvers.begin(), request->approvers.end(), user) ==
            request->approvers.end()) {
        throw util::Error(user + " is not among the approvers of step " + step + " (" +
                              util::join(request->approvers, ", ") + ")",
                          util::ExitCode::invalid,
                          "ask one of them to run: rollback approve " + run_id + " " + step +
                              state_args(sd));
    }
    if (!gates.give(run_id, step, {approve, user, now, note})) {
        auto a = gates.answer(run_id, step);
        throw util::Error(
            "step " + step + " of run " + run_id + " was answered already" +
                (a ? std::string(": ") + (a->approved ? "approved" : "rejected") + " by " + a->by
                   : std::string()),
            util::ExitCode::invalid, "rollback status " + run_id + state_args(sd));
    }
    // Kept either way (a resume opens the same gate and reads it), but a run that stopped while
    // waiting (its process died, its store session failed) does not go on by itself: said, and
    // exit 6 instead of 0.
    bool live = true;
    try {
        live = store->is_run_live(run_id);
    } catch (const std::exception& e) {
        log::warn("approve: cannot read the run lock: {}", e.what());
    }
    const std::string answer = approve ? "approved" : "rejected";
    if (json) {
        std::printf("%s\n", util::mask_secrets(
                                util::json_text(boost::json::object{{"run_id", run_id},
                                                                    {"step", step},
                                                                    {"answer", answer},
                                                                    {"by", user},
                                                                    {"at", util::format_time(now)},
                                                                    {"run_live", live}}))
                                .c_str());
    } else if (live) {
        std::fputs(util::terminal_text(answer + " step " + step + " of run " + run_id + " as " +
                                       user + "; the waiting run goes on\n")
                       .c_str(),
                   stdout);
    } else {
        std::fputs(util::terminal_text(
                       answer + " step " + step + " of run " + run_id + " as " + user +
                       "; but run " + run_id +
                       " is not running now (it stopped while waiting at the gate): the answer "
                       "is kept for its resume — a monitor's run is resumed by the leading "
                       "monitor, a person's by: rollback resume " +
                       run_id + state_args(sd) + "\n")
                       .c_str(),
                   stdout);
    }
    return util::to_int(live ? util::ExitCode::ok : util::ExitCode::needs_attention);
}

/// `rollback approve DECISION_ID --reject [--reason TEXT]`: a person looked at the monitor's
/// request and said no. Kept (state "rejected", who, when, why); the monitor settles the
/// request at its expiry without escalating, and no run starts for it.
int reject_request(const StateDir& sd, const std::string& id, const std::string& note, bool json) {
    auto store = open_store(sd, state::SchemaAccess::write);
    auto request = store->approval(id);
    if (!request) {
        throw util::Error("no approval request " + util::quoted(id) + " in " + state_where(sd),
                          util::ExitCode::invalid,
                          "rollback approve --list" + state_args(sd) + " shows the requests");
    }
    const auto now = std::chrono::system_clock::now();
    if (request->state != "pending") {
        throw util::Error("decision " + id +
                              " was answered already: " + state::answered_how(request),
                          util::ExitCode::invalid,
                          "rollback approve --list" + state_args(sd) + " shows the requests");
    }
    if (now > request->expires_at) {
        throw util::Error("the approval request " + id + " expired at " +
                              util::format_time(request->expires_at) + " unanswered",
                          util::ExitCode::invalid,
                          "rollback approve --list" + state_args(sd) + " shows the requests");
    }
    request->state = "rejected";
    request->approved_by = current_user();
    request->approved_at = now;
    request->answer_reason = note;
    // A compare-and-set on "still pending, with no run", as every answer: an approval or the
    // monitor's withdrawal that landed since the read above wins and is kept.
    if (auto outcome = state::answer_approval(*store, *request); !outcome.kept) {
        throw util::Error("decision " + id + " was answered meanwhile: " +
                              state::answered_how(outcome.first) + "; your rejection was not kept",
                          util::ExitCode::invalid,
                          "rollback approve --list" + state_args(sd) + " shows the requests");
    }
    if (json) {
        std::printf("%s\n", util::mask_secrets(
                                util::json_text(boost::json::object{{"kind", "decision"},
                                                                    {"decision_id", id},
                                                                    {"answer", "rejected"},
                                                                    {"by", request->approved_by},
                                                                    {"at", util::format_time(now)},
                                                                    {"reason", note}}))
                                .c_str());
    } else {
        std::fputs(util::terminal_text("rejected decision " + id + " as " + request->approved_by +
                                       (note.empty() ? "" : " (" + note + ")") +
                                       ": no run starts for it\n")
                       .c_str(),
                   stdout);
    }
    return util::to_int(util::ExitCode::ok);
}

} // namespace

int cmd_approve(const Args& args) {
    CommonOptions common;
    std::string id, note, step, playbook;
    bool yes = false, abandon_stale = false, show = false, reject = false;
    po::options_description desc(
        "rollback approve DECISION_ID [--yes] | RUN_ID STEP [--reject] | --list");
    add_common_options(desc, common, use_config | use_state_dir | use_verbose | use_json);
    desc.add_options() //
        ("id", po::value(&id)->value_name("DECISION_ID|RUN_ID"),
         "the monitor's request to approve, or the run waiting at an approval gate") //
        ("step", po::value(&step)->value_name("STEP"),
         "the gate (action = \"approve\") the run waits at") //
        ("reject", po::bool_switch(&reject),
         "answer no: the gate's step fails; the monitor's request starts no run") //
        ("playbook,p", po::value(&playbook)->value_name("PLAYBOOK"),
         "use the state directory beside this playbook (a gate of `rollback run -p`)") //
        ("list", po::bool_switch(&show),
         "the approval requests: pending, expired, withdrawn, done")                   //
        ("reason", po::value(&note)->value_name("TEXT"), "why (kept with the answer)") //
        ("yes,y", po::bool_switch(&yes), "do not ask for confirmation")                //
        ("abandon-stale", po::bool_switch(&abandon_stale),
         "start even though an earlier run died unfinished (it is noted in its journal)");
    po::positional_options_description pos;
    pos.add("id", 1).add("step", 1);
    po::variables_map vm;
    if (!parse_options("approve", args, desc, pos, vm)) {
        return util::to_int(util::ExitCode::ok);
    }
    if (!step.empty()) {
        const StateDir gate_sd = resolve_state_dir(common, playbook);
        require_state_owner(gate_sd, "approve");
        return answer_gate(gate_sd, id, step, !reject, note, common.json);
    }
    if (reject) {
        if (id.empty() || show) {
            throw util::Error(
                "approve: --reject answers a request: give DECISION_ID or RUN_ID STEP",
                util::ExitCode::invalid, "rollback approve --list shows them");
        }
        const StateDir sd = resolve_state_dir(common, playbook);
        require_state_owner(sd, "approve");
        return reject_request(sd, id, note, common.json);
    }
    if (show) {
        // The monitor's requests and the runs' gates: a config is not needed to find them.
        return list(resolve_state_dir(common, playbook), common.json);
    }
    config::Config cfg = load_rollback_config(common);
    const StateDir sd = resolve_state_dir(common, cfg);
    require_state_owner(sd, "approve");
    const auto& state_dir = sd.dir;
    auto store_ptr = open_store(sd, state::SchemaAccess::write);
    state::Store& store = *store_ptr;
    if (id.empty()) {
        throw util::Error("approve: give a DECISION_ID (or --list)", util::ExitCode::invalid,
                          "rollback approve --list" + state_args(sd) + " shows the requests");
    }
    auto request = store.approval(id);
    if (!request) {
        throw util::Error("no approval request " + util::quoted(id) + " in " + state_where(sd),
                          util::ExitCode::invalid,
                          "rollback approve --list" + state_args(sd) + " shows the requests");
    }
    if (request->state == "approved") {
        throw util::Error(
            "decision " + id + " was approved already by " + request->approved_by +
                (request->approved_at ? " at " + util::format_time(*request->approved_at)
                                      : std::string()) +
                (request->run_id.empty() ? "" : "; its run: " + request->run_id),
            util::ExitCode::invalid, "rollback status " + request->run_id + state_args(sd));
    }
    if (request->state == "rejected") {
        throw util::Error("decision " + id + " was rejected already by " + request->approved_by +
                              (request->answer_reason.empty()
                                   ? std::string()
                                   : " (" + request->answer_reason + ")"),
                          util::ExitCode::invalid,
                          "decide yourself: rollback trigger --condition " + request->condition +
                              " --reason \"...\"");
    }
    const auto now = std::chrono::system_clock::now();
    if (request->state == "withdrawn") {
        // The monitor withdrew it: the incident it asked about ended before anyone answered.
        throw util::Error("the approval request " + id + " was withdrawn" +
                              (request->withdrawn_at
                                   ? " at " + util::format_time(*request->withdrawn_at)
                                   : std::string()) +
                              " (" + request->withdrawn_reason + "): the evidence is stale",
                          util::ExitCode::invalid,
                          "check again (rollback check), or decide yourself: rollback trigger "
                          "--condition " +
                              request->condition + " --reason \"...\"");
    }
    if (now > request->expires_at) {
        throw util::Error("the approval request " + id + " expired at " +
                              util::format_time(request->expires_at) +
                              " ([decision] approval_timeout): the evidence is stale",
                          util::ExitCode::invalid,
                          "check again (rollback check), or decide yourself: rollback trigger "
                          "--condition " +
                              request->condition + " --reason \"...\"");
    }
    if (auto twin = state::approved_twin(store.approvals(), *request)) {
        // Two requests open at once for one condition are one incident (two monitors asked,
        // one of them deposed): it was acted on once already.
        throw util::Error("the approval request " + id + " is for the incident of condition " +
                              request->condition + " that request " + twin->decision_id +
                              " asked about too, approved by " + twin->approved_by +
                              (twin->run_id.empty() ? "" : " (its run: " + twin->run_id + ")") +
                              ": one incident starts one run",
                          util::ExitCode::invalid,
                          twin->run_id.empty()
                              ? "rollback approve --list" + state_args(sd) + " shows the requests"
                              : "rollback status " + twin->run_id + state_args(sd));
    }
    if (cfg.playbook.empty()) {
        throw util::Error(cfg.file.string() + " has no [decision] playbook to run",
                          util::ExitCode::invalid);
    }
    auto record = store.record(request->decision_id);
    auto pb = load_playbook(cfg.playbook);
    refuse_state_in_releases(sd, pb);
    actions::Trigger t = monitor::trigger_of(record, id, "approved");
    t.reason = "approved by " + current_user() + (note.empty() ? "" : " (" + note + ")") + ": " +
               record.reason;
    StartOptions so;
    so.state_dir = state_dir;
    so.shared = sd.shared;
    so.config = sd.config;
    so.verbose = common.verbose;
    so.json = common.json;
    so.yes = yes;
    so.abandon_stale = abandon_stale;
    so.command = "approve";
    // Answered only once this approval holds the run lock and knows its run id, by a
    // compare-and-set on "still pending, no run": of two approvals of one request exactly one
    // starts a run, ever; one that stops before (preflight problems, the lock held, "n" at the
    // prompt) writes nothing, so the request stays as it is (pending, or the winner's).
    const std::string by = current_user();
    so.under_lock = [&](state::Store& locked, const std::string& run_id) {
        state::ApprovalRequest answered = *request;
        answered.state = "approved";
        answered.approved_by = by;
        answered.approved_at = std::chrono::system_clock::now();
        answered.answer_reason = note;
        answered.run_id = run_id;
        if (answered.approved_at && *answered.approved_at > request->expires_at) {
            // Read the plan past the request's expiry: the monitor has settled it as expired.
            throw util::Error("the approval request " + id + " expired at " +
                                  util::format_time(request->expires_at) +
                                  " ([decision] approval_timeout) while the plan was read: the "
                                  "evidence is stale; nothing was run",
                              util::ExitCode::invalid,
                              "check again (rollback check), or decide yourself: rollback "
                              "trigger --condition " +
                                  request->condition + " --reason \"...\"");
        }
        const auto outcome = state::answer_approval(locked, answered);
        if (outcome.kept) {
            return;
        }
        const auto& first = outcome.first;
        throw util::Error("decision " + id + " was answered meanwhile: " +
                              state::answered_how(first) + "; nothing was run",
                          util::ExitCode::invalid,
                          first && !first->run_id.empty()
                              ? "rollback status " + first->run_id + state_args(sd)
                              : "rollback approve --list" + state_args(sd) + " shows the requests");
    };
    return start_run(pb, t, so);
}

} // namespace rollback::cli
