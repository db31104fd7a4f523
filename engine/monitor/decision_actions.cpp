// SPDX-License-Identifier: MIT
#include "monitor/decision_actions.hpp"

#include "actions/hooks.hpp"
#include "orchestrator/hook_runner.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json.hpp>

namespace rollback::monitor {

namespace fs = std::filesystem;

std::string summarize_record(const decision::DecisionRecord& r) {
    std::string out = util::format_time(r.time) + "  " + std::string(decision::to_string(r.action));
    if (r.action != decision::Action::none) {
        out +=
            r.executed ? "" : " (not executed: " + std::string(decision::to_string(r.mode)) + ")";
    }
    for (const auto& c : r.conditions) {
        // Names and reasons come from the config and the sources: shown, never interpreted by
        // the terminal. Numbers in full (shortest round trip): rounded, 5.00004 > 5 read "5>5".
        out +=
            "  " + util::terminal_text(c.name) + "=" + std::string(decision::to_string(c.verdict));
        if (c.observed) {
            out += "(" + decision::format_number(*c.observed);
            if (c.threshold) {
                out +=
                    (c.comparator == "below" ? "<" : ">") + decision::format_number(*c.threshold);
            }
            out += ")";
        }
    }
    if (r.action != decision::Action::none) {
        out += "\n    " + util::terminal_text(r.reason);
    }
    return out;
}

decision::DecisionRecord condition_decision(const decision::DecisionRecord& r,
                                            const decision::ConditionRecord& c) {
    decision::DecisionRecord d = r;
    d.action = c.action;
    d.cause = c.name;
    d.mode = c.mode;
    d.executed = c.action != decision::Action::none && c.mode != decision::Mode::observe;
    d.reason = "condition \"" + c.name + "\": " + std::string(decision::to_string(c.verdict));
    if (c.missing != decision::Missing::none) {
        d.reason += " (" + std::string(decision::to_string(c.missing)) + ")";
    }
    if (!c.detail.empty()) {
        d.reason += ": " + c.detail;
    }
    if (c.policy) {
        d.reason += "; policy " + std::string(decision::to_string(*c.policy));
    }
    return d;
}

actions::Trigger trigger_of(const decision::DecisionRecord& r, const std::string& decision_id,
                            std::string kind) {
    actions::Trigger t;
    t.kind = std::move(kind);
    t.condition = r.cause;
    for (const auto& c : r.conditions) {
        if (c.name == r.cause) {
            t.severity = std::string(decision::to_string(c.severity));
        }
    }
    t.reason = r.reason;
    t.decision_id = decision_id;
    return t;
}

std::vector<std::string> tell_hooks(const config::Config& cfg, const playbook::Playbook& pb,
                                    exec::ProcessRunner& runner, state::Store& store,
                                    const fs::path& state_dir, const decision::DecisionRecord& r,
                                    const std::string& decision_id, const HookFence& may_call,
                                    const std::string& error, const std::string& state_args,
                                    const HookProgress* progress) {
    std::vector<std::string> failures;
    std::vector<std::string> hooks;
    for (const auto& name : cfg.hooks) {
        if (progress == nullptr ||
            std::find(progress->told.begin(), progress->told.end(), name) == progress->told.end()) {
            hooks.push_back(name);
        }
    }
    if (hooks.empty()) {
        return failures;
    }
    const actions::Trigger t = trigger_of(r, decision_id, "monitor");
    playbook::Step step; // a decision is no step: the event's "step" is ""
    // Each hook's program runs only once the fence passed after its fork (a gated start, as a
    // run's lifecycle hooks): a leader paused between the check and the spawn — past its lease,
    // taken over — never runs it (issue 14, "a deposed leader can never start a step").
    std::vector<std::string> remaining;
    bool fenced = false;
    orchestrator::HookRunner gated(runner, [&] {
        if (!may_call(remaining)) {
            fenced = true;
            throw util::Error("the hook was not started: this monitor no longer leads");
        }
    });
    actions::Context ctx{pb, step, gated, "", state_dir, {}, store, t, false, {}};
    boost::json::object extra{{"decision_id", decision_id},
                              {"summary", summarize_record(r)},
                              {"executed", r.executed},
                              {"mode", decision::to_string(r.mode)}};
    if (r.action == decision::Action::request_approval) {
        extra["approve"] = "rollback approve " + decision_id +
                           (state_args.empty() ? " -c " + cfg.file.string() : state_args);
    }
    if (!error.empty()) {
        extra["error"] = error;
    }
    auto event = actions::hook_event(ctx, "decision", decision::to_string(r.action), extra);
    for (auto it = hooks.begin(); it != hooks.end(); ++it) {
        // Checked before each hook, not once for the list: a leader paused while one hook ran
        // (past its lease, taken over) calls none of the next (break-it 38/01).
        remaining.assign(it, hooks.end());
        if (!may_call(remaining)) {
            break;
        }
        const std::string& name = *it;
        actions::Result result;
        try {
            result = actions::run_hook(ctx, name, event);
        } catch (const std::exception&) {
            if (fenced) {
                break; // deposed between the check and the spawn: its program never ran
            }
            throw;
        }
        if (fenced) {
            break;
        }
        if (result.status != actions::Status::succeeded) {
            std::string why = "hook " + name + " (decision " + decision_id +
                              "): " + result.summary + ": " +
                              util::tail(std::string(util::trim(result.output_tail)), 300);
            log::warn("monitor: {}", why);
            failures.push_back(std::move(why));
        }
        if (progress != nullptr && progress->called && !progress->called(name)) {
            break;
        }
    }
    return failures;
}

} // namespace rollback::monitor
