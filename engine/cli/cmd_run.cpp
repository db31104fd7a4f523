// SPDX-License-Identifier: MIT
// rollback run -p PLAYBOOK : plan, confirm, lock, execute, journal.
#include "cli/commands.hpp"
#include "cli/load.hpp"
#include "cli/run_options.hpp"
#include "cli/run_support.hpp"
#include "cli/state_dir.hpp"

namespace rollback::cli {

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
    auto pb = load_playbook_with_vars(playbook_path(o), o.vars);
    StartOptions so;
    const StateDir sd = resolve_state_dir(common, pb.file);
    refuse_state_in_releases(sd, pb);
    if (!dry_run) {
        prepare_state_dir(sd, "run", "the lock, the run's journal, rollback.log");
    }
    so.state_dir = sd.dir;
    so.shared = sd.shared;
    so.config = sd.config;
    so.selection = selection_of(o);
    so.verbose = common.verbose;
    so.json = common.json;
    so.yes = yes;
    so.dry_run = dry_run;
    so.abandon_stale = abandon_stale;
    return start_run(pb, o.trigger, so);
}

} // namespace rollback::cli
