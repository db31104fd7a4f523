// SPDX-License-Identifier: MIT
// action = "hook": run an executable from hooks/ with the step's event on stdin.
#include "actions/hooks.hpp"
#include "actions/kind_action.hpp"
#include "actions/process_step.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <boost/json/serialize.hpp>
#include <memory>

namespace rollback::actions {

boost::json::object hook_event(const Context& ctx, std::string_view event, std::string_view status,
                               const boost::json::object& extra) {
    boost::json::object e;
    e["event"] = event;
    e["run_id"] = ctx.run_id;
    e["playbook"] = ctx.playbook.name;
    e["step"] = ctx.step.id;
    e["status"] = status;
    e["reason"] = ctx.trigger.reason;
    e["trigger"] = boost::json::object{{"kind", ctx.trigger.kind},
                                       {"condition", ctx.trigger.condition},
                                       {"severity", ctx.trigger.severity}};
    e["time"] = util::format_time(std::chrono::system_clock::now());
    for (const auto& [k, v] : extra) {
        e[k] = v;
    }
    return e;
}

Result run_hook(const Context& ctx, const std::string& name, const boost::json::object& event,
                util::Millis timeout) {
    exec::Command cmd;
    cmd.argv = {(ctx.playbook.hooks_dir / name).string()};
    cmd.cwd = ctx.playbook.directory.string();
    cmd.timeout = timeout;
    cmd.stdin_data = util::mask_secrets(util::json_text(event)) + "\n";
    auto str = [&](const char* key) {
        auto* v = event.if_contains(key);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    cmd.env = {{"ROLLBACK_EVENT", str("event")},
               {"ROLLBACK_RUN_ID", ctx.run_id},
               {"ROLLBACK_PLAYBOOK", ctx.playbook.file.string()},
               {"ROLLBACK_STEP", str("step")},
               {"ROLLBACK_STATUS", str("status")},
               {"ROLLBACK_REASON", util::mask_secrets(ctx.trigger.reason)},
               {"ROLLBACK_SEVERITY", ctx.trigger.severity},
               {"ROLLBACK_STATE_DIR", ctx.state_dir.string()}};
    return result_of(ctx.runner.run(cmd));
}

std::string hook_reason(const Result& r) {
    std::string_view out = util::trim(r.output_tail);
    const size_t nl = out.rfind('\n');
    std::string_view last = nl == std::string_view::npos ? out : out.substr(nl + 1);
    return util::tail(std::string(util::trim(last)), 300);
}

namespace {

struct Hook {
    static constexpr std::string_view name = "hook";
    /// `hook` is typed by the loader (Step::hook), which also checks the hook exists.
    struct Params : playbook::ActionParams {};

    static std::vector<std::string> keys() { return {"hook"}; }
    static std::vector<std::string> required_keys() { return {"hook"}; }
    static Params parse(StepParams&, const playbook::Playbook&, const playbook::Step&) {
        return {};
    }

    static std::string describe(const playbook::Step& step, const Params&) {
        return "hook " + step.hook;
    }

    static std::vector<Check> preflight(const Context& ctx, const Params&) {
        auto path = ctx.playbook.hooks_dir / ctx.step.hook;
        if (util::is_executable_file(path)) {
            return {{true, "hook " + path.string() + " is executable", {}, {}}};
        }
        return {{false, "hook " + path.string(), "is missing or not executable",
                 "chmod +x " + path.string()}};
    }

    static Result run(const Context& ctx, const Params&) {
        util::Millis timeout = ctx.step.timeout.count() > 0 ? ctx.step.timeout : k_hook_timeout;
        return step_result(
            run_hook(ctx, ctx.step.hook, hook_event(ctx, "step", "running"), timeout));
    }

    static Result result_of_exit(const exec::Outcome& exited) {
        return step_result(result_of(exited));
    }

    static Result step_result(Result r) {
        if (r.status == Status::failed && r.exit_code == k_hook_nothing_sent) {
            // Nothing was sent (e.g. no destination configured): not a failed rollback, but the
            // step's summary says so instead of a bare success.
            r.status = Status::succeeded;
            const std::string why = hook_reason(r);
            r.summary = "nothing was sent" + (why.empty() ? std::string() : ": " + why);
        } else if (r.status != Status::succeeded) {
            if (std::string why = hook_reason(r); !why.empty()) {
                r.summary += ": " + why;
            }
        }
        return r;
    }
};

} // namespace

std::unique_ptr<Action> make_hook_action() {
    return std::make_unique<KindAction<Hook>>();
}

} // namespace rollback::actions
