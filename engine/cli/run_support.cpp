// SPDX-License-Identifier: MIT
#include "cli/run_support.hpp"

#include "cli/state_dir.hpp"

#include "cli/options.hpp"
#include "exec/runner.hpp"
#include "journal/paths.hpp"
#include "journal/reader.hpp"
#include "journal/state.hpp"
#include "journal/writer.hpp"
#include "orchestrator/host_survivors.hpp"
#include "orchestrator/hosts.hpp"
#include "orchestrator/preflight.hpp"
#include "orchestrator/survivors.hpp"
#include "report/console.hpp"
#include "state/local_store.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace rollback::cli {

std::string describe(const state::Holder& h) {
    std::string s = "run " + (h.run_id.empty() ? std::string("(starting)") : h.run_id);
    if (h.pid != 0) {
        s += " (pid " + std::to_string(h.pid) + " on " + h.host + ", started " + h.started;
        if (!h.user.empty()) {
            s += " by " + h.user;
        }
        if (!h.reason.empty()) {
            s += ", reason: " + h.reason;
        }
        s += ")";
    }
    return s;
}

namespace {

/// What a dead run's journal says about it.
struct DeadRun {
    bool unfinished = false; ///< it may have a step in flight: a new run must not start blindly
    std::string unreadable;  ///< why its journal cannot be read ("" = it was read)
};

DeadRun dead_run(const state::Runs& runs, const std::string& run_id) {
    const auto ids = runs.list_runs();
    if (std::find(ids.begin(), ids.end(), run_id) == ids.end()) {
        return {}; // died before its journal existed: it ran no step
    }
    try {
        auto state = journal::fold(runs.read_journal(run_id), false);
        // A run that died before recording its plan ran no step: nothing to resume.
        return {!state.playbook.empty() && (state.status == journal::RunStatus::interrupted ||
                                            state.status == journal::RunStatus::running),
                {}};
    } catch (const std::exception& e) {
        // Whether a step of it was in flight cannot be told: it blocks like an unfinished run
        // (docs/journal.md, "A journal that cannot be read").
        return {true, e.what()};
    }
}

} // namespace

namespace {

/// A monitor's run among monitors sharing a state (`fence` of a leadership): an interrupt hands
/// it over to the next leader (orchestrator::RunOptions::hand_over) and release_run_lock leaves
/// it for that leader.
bool hands_over(const state::RunFence* fence) {
    return fence != nullptr && fence->leader_generation != 0;
}

} // namespace

std::optional<orchestrator::HandOver> hand_over_to(const state::RunFence* fence, const StateDir& sd,
                                                   const std::string& run_id) {
    if (!hands_over(fence)) {
        return std::nullopt;
    }
    return orchestrator::HandOver{static_cast<std::int64_t>(fence->leader_generation),
                                  "rollback resume " + run_id + state_args(sd)};
}

void release_run_lock(state::Store& store, state::RunLease& lock, const state::RunFence* fence,
                      const orchestrator::RunOutcome* outcome) {
    const auto& me = lock.holder();
    if (!hands_over(fence) || me.run_id.empty()) {
        lock.release();
        return;
    }
    bool unfinished = true; // what cannot be told now is left for the leader to look at
    if (outcome != nullptr && outcome->status != journal::RunStatus::interrupted &&
        outcome->status != journal::RunStatus::running) {
        unfinished = false; // it finished: known without reading the store again
    } else {
        try {
            unfinished = dead_run(store, me.run_id).unfinished;
        } catch (const std::exception& e) {
            log::warn("run {}: whether it finished cannot be read now ({}): left to the leader",
                      me.run_id, e.what());
        }
    }
    if (!unfinished) {
        lock.release();
        return;
    }
    try {
        lock.release_leaving(me);
        log::warn("run {} is left unfinished for the leading monitor to resume", me.run_id);
    } catch (const std::exception& e) {
        // The row then ends by its expiry, still naming this run: found dead all the same.
        log::warn("run {}: {}", me.run_id, e.what());
    }
}

bool confirm(const std::string& question, bool yes) {
    if (yes) {
        return true;
    }
    if (::isatty(STDIN_FILENO) == 0) {
        throw util::Error("refusing to run without confirmation: stdin is not a terminal",
                          util::ExitCode::invalid,
                          "review the plan (rollback plan), then pass --yes");
    }
    std::fprintf(stdout, "%s [y/N] ", question.c_str());
    std::fflush(stdout);
    std::string answer;
    if (!std::getline(std::cin, answer)) {
        return false;
    }
    return answer == "y" || answer == "Y" || answer == "yes";
}

std::unique_ptr<state::RunLease> take_lock(state::Store& store, const StateDir& sd,
                                           const std::string& run_id, const std::string& reason,
                                           bool abandon_stale, const playbook::Playbook* pb,
                                           const state::RunFence* fence,
                                           std::optional<state::Holder>* stale,
                                           std::shared_ptr<remote::Connections> connections) {
    const auto me = state::this_process_holder(run_id, reason);
    auto attempt =
        fence != nullptr ? store.acquire_fenced_lease(me, *fence) : store.acquire_lease(me);
    if (!attempt.lease) {
        const auto holder = attempt.holder.value_or(state::Holder{});
        throw util::Error("another run holds the lock of " + state_where(sd) + ": " +
                              (holder.pid == 0 && holder.run_id.empty()
                                   ? std::string("a run that has not said who it is yet")
                                   : describe(holder)),
                          util::ExitCode::locked,
                          "wait for it to finish, or see: rollback status" + state_args(sd));
    }
    const DeadRun dead_state =
        attempt.stale && attempt.stale->run_id != run_id && !attempt.stale->run_id.empty()
            ? dead_run(store, attempt.stale->run_id)
            : DeadRun{};
    if (dead_state.unfinished) {
        const auto& dead = *attempt.stale;
        if (!dead_state.unreadable.empty()) {
            // Even --abandon-stale needs the journal: it names the processes to settle first.
            attempt.lease->release_leaving(dead);
            throw util::Error(describe(dead) + " died and its journal cannot be read (" +
                                  util::mask_secrets(dead_state.unreadable) +
                                  "): whether a step of it is still running cannot be checked",
                              util::ExitCode::locked,
                              "check it with: rollback audit verify " + dead.run_id +
                                  state_args(sd) +
                                  "   (docs/journal.md: a journal that cannot be read)");
        }
        if (!abandon_stale) {
            // Leave the evidence exactly as it was: the dead run's lock.json stays for the next
            // look.
            attempt.lease->release_leaving(dead);
            throw util::Error(describe(dead) + " died without finishing", util::ExitCode::locked,
                              "continue it with: rollback resume " + dead.run_id + state_args(sd) +
                                  "   (or start a new run anyway with --abandon-stale)");
        }
        auto writer = store.open_journal(dead.run_id, *attempt.lease, nullptr);
        if (pb != nullptr) {
            // The new run may start the same steps: what the dead run's in-flight attempts
            // started must be gone first (docs/actions.md, "Step processes"), on the hosts too.
            // An interrupt of that wait must leave everything as it was but what it ended.
            exec::install_interrupt_handlers();
            auto folded = journal::fold(store.read_journal(dead.run_id), false);
            orchestrator::SurvivorHooks hooks{
                [&](const journal::Record& rec) { writer->append(journal::to_json(rec)); },
                [](const std::string& step, const std::string& line) {
                    std::fprintf(stderr, "rollback: step \"%s\" of the abandoned run: %s\n",
                                 step.c_str(), util::mask_secrets(line).c_str());
                }};
            if (connections) {
                hooks.scan_host = orchestrator::ssh_host_scanner(connections);
            }
            const auto settled = orchestrator::settle_survivors(folded, *pb, hooks);
            const std::string again = "rollback run --abandon-stale again, or: rollback resume " +
                                      dead.run_id + state_args(sd);
            if (settled.interrupted || exec::interrupt_requested() != 0) {
                writer.reset();
                attempt.lease->release_leaving(dead);
                throw util::Error("interrupted while waiting for what run " + dead.run_id +
                                      " left running; it was not abandoned and no new run "
                                      "started",
                                  util::ExitCode::interrupted, again);
            }
            std::string left;
            for (const auto* m : {&settled.blocked, &settled.unchecked}) {
                for (const auto& [step, why] : *m) {
                    left += "\n  " + util::mask_secrets(why);
                }
            }
            if (!left.empty()) {
                writer.reset();
                attempt.lease->release_leaving(dead);
                throw util::Error(describe(dead) +
                                      " died, and a new run could start its steps beside what "
                                      "they still run; no new run started:" +
                                      left,
                                  util::ExitCode::locked,
                                  "end them (or let them end), then: " + again);
            }
        }
        writer->append(
            journal::to_json(journal::RunAbandoned{run_id, current_user(), me.host, me.pid}));
        log::warn("run {} abandoned (--abandon-stale) for new run {}", dead.run_id, run_id);
    }
    if (stale != nullptr) {
        *stale = attempt.stale;
    }
    return std::move(attempt.lease);
}

orchestrator::StateRef state_ref(const StateDir& sd) {
    return {state_args(sd), sd.shared.has_value(), state_where(sd)};
}

void print_summary(const orchestrator::RunOutcome& o, const StateDir& sd, bool json) {
    if (json) {
        boost::json::object s{{"type", "summary"},
                              {"run_id", o.run_id},
                              {"state", journal::to_string(o.status)},
                              {"exit_code", util::to_int(o.code)},
                              {"journal", o.journal.string()}};
        if (!o.message.empty()) {
            s["message"] = o.message;
        }
        if (!o.not_verified.empty()) {
            boost::json::array steps;
            for (const auto& id : o.not_verified) {
                steps.emplace_back(id);
            }
            s["not_verified"] = std::move(steps);
        }
        std::puts(util::mask_secrets(util::json_text(s)).c_str());
        return;
    }
    std::string text = "\nrun " + o.run_id + ": " + std::string(journal::to_string(o.status)) +
                       (o.not_verified.empty() ? "" : ", NOT verified") + " (exit " +
                       std::to_string(util::to_int(o.code)) + ")\n";
    if (!o.not_verified.empty()) {
        text += "  not verified: " + util::join(o.not_verified, ", ") +
                " (never passed; marked done with --force)\n";
    }
    if (!o.message.empty()) {
        text += o.message + "\n";
    }
    text += "  report:  rollback report " + o.run_id + state_args(sd) + "\n";
    if (!o.fenced &&
        (o.status == journal::RunStatus::interrupted || o.status == journal::RunStatus::failed)) {
        text += "  resume:  rollback resume " + o.run_id + state_args(sd) + "\n";
    }
    std::fputs(util::terminal_text(text).c_str(), stdout);
}

// Defined with `plan` (cmd_plan.cpp): prints the plan and its preflight, returns its exit code.
int show_plan(const orchestrator::Plan& plan, const std::filesystem::path& state_dir,
              state::Store& store, const actions::Trigger& trigger, bool json,
              std::shared_ptr<remote::Connections> connections, std::vector<std::string>* failures);

int start_run(const playbook::Playbook& pb, const actions::Trigger& trigger,
              const StartOptions& o) {
    auto plan = orchestrator::make_plan(pb, o.selection, trigger);
    exec::RealProcessRunner runner;
    // The hosts' master connections the preflight opens serve the run too: one ssh handshake
    // per host.
    std::shared_ptr<remote::Connections> connections;
    if (!pb.inventory.empty() && !o.dry_run) {
        connections =
            std::make_shared<remote::Connections>(runner, orchestrator::ssh_settings(pb.remote));
    }
    // One store for the plan and the run: the plan a person confirms reads the bad releases
    // the run will read (the shared state's, when the configuration names one).
    const StateDir sd{o.state_dir, "", o.shared, o.config};
    auto store_ptr =
        open_store(sd, o.dry_run ? state::SchemaAccess::read : state::SchemaAccess::write);
    state::Store& store = *store_ptr;
    std::vector<std::string> failures;
    int plan_rc = show_plan(plan, o.state_dir, store, trigger, o.json, connections, &failures);
    if (o.dry_run) {
        return plan_rc;
    }
    if (plan_rc != 0) {
        throw orchestrator::PreflightFailed(std::move(failures));
    }
    if (!confirm("Run this plan?", o.yes)) {
        std::puts("not confirmed; nothing was run");
        return util::to_int(util::ExitCode::ok);
    }
    if (o.start_logging) {
        start_logging(o.state_dir, o.verbose, o.command);
    }
    const std::string run_id =
        o.fence && !o.fence->decided_run.empty() ? o.fence->decided_run : journal::new_run_id();
    auto lock = take_lock(store, sd, run_id, trigger.reason, o.abandon_stale, &pb,
                          o.fence ? &*o.fence : nullptr, nullptr, connections);
    if (o.under_lock) {
        try {
            o.under_lock(store, run_id);
        } catch (...) {
            lock->release();
            throw;
        }
    }
    exec::install_interrupt_handlers();
    if (!o.json) {
        std::printf("\nrun id: %s\n", run_id.c_str());
        std::fflush(stdout);
    }
    orchestrator::RunOptions ro{o.state_dir, trigger,        o.selection,
                                o.verbose,   current_user(), connections};
    ro.hand_over = hand_over_to(o.fence ? &*o.fence : nullptr, sd, run_id);
    ro.state = state_ref(sd);
    orchestrator::RunOutcome outcome;
    try {
        report::ConsoleObserver observer(stdout, report::choose_mode(stdout, o.json), o.verbose);
        outcome = orchestrator::run(plan, ro, store, *lock, run_id, runner, observer);
    } catch (...) {
        release_run_lock(store, *lock, o.fence ? &*o.fence : nullptr);
        throw;
    }
    release_run_lock(store, *lock, o.fence ? &*o.fence : nullptr, &outcome);
    print_summary(outcome, sd, o.json);
    return util::to_int(outcome.code);
}

} // namespace rollback::cli
