// SPDX-License-Identifier: MIT
#include "cli/run_options.hpp"

#include "util/error.hpp"

namespace rollback::cli {

void add_plan_options(po::options_description& desc, PlanOptions& o) {
    desc.add_options()                                                                          //
        ("playbook,p", po::value(&o.playbook)->value_name("FILE"), "the playbook (TOML)")       //
        ("var", po::value(&o.vars)->value_name("NAME=VALUE"), "set a variable (wins over env)") //
        ("only", po::value(&o.only)->value_name("STEP,..."),
         "run only these steps (and finally)")                                         //
        ("skip", po::value(&o.skip)->value_name("STEP,..."), "skip these steps")       //
        ("from", po::value(&o.from)->value_name("STEP"), "start at this step")         //
        ("reason", po::value(&o.trigger.reason)->value_name("TEXT"), "why (recorded)") //
        ("severity", po::value(&o.trigger.severity)->value_name("S"),
         "trigger severity, e.g. critical") //
        ("condition", po::value(&o.trigger.condition)->value_name("NAME"),
         "trigger condition name");
}

orchestrator::Selection selection_of(const PlanOptions& o) {
    orchestrator::Selection s;
    s.only = split_list(o.only);
    s.skip = split_list(o.skip);
    s.from = o.from;
    return s;
}

std::filesystem::path playbook_path(const PlanOptions& o) {
    if (o.playbook.empty()) {
        throw util::Error("no playbook given", util::ExitCode::invalid, "pass -p PLAYBOOK");
    }
    return o.playbook;
}

} // namespace rollback::cli
