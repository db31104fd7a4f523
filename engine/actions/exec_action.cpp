// SPDX-License-Identifier: MIT
// action = "exec": one program with argv elements (never a shell unless `shell = true`).
#include "actions/action.hpp"
#include "actions/process_step.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <memory>

namespace rollback::actions {
namespace {

class ExecAction final : public Action {
  public:
    std::vector<std::string> keys() const override { return {"argv", "shell", "cwd", "env"}; }
    std::vector<std::string> required_keys() const override { return {"argv"}; }

    std::string describe(const playbook::Step& step) const override {
        return describe_command(command_argv(step), step.cwd);
    }

    std::vector<Check> preflight(const Context& ctx) const override {
        return check_command(command_argv(ctx.step), ctx.step.cwd);
    }

    Result run(const Context& ctx) const override {
        exec::Command cmd = make_command(ctx, command_argv(ctx.step));
        return result_of(ctx.runner.run(cmd));
    }
};

} // namespace

std::unique_ptr<Action> make_exec_action() {
    return std::make_unique<ExecAction>();
}

} // namespace rollback::actions
