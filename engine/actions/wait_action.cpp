// SPDX-License-Identifier: MIT
// action = "wait": pause for `duration` (e.g. let caches drain); an interrupt ends it early.
#include "actions/kind_action.hpp"
#include "util/duration.hpp"

#include <memory>

namespace rollback::actions {
namespace {

struct Wait {
    static constexpr std::string_view name = "wait";
    /// `duration` is typed by the loader (Step::duration).
    struct Params : playbook::ActionParams {};

    static std::vector<std::string> keys() { return {"duration"}; }
    static std::vector<std::string> required_keys() { return {"duration"}; }
    static Params parse(StepParams&, const playbook::Playbook&, const playbook::Step&) {
        return {};
    }

    static std::string describe(const playbook::Step& step, const Params&) {
        return "wait " + util::format_duration(step.duration);
    }

    static std::vector<Check> preflight(const Context&, const Params&) { return {}; }

    static Result run(const Context& ctx, const Params&) {
        Result r;
        if (!exec::sleep_unless_interrupted(ctx.step.duration)) {
            r.status = Status::interrupted;
            r.summary = "interrupted";
            return r;
        }
        r.status = Status::succeeded;
        r.exit_code = 0;
        r.summary = "waited " + util::format_duration(ctx.step.duration);
        return r;
    }
};

} // namespace

std::unique_ptr<Action> make_wait_action() {
    return std::make_unique<KindAction<Wait>>();
}

} // namespace rollback::actions
