// SPDX-License-Identifier: MIT
// action = "approve": an approval gate. The run pauses (the request journaled as step_progress
// "approval_requested", the on-approval hooks told) until a person answers with
// `rollback approve RUN_ID STEP` (or `--reject`), or the step's `timeout` passes and the declared
// default (`on_timeout`) applies. A paused run survives an engine restart: the request and any
// answer are kept by state::StepGates, so a resumed gate waits again until the first expiry.
#include "actions/kind_action.hpp"
#include "state/state_args.hpp"
#include "state/step_gate.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

namespace rollback::actions {
namespace {

/// `text` as one word of a shell command line: as it is when it holds only safe characters, else
/// in single quotes.
using namespace std::chrono_literals;

struct GateParams : playbook::ActionParams {
    std::string message;
    std::vector<std::string> approvers;
    bool approve_on_timeout = false;
};

GateParams read_params(StepParams& p) {
    GateParams g;
    g.message = p.string("message").value_or("");
    if (auto a = p.strings("approvers")) {
        g.approvers = *a;
        for (const auto& name : g.approvers) {
            if (util::trim(name).empty()) {
                p.error("approvers", "an approver's name is empty", "approvers = [\"alice\"]");
            }
        }
    }
    if (auto t = p.string("on_timeout")) {
        if (*t == "approve") {
            g.approve_on_timeout = true;
        } else if (*t != "reject") {
            p.error("on_timeout", "expected \"reject\" or \"approve\", not " + util::quoted(*t),
                    "on_timeout = \"reject\" (the default) fails the step when nobody answers");
        }
    }
    return g;
}

std::string who(const std::vector<std::string>& approvers) {
    return approvers.empty() ? std::string("anyone") : util::join(approvers, ", ");
}

struct Approve {
    static constexpr std::string_view name = "approve";
    using Params = GateParams;

    static std::vector<std::string> keys() { return {"message", "approvers", "on_timeout"}; }

    static Params parse(StepParams& p, const playbook::Playbook&, const playbook::Step& step) {
        GateParams g = read_params(p);
        if (step.retries > 0) {
            // A rejection is an answer: asking again by itself would turn "no" into a vote.
            p.error("",
                    "an approval gate is not retried (retries = " + std::to_string(step.retries) +
                        ")",
                    "remove retries; after a rejection a person decides: rollback resume RUN "
                    "--mark-done STEP, or a new run");
        }
        return g;
    }

    static std::string describe(const playbook::Step& step, const Params& g) {
        return "wait up to " + util::format_duration(step.timeout) + " for approval by " +
               who(g.approvers) + ", then " + (g.approve_on_timeout ? "approve" : "reject") +
               (g.message.empty() ? "" : ": " + g.message);
    }

    static std::vector<Check> preflight(const Context&, const Params&) { return {}; }

    static Result run(const Context& ctx, const Params& g) {
        Result r;
        const state::StepGates gates =
            ctx.gates != nullptr ? state::StepGates(*ctx.gates) : state::StepGates(ctx.state_dir);
        const auto now = std::chrono::system_clock::now();
        const auto expires =
            now + std::chrono::duration_cast<std::chrono::system_clock::duration>(ctx.step.timeout);
        state::GateRequest req;
        try {
            // Kept masked: `status` and `approve` run in processes that do not know the secrets.
            req = gates.open({ctx.run_id, ctx.step.id, now, expires, util::mask_secrets(g.message),
                              g.approvers, g.approve_on_timeout});
        } catch (const std::exception& e) {
            // Nobody could be asked (the state directory is full or read-only): the step
            // fails, the run stops there and its finally steps run.
            r.summary = std::string("cannot open the approval gate: ") + e.what();
            return r;
        }
        // Works from any directory (the page is read far from the state): it carries what
        // finds the run's state (state::state_args), the configuration of a shared one.
        const std::string command =
            "rollback approve " + ctx.run_id + " " + ctx.step.id +
            (ctx.state_args.empty() ? state::state_args({std::filesystem::absolute(ctx.state_dir)})
                                    : ctx.state_args);
        boost::json::array approvers;
        for (const auto& a : req.approvers) {
            approvers.emplace_back(a);
        }
        boost::json::object facts{{"message", req.message},
                                  {"approvers", approvers},
                                  {"requested_at", util::format_time(req.requested_at)},
                                  {"expires_at", util::format_time(req.expires_at)},
                                  {"on_timeout", req.approve_on_timeout ? "approve" : "reject"},
                                  {"approve", command},
                                  {"reject", command + " --reject"}};
        if (ctx.stage) {
            ctx.stage("approval_requested", facts);
        }
        if (ctx.notify) {
            ctx.notify("on-approval", "requested", facts);
        }
        if (ctx.progress) {
            ctx.progress("awaiting approval by " + who(req.approvers) + " until " +
                         util::format_time(req.expires_at) + ": " + command + " [--reject]");
        }
        std::string bad_answer; // the last problem of an unreadable answer file, told once
        for (;;) {
            std::optional<state::GateAnswer> a;
            try {
                a = gates.answer(ctx.run_id, ctx.step.id);
            } catch (const util::Error& e) {
                if (e.code() == util::ExitCode::state_unwritable) {
                    throw; // the shared state unreachable past its retries: the run stops (exit 7)
                }
                // A corrupt or non-regular answer file is no answer: the gate keeps waiting (a
                // person removes it and answers again, or it expires), the run is not stopped
                // halfway without its finally steps (break-it 30/10).
                if (e.what() != bad_answer) {
                    bad_answer = e.what();
                    log::warn("approval gate {} of run {}: {}", ctx.step.id, ctx.run_id,
                              bad_answer);
                    if (ctx.stage) {
                        ctx.stage("answer_unreadable",
                                  {{"problem", bad_answer}, {"hint", e.hint()}});
                    }
                    if (ctx.progress) {
                        ctx.progress("ignored an unreadable answer: " + bad_answer +
                                     "; still waiting (" + e.hint() + ")");
                    }
                }
            }
            if (a) {
                r.status = a->approved ? Status::succeeded : Status::failed;
                r.exit_code = a->approved ? 0 : 1;
                r.summary = std::string(a->approved ? "approved" : "rejected") + " by " + a->by +
                            (a->note.empty() ? "" : ": " + a->note);
                r.details = {{"answer", a->approved ? "approved" : "rejected"},
                             {"by", a->by},
                             {"at", util::format_time(a->at)},
                             {"note", a->note}};
                return r;
            }
            if (std::chrono::system_clock::now() >= req.expires_at) {
                const bool ok = req.approve_on_timeout;
                r.status = ok ? Status::succeeded : Status::failed;
                r.exit_code = ok ? 0 : 1;
                r.summary = "no answer by " + util::format_time(req.expires_at) + ": " +
                            (ok ? "approved" : "rejected") + " by default (on_timeout)";
                r.details = {{"answer", "timed_out"}, {"default", ok ? "approve" : "reject"}};
                return r;
            }
            if (!exec::sleep_unless_interrupted(util::Millis(200))) {
                r.status = Status::interrupted;
                r.summary = "interrupted while awaiting approval";
                return r;
            }
        }
    }
};

} // namespace

std::unique_ptr<Action> make_approve_action() {
    return std::make_unique<KindAction<Approve>>();
}

} // namespace rollback::actions
