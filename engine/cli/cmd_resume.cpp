// SPDX-License-Identifier: MIT
// rollback resume [RUN_ID] : continue an interrupted run from its journal (resume_run: the one
// path that continues a run, for a person and for a monitor taking over the leadership).
#include "actions/load_parsed.hpp"
#include "cli/commands.hpp"
#include "cli/load.hpp"
#include "cli/options.hpp"
#include "cli/run_support.hpp"
#include "cli/state_dir.hpp"
#include "journal/paths.hpp"
#include "journal/reader.hpp"
#include "journal/state.hpp"
#include "orchestrator/run_vars.hpp"
#include "playbook/parsed_file.hpp"
#include "report/console.hpp"
#include "report/record_text.hpp"
#include "state/local_store.hpp"
#include "util/heap.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/sha256.hpp"

#include <cstdio>
#include <unistd.h>

namespace rollback::cli {

int cmd_resume(const Args& args) {
    CommonOptions common;
    std::string run_id, playbook_opt, reason;
    std::vector<std::string> mark_done, retry, vars;
    bool yes = false, allow_changed = false, allow_changed_vars = false, force = false;
    po::options_description desc("resume options");
    desc.add_options()("run-id", po::value(&run_id)->value_name("RUN_ID"),
                       "the run (default: the latest)") //
        ("playbook,p", po::value(&playbook_opt)->value_name("FILE"),
         "locates the state directory (.rollback/ beside it)") //
        ("mark-done", po::value(&mark_done)->value_name("STEP"),
         "a person checked: STEP's effect happened")                         //
        ("retry", po::value(&retry)->value_name("STEP"), "run STEP again")   //
        ("reason", po::value(&reason)->value_name("TEXT"), "why (recorded)") //
        ("var", po::value(&vars)->value_name("NAME=VALUE"),
         "a variable's value (must be the run's unless --allow-changed-vars)") //
        ("yes,y", po::bool_switch(&yes), "do not ask for confirmation")        //
        ("allow-changed-playbook", po::bool_switch(&allow_changed),
         "resume even though the playbook file (or its inventory file) changed since the run "
         "started") //
        ("force", po::bool_switch(&force),
         "--mark-done a verify-phase check that never passed (recorded as not verified)") //
        ("allow-changed-vars", po::bool_switch(&allow_changed_vars),
         "go on with this command line's, environment's and .env's values where they differ "
         "from the run's");
    add_common_options(desc, common);
    po::positional_options_description pos;
    pos.add("run-id", 1);
    po::variables_map vm;
    if (!parse_options("resume", args, desc, pos, vm)) {
        return 0;
    }
    const StateDir sd = resolve_state_dir(common, playbook_opt);
    require_state_owner(sd, "resume", "the run's journal, the lock, rollback.log");
    auto store_ptr = open_store(sd, state::SchemaAccess::write);
    if (run_id.empty()) {
        auto latest = store_ptr->latest_run();
        if (!latest) {
            throw util::Error("no runs in " + state_where(sd), util::ExitCode::invalid,
                              "pass --state-dir DIR or -p PLAYBOOK to name where the runs are");
        }
        run_id = *latest;
    }
    ResumeRequest r;
    r.run_id = run_id;
    r.mark_done = split_list(mark_done);
    r.retry = split_list(retry);
    r.vars = vars;
    r.reason = reason;
    r.yes = yes;
    r.allow_changed = allow_changed;
    r.allow_changed_vars = allow_changed_vars;
    r.force = force;
    r.verbose = common.verbose;
    r.json = common.json;
    r.exits_after = true;
    return resume_run(*store_ptr, sd, r);
}

int resume_run(state::Store& store, const StateDir& sd, const ResumeRequest& r) {
    const auto& state_dir = sd.dir;
    const std::string& run_id = r.run_id;
    (void)store.artifacts_dir(run_id); // an id that is no run id: exit 2 before anything
    if (store.is_run_live(run_id)) {
        auto h = store.lease_holder();
        throw util::Error("run " + run_id + " is still running (pid " +
                              std::to_string(h ? h->pid : 0) + ")",
                          util::ExitCode::locked);
    }
    // The lock first, then the journal read once under it: no writer can change it before the
    // resume continues it from that reading (its chain checked, its state folded, no record
    // kept). The run's reason, the holder's when --reason is not given, is known once it is read.
    std::optional<state::Holder> stale;
    auto lock = take_lock(store, sd, run_id, r.reason, false, nullptr,
                          r.fence ? &*r.fence : nullptr, &stale);
    lock->set_run_id(run_id);
    std::optional<orchestrator::ResumeJournal> read;
    std::optional<playbook::Playbook> loaded;
    orchestrator::VarsAtResume at_resume;
    try {
        read = orchestrator::read_for_resume(store, run_id, *lock);
        const journal::RunState& state = read->state;
        if (state.playbook.empty()) {
            throw util::Error("run " + run_id +
                                  " died before it recorded its plan; no step ran, so there is "
                                  "nothing to resume",
                              util::ExitCode::invalid, "start a new run: rollback run -p PLAYBOOK");
        }
        // The run's variables, not this process's: what this resume would resolve (its --var,
        // environment, .env) is compared with what the run journaled (run_vars.hpp).
        auto overrides = parse_var_overrides(r.vars);
        // Parsed once, loaded twice: with the variables of now, then with the run's — once
        // when the run's are now's (then the second load would give the same playbook).
        const auto parsed = playbook::parse_file(state.playbook);
        if (read->started) {
            auto now = load_playbook(*parsed, overrides, true);
            const auto key = orchestrator::run_vars_key(store.artifacts_dir(run_id), false);
            at_resume = orchestrator::vars_at_resume(*read->started, now, key);
            if (!at_resume.differences.empty() && !r.allow_changed_vars) {
                std::string list;
                for (const auto& d : at_resume.differences) {
                    list += "\n  " + d;
                }
                throw util::Error(
                    "run " + run_id + " started with other variable values than this resume " +
                        "resolves; resuming with them would do half the run with one value and " +
                        "the rest with another:" + list,
                    util::ExitCode::invalid,
                    "resume with the run's values (the same --var, environment and .env), or "
                    "pass --allow-changed-vars to go on with the new ones");
            }
            const std::size_t given = overrides.size();
            for (const auto& [name, value] : at_resume.run_values) {
                overrides.emplace(name, value); // a --var given to the resume is kept
            }
            if (overrides.size() == given && now.warnings.empty()) {
                // No value taken from the run and no environment variable unset (which only
                // the first load tolerates): loading again would give `now`.
                loaded = std::move(now);
            }
        }
        if (!loaded) {
            loaded = load_playbook(*parsed, overrides);
        }
        warn_secrets_on_command_line(*loaded);
        std::string sha = util::sha256_file(loaded->file);
        if (sha != state.playbook_sha256 && !r.allow_changed) {
            throw util::Error("playbook " + loaded->file.string() + " changed since run " + run_id +
                                  " started; resuming with different steps could repeat or skip "
                                  "work",
                              util::ExitCode::invalid,
                              "restore the original file, or pass --allow-changed-playbook if you "
                              "reviewed the change");
        }
        // The inventory decides the machines, ports, users and per-host values as much as the
        // playbook decides the steps: a host's step must not go on on another server.
        const auto& inv = loaded->remote;
        if (!state.inventory_sha256.empty() && inv.inventory_sha256 != state.inventory_sha256 &&
            !r.allow_changed) {
            throw util::Error(
                "inventory " +
                    (inv.inventory.empty() ? std::string("file") : inv.inventory.string()) +
                    " changed since run " + run_id +
                    " started; resuming with other hosts, addresses or host variables could run "
                    "a host's step on another server and never on the one the run began on",
                util::ExitCode::invalid,
                "restore the original file, or pass --allow-changed-playbook if you reviewed the "
                "change");
        }
        if (r.reason.empty() && !state.reason.empty()) {
            lock->set_reason(state.reason);
        }
    } catch (...) {
        // Bad input changes nothing: a lock left by a dead holder stays as it was.
        try {
            if (stale) {
                lock->release_leaving(*stale);
            }
        } catch (const util::Error& e) {
            log::warn("resume of run {}: {}", run_id, e.what()); // the first error is the one
        }
        lock->release();
        throw;
    }
    const orchestrator::ResumeJournal& rj = *read;
    const journal::Journal& jr = rj.journal;
    const journal::RunState& state = rj.state;
    const playbook::Playbook& pb = *loaded;
    if (r.start_logging) {
        start_logging(state_dir, r.verbose, "resume");
    }
    if (!r.json) {
        std::printf("resuming run %s (%s, %s): playbook %s\n", run_id.c_str(),
                    std::string(journal::to_string(state.status)).c_str(),
                    state.reason.empty() ? "no reason given" : state.reason.c_str(),
                    pb.file.c_str());
        if (state.handed_over) {
            std::printf(
                "  handed over %s (%s)\n",
                util::mask_secrets(report::hand_over_text(state.handed_over->record)).c_str(),
                state.handed_over->at.c_str());
        }
        for (const auto& note : at_resume.notes) {
            std::printf("  variable %s\n", util::mask_secrets(note).c_str());
        }
        if (!at_resume.changed.empty()) {
            std::printf("  variables CHANGED since the run (--allow-changed-vars):\n");
            for (const auto& d : at_resume.differences) {
                std::printf("    %s\n", util::mask_secrets(d).c_str());
            }
        }
        for (const auto& st : state.steps) {
            std::printf("  %-24s %s%s\n", st.id.c_str(),
                        std::string(journal::to_string(st.status)).c_str(),
                        st.in_flight ? "  (started, not finished)" : "");
        }
        std::fflush(stdout);
    }
    exec::RealProcessRunner runner;
    // A step whose action can look at its own effect (pg_restore) is marked done against its
    // probe's word only with a second, explicit yes.
    auto unfinished = orchestrator::probe_mark_done(pb, jr, r.mark_done, state_dir, store, runner);
    for (const auto& [id, what] : unfinished) {
        std::fprintf(stderr,
                     "rollback: warning: --mark-done %s: the step did not finish: %s; marking it "
                     "done leaves it so\n",
                     id.c_str(), util::mask_secrets(what).c_str());
    }
    if (!unfinished.empty() && !r.yes) {
        if (::isatty(STDIN_FILENO) == 0) {
            throw util::Error("--mark-done " + unfinished.begin()->first +
                                  ": the step's probe says it did not finish (see the warning)",
                              util::ExitCode::invalid,
                              "resume without --mark-done to let the step finish, or pass --yes "
                              "to mark it done anyway");
        }
        if (!confirm("Mark it done anyway?", false)) {
            std::puts("not confirmed; nothing was run");
            return 0;
        }
    }
    if (!confirm("Resume this run?", r.yes)) {
        std::puts("not confirmed; nothing was run");
        return 0;
    }
    exec::install_interrupt_handlers();
    orchestrator::ResumeOptions ro{state_dir,      r.mark_done, r.retry,
                                   current_user(), r.reason,    r.verbose};
    ro.mark_done_warnings = unfinished;
    // A monitor's resume among monitors sharing a state: an interrupt hands it over again, as
    // release_run_lock leaves it for the next leader.
    ro.hand_over = hand_over_to(r.fence ? &*r.fence : nullptr, sd, run_id);
    ro.state = state_ref(sd);
    ro.vars_changed = at_resume.changed;
    ro.force = r.force;
    orchestrator::RunOutcome outcome;
    try {
        report::ConsoleObserver observer(stdout, report::choose_mode(stdout, r.json), r.verbose);
        outcome = orchestrator::resume(pb, rj, ro, store, *lock, runner, observer);
    } catch (...) {
        release_run_lock(store, *lock, r.fence ? &*r.fence : nullptr);
        throw;
    }
    release_run_lock(store, *lock, r.fence ? &*r.fence : nullptr, &outcome);
    print_summary(outcome, sd, r.json);
    if (r.exits_after) {
        util::leave_to_exit(std::move(*read));
        util::leave_to_exit(std::move(*loaded));
    }
    return util::to_int(outcome.code);
}

} // namespace rollback::cli
