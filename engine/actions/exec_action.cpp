// SPDX-License-Identifier: MIT
// action = "exec": one program with argv elements (never a shell unless `shell = true`).
#include "actions/kind_action.hpp"
#include "actions/process_step.hpp"

#include <memory>

namespace rollback::actions {
namespace {

struct Exec {
    static constexpr std::string_view name = "exec";
    /// argv, shell, cwd and env are common step fields: the loader types them (Step::argv, ...).
    struct Params : playbook::ActionParams {};

    static std::vector<std::string> keys() { return {"argv", "shell", "cwd", "env"}; }
    static std::vector<std::string> required_keys() { return {"argv"}; }
    static Params parse(StepParams&, const playbook::Playbook&, const playbook::Step&) {
        return {};
    }

    static std::string describe(const playbook::Step& step, const Params&) {
        return describe_command(command_argv(step), step.cwd);
    }

    static std::vector<Check> preflight(const Context& ctx, const Params&) {
        return check_command(ctx, command_argv(ctx.step), ctx.step.cwd);
    }

    static Result run(const Context& ctx, const Params&) {
        exec::Command cmd = make_command(ctx, command_argv(ctx.step));
        return result_of(ctx.runner.run(cmd));
    }

    static Result result_of_exit(const exec::Outcome& exited) { return result_of(exited); }
};

} // namespace

std::unique_ptr<Action> make_exec_action() {
    return std::make_unique<KindAction<Exec>>();
}

} // namespace rollback::actions
