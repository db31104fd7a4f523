// SPDX-License-Identifier: MIT
// rollback trigger --condition NAME --reason TEXT : a person's decision to roll back (a security
// vulnerability, a critical bug users report) — recorded like any decision, then the same run as
// `rollback run`.
#include "cli/check_support.hpp"
#include "cli/commands.hpp"
#include "cli/load.hpp"
#include "cli/run_options.hpp"
#include "cli/run_support.hpp"
#include "cli/state_dir.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <cstdio>
#include <optional>

namespace rollback::cli {

namespace {

decision::DecisionRecord manual_record(const std::string& target, const state::Store& store,
                                       const actions::Trigger& t, decision::Severity severity) {
    decision::DecisionRecord r;
    r.time = std::chrono::system_clock::now();
    r.target = target;
    if (auto marker = store.deploy_marker()) {
        r.release = marker->release;
        r.deployed_at = marker->time;
    }
    r.action = decision::Action::trigger;
    r.mode = decision::Mode::auto_;
    r.executed = true;
    r.cause = t.condition;
    r.reason = "manual trigger by " + current_user() + ": " + t.reason;
    decision::ConditionRecord c;
    c.name = t.condition;
    c.signal = "manual";
    c.window_start = c.window_end = r.time;
    c.detail = r.reason;
    c.verdict = decision::Verdict::firing;
    c.severity = severity;
    c.action = decision::Action::trigger;
    c.incident_since = r.time;
    r.conditions.push_back(std::move(c));
    return r;
}

} // namespace

int cmd_trigger(const Args& args) {
    CommonOptions common;
    PlanOptions o;
    bool yes = false, abandon_stale = false;
    po::options_description desc(
        "rollback trigger --condition NAME --reason TEXT [--severity S] [-p PLAYBOOK | -c CONFIG]");
    add_plan_options(desc, o);
    desc.add_options()("yes,y", po::bool_switch(&yes), "do not ask for confirmation") //
        ("abandon-stale", po::bool_switch(&abandon_stale),
         "start even though an earlier run died unfinished (it is noted in its journal)");
    add_common_options(desc, common);
    po::variables_map vm;
    if (!parse_options("trigger", args, desc, {}, vm)) {
        return util::to_int(util::ExitCode::ok);
    }
    if (o.trigger.condition.empty() || o.trigger.reason.empty()) {
        throw util::Error("trigger: --condition and --reason are required", util::ExitCode::invalid,
                          "e.g. rollback trigger --condition security --reason \"CVE in v42\"");
    }
    if (o.trigger.severity.empty()) {
        o.trigger.severity = "critical";
    }
    auto severity = decision::parse_severity(o.trigger.severity);
    if (!severity) {
        throw util::Error("--severity: unknown severity " + util::quoted(o.trigger.severity),
                          util::ExitCode::invalid, "use warning, high or critical");
    }
    o.trigger.kind = "manual";
    // The playbook: -p, else the config's [decision] playbook. Without -p the config is needed;
    // with -p it is read when found (for the target and the state directory, by the one rule).
    std::optional<config::Config> cfg;
    if (o.playbook.empty()) {
        cfg = load_rollback_config(common);
    } else if (auto file = find_config(common, o.playbook)) {
        cfg = config::load(*file);
    }
    std::filesystem::path pb_path = o.playbook;
    if (pb_path.empty()) {
        if (cfg->playbook.empty()) {
            throw util::Error("trigger: no playbook: " + cfg->file.string() +
                                  " has no [decision] playbook",
                              util::ExitCode::invalid, "pass -p PLAYBOOK");
        }
        pb_path = cfg->playbook;
    }
    auto pb = load_playbook_with_vars(pb_path, o.vars);
    StartOptions so;
    const StateDir sd = cfg ? resolve_state_dir(common, *cfg) : resolve_state_dir(common, pb.file);
    refuse_state_in_releases(sd, pb);
    so.state_dir = sd.dir;
    so.shared = sd.shared;
    so.config = sd.config;
    so.selection = selection_of(o);
    so.verbose = common.verbose;
    so.json = common.json;
    so.yes = yes;
    so.abandon_stale = abandon_stale;
    so.command = "trigger";

    prepare_state_dir(sd, "trigger", "decision records, the lock, the run's journal");
    // The decision record goes where its run goes and `explain` reads it: the store of the rule
    // (the shared state when there is one), with the deploy marker `deployed` wrote there.
    auto store = open_store(sd, state::SchemaAccess::write);
    auto record = manual_record(cfg ? cfg->target : std::string(), *store, o.trigger, *severity);
    auto path = store->put_record(record);
    o.trigger.decision_id = decision::record_id(record);
    if (!common.json) {
        std::printf("decision %s: manual trigger of %s (%s)\n  record: %s\n",
                    o.trigger.decision_id.c_str(), o.trigger.condition.c_str(),
                    o.trigger.severity.c_str(), path.c_str());
    }
    return start_run(pb, o.trigger, so);
}

} // namespace rollback::cli
