// SPDX-License-Identifier: MIT
// action = "wait": pause for `duration` (e.g. let caches drain); an interrupt ends it early.
#include "actions/action.hpp"
#include "util/duration.hpp"

#include <memory>

namespace rollback::actions {
namespace {

class WaitAction final : public Action {
  public:
    std::vector<std::string> keys() const override { return {"duration"}; }
    std::vector<std::string> required_keys() const override { return {"duration"}; }

    std::string describe(const playbook::Step& step) const override {
        return "wait " + util::format_duration(step.duration);
    }

    std::vector<Check> preflight(const Context&) const override { return {}; }

    Result run(const Context& ctx) const override {
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
    return std::make_unique<WaitAction>();
}

} // namespace rollback::actions
