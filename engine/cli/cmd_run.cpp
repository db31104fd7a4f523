// SPDX-License-Identifier: MIT
// rollback run -p PLAYBOOK : plan, confirm, lock, execute, journal.
#include "cli/commands.hpp"
#include "cli/load.hpp"
#include "cli/run_options.hpp"
#include "cli/run_support.hpp"
#include "journal/paths.hpp"
#include "report/console.hpp"
#include "util/log.hpp"

#include <cstdio>

namespace rollback::cli {

int show_plan(const orchestrator::Plan& plan, const std::filesystem::path& state_dir,
              const actions::Trigger& trigger, bool json);

int cmd_run(const Args& args) {
    CommonOptions common;
    PlanOptions o;
    bool dry_run = false, yes = false, abandon_stale = false;
    po::options_description desc("run options");
    add_plan_options(desc, o);
    desc.add_options()("dry-run,n", po::bool_switch(&dry_run),
                       "show the plan and check it; run nothing")       //
        ("yes,y", po::bool_switch(&yes), "do not ask for confirmation") //
        ("abandon-stale", po::bool_switch(&abandon_stale),
         "start even though an earlier run died unfinished (it is noted in its journal)");
    add_common_options(desc, common);
    po::positional_options_description pos;
    pos.add("playbook", 1);
    po::variables_map vm;
    if (!parse_options("run", args, desc, pos, vm)) {
        return 0;
    }
    o.trigger.kind = "manual";
    auto pb = load_playbook(playbook_path(o), parse_var_overrides(o.vars));
    auto plan = orchestrator::make_plan(pb, selection_of(o), o.trigger);
    auto state_dir = state_dir_for(common, pb.file);
    int plan_rc = show_plan(plan, state_dir, o.trigger, common.json);
    if (dry_run) {
        return plan_rc;
    }
    if (plan_rc != 0) {
        throw util::Error("preflight found problems; nothing was run", util::ExitCode::invalid,
                          "fix them (see the plan above), then run again");
    }
    if (!confirm("Run this plan?", yes)) {
        std::puts("not confirmed; nothing was run");
        return util::to_int(util::ExitCode::ok);
    }
    start_logging(state_dir, common.verbose, "run");
    const std::string run_id = journal::new_run_id();
    auto lock = take_lock(state_dir, run_id, o.trigger.reason, abandon_stale);
    exec::install_interrupt_handlers();
    if (!common.json) {
        std::printf("\nrun id: %s\n", run_id.c_str());
        std::fflush(stdout);
    }
    orchestrator::RunOptions ro{state_dir, o.trigger, selection_of(o), common.verbose,
                                current_user()};
    orchestrator::RunOutcome outcome;
    exec::RealProcessRunner runner;
    {
        report::ConsoleObserver observer(stdout, report::choose_mode(stdout, common.json),
                                         common.verbose);
        outcome = orchestrator::run(plan, ro, run_id, runner, observer);
    }
    lock.release();
    print_summary(outcome, state_dir, common.json);
    return util::to_int(outcome.code);
}

} // namespace rollback::cli
