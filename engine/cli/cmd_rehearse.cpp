// SPDX-License-Identifier: MIT
// rollback rehearse -p PLAYBOOK: restore each pg_restore step's backup into a scratch database,
// verify it, time it, drop it, record it. Touches nothing live.
#include "actions/pg_restore_action.hpp"
#include "cli/commands.hpp"
#include "cli/load.hpp"
#include "cli/options.hpp"
#include "cli/state_dir.hpp"
#include "exec/runner.hpp"
#include "journal/paths.hpp"
#include "util/error.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <filesystem>

namespace rollback::cli {

namespace {

/// Every name given to --only is a pg_restore step of the playbook: a misspelt one would
/// rehearse nothing and succeed.
void check_only(const playbook::Playbook& pb, const std::vector<std::string>& wanted) {
    std::vector<std::string> restores;
    std::vector<std::string> others;
    for (const auto* steps : {&pb.steps, &pb.finally}) {
        for (const auto& s : *steps) {
            (s.action == "pg_restore" ? restores : others).push_back(s.id);
        }
    }
    for (const auto& id : wanted) {
        if (std::find(restores.begin(), restores.end(), id) != restores.end()) {
            continue;
        }
        const bool other = std::find(others.begin(), others.end(), id) != others.end();
        const std::string guess = other ? std::string() : util::closest_match(id, restores);
        throw util::Error(
            "--only: " +
                (other ? "step " + util::quoted(id) + " of " + pb.file.string() +
                             " is no pg_restore step: rehearse restores pg_restore steps only"
                       : "no pg_restore step " + util::quoted(id) + " in " + pb.file.string() +
                             (guess.empty() ? "" : " (did you mean " + util::quoted(guess) + "?)")),
            util::ExitCode::invalid,
            restores.empty() ? "the playbook has no pg_restore step"
                             : "pg_restore steps: " + util::join(restores, ", "));
    }
}

} // namespace

int cmd_rehearse(const Args& args) {
    CommonOptions common;
    std::string playbook_file;
    std::string dsn;
    std::vector<std::string> vars;
    std::vector<std::string> only;
    po::options_description desc("rehearse options");
    desc.add_options()                                                                    //
        ("playbook,p", po::value(&playbook_file)->value_name("PLAYBOOK"), "the playbook") //
        ("dsn", po::value(&dsn)->value_name("DSN"),
         "rehearse on this server instead of the step's dsn") //
        ("only", po::value(&only)->value_name("STEP,..."),
         "rehearse only these steps (not counted as the playbook's drill)") //
        ("var", po::value(&vars)->value_name("NAME=VALUE"), "set a variable");
    add_common_options(desc, common, use_config | use_state_dir | use_verbose | use_json);
    po::positional_options_description pos;
    po::variables_map vm;
    if (!parse_options("rehearse", args, desc, pos, vm)) {
        return 0;
    }
    if (playbook_file.empty()) {
        throw util::Error("rehearse: -p PLAYBOOK is required", util::ExitCode::invalid,
                          "rollback rehearse -p PLAYBOOK");
    }
    auto pb = load_playbook_with_vars(playbook_file, vars);
    const auto wanted = split_list(only);
    check_only(pb, wanted); // before anything is written
    const StateDir sd = resolve_state_dir(common, playbook_file);
    prepare_state_dir(sd, "rehearse", "rehearsals/, rollback.log");
    const auto& state_dir = sd.dir;
    start_logging(state_dir, common.verbose, "rehearse");
    exec::RealProcessRunner runner;
    // Ctrl-C, `systemctl stop` (SIGTERM), SIGHUP: pg_restore's group is ended and the scratch
    // database — a copy of production's data — dropped before exiting 130 (break-it 42/03).
    exec::install_interrupt_handlers();
    int rehearsed = 0;
    bool all_ok = true;
    bool scratch_left = false;
    std::vector<const playbook::Step*> steps;
    for (const auto& s : pb.steps) {
        steps.push_back(&s);
    }
    for (const auto& s : pb.finally) {
        steps.push_back(&s);
    }
    std::erase_if(steps, [&](const playbook::Step* s) {
        return s->action != "pg_restore" ||
               (!wanted.empty() && std::find(wanted.begin(), wanted.end(), s->id) == wanted.end());
    });
    // Every record of this invocation names it and how many steps it has: the monitor counts a
    // drill as successful only when all of them are recorded and ok (docs/metrics.md).
    const std::string rehearse_id = journal::new_run_id();
    const std::string playbook_abs = std::filesystem::absolute(pb.file).lexically_normal().string();
    for (const playbook::Step* s : steps) {
        if (exec::interrupt_requested() != 0) {
            break;
        }
        ++rehearsed;
        auto r = actions::rehearse_pg_restore(
            pb, *s, runner, dsn,
            [](const std::string& line) {
                std::fprintf(stderr, "%s\n", util::mask_secrets(line).c_str());
            },
            state_dir);
        r.rehearse_id = rehearse_id;
        r.of = static_cast<int>(steps.size());
        r.playbook = playbook_abs;
        r.only = wanted; // a selection: not the playbook's drill (docs/metrics.md)
        auto file = db::save_rehearsal(state_dir, r);
        all_ok = all_ok && r.ok;
        scratch_left = scratch_left || r.scratch_left;
        if (common.json) {
            auto o = db::to_json(r);
            o["recorded"] = file.string();
            std::printf("%s\n", util::mask_secrets(util::json_text(o)).c_str());
            continue;
        }
        std::printf("step %s: %s (backup %s)\n", s->id.c_str(), r.ok ? "ok" : "FAILED",
                    r.backup.empty() ? "-" : r.backup.c_str());
        std::printf(
            "  check archive %7.2fs\n  restore       %7.2fs  (%d items)\n  verify        %7.2fs\n"
            "  drop scratch  %7.2fs\n  total         %7.2fs\n",
            r.check_s, r.restore_s, r.toc_entries, r.verify_s, r.drop_s, r.total_s);
        for (const auto& p : r.problems) {
            std::printf("  FAIL %s\n", util::terminal_text(p).c_str());
        }
        std::printf("  recorded in %s\n", file.string().c_str());
    }
    if (const int sig = exec::interrupt_requested(); sig != 0) {
        // Each step rehearsed so far said whether its scratch database is gone (a FAIL line
        // with the command that drops it when it is not).
        std::fprintf(stderr,
                     "rollback: rehearse interrupted by %s: pg_restore ended, %s; %d of %zu "
                     "step(s) rehearsed, no drill counted\n",
                     exec::interrupt_name(sig).c_str(),
                     scratch_left ? "a scratch database NOT dropped (its FAIL line says how)"
                                  : "no scratch database left",
                     rehearsed, steps.size());
        return util::to_int(util::ExitCode::interrupted);
    }
    if (rehearsed == 0 && !common.json) {
        std::printf("%s: no pg_restore steps to rehearse\n", playbook_file.c_str());
    }
    return util::to_int(all_ok ? util::ExitCode::ok : util::ExitCode::run_failed);
}

} // namespace rollback::cli
