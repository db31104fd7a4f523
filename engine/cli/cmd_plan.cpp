// SPDX-License-Identifier: MIT
// rollback plan -p PLAYBOOK : the dry run. Shows what would run and checks it; changes nothing.
#include "cli/commands.hpp"
#include "cli/load.hpp"
#include "cli/plan_view.hpp"
#include "cli/run_options.hpp"
#include "cli/state_dir.hpp"
#include "report/console.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"

#include <boost/json/serialize.hpp>
#include <cstdio>

namespace rollback::cli {

int show_plan(const orchestrator::Plan& plan, const std::filesystem::path& state_dir,
              state::Store& store, const actions::Trigger& trigger, bool json,
              std::shared_ptr<remote::Connections> connections,
              std::vector<std::string>* failures) {
    exec::RealProcessRunner runner;
    auto pre = orchestrator::preflight(plan, state_dir, store, trigger, runner, connections);
    if (json) {
        std::puts(util::mask_secrets(util::json_text(plan_json(plan, pre))).c_str());
    } else {
        bool color = report::choose_mode(stdout, false) == report::ConsoleMode::live &&
                     std::getenv("NO_COLOR") == nullptr;
        std::fputs(plan_text(plan, pre, color).c_str(), stdout);
    }
    if (failures != nullptr) {
        *failures = pre.failures();
    }
    return util::to_int(pre.problems() == 0 ? util::ExitCode::ok : util::ExitCode::invalid);
}

int cmd_plan(const Args& args) {
    CommonOptions common;
    PlanOptions o;
    po::options_description desc("plan options");
    add_plan_options(desc, o);
    add_common_options(desc, common, use_config | use_state_dir | use_json);
    po::positional_options_description pos;
    pos.add("playbook", 1);
    po::variables_map vm;
    if (!parse_options("plan", args, desc, pos, vm)) {
        return 0;
    }
    o.trigger.kind = "manual";
    auto file = playbook_path(o);
    auto pb = load_playbook_with_vars(file, o.vars);
    auto plan = orchestrator::make_plan(pb, selection_of(o), o.trigger);
    // The store the rule finds, as `run` reads it: a shared state's bad releases, not a local
    // file's.
    const StateDir sd = resolve_state_dir(common, pb.file);
    auto store = open_store(sd, state::SchemaAccess::read);
    return show_plan(plan, sd.dir, *store, o.trigger, common.json, nullptr, nullptr);
}

} // namespace rollback::cli
