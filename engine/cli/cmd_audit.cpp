// SPDX-License-Identifier: MIT
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/state_dir.hpp"
#include "journal/paths.hpp"
#include "journal/reader.hpp"
#include "util/error.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <boost/json/serialize.hpp>
#include <cstdio>

namespace rollback::cli {

int cmd_audit(const Args& args) {
    CommonOptions common;
    std::string playbook;
    std::string action;
    std::string run_id;
    po::options_description desc("audit verify RUN_ID options");
    add_common_options(desc, common, use_config | use_state_dir | use_json);
    desc.add_options()("playbook,p", po::value(&playbook)->value_name("PLAYBOOK"),
                       "use the state directory beside this playbook")             //
        ("action", po::value(&action)->value_name("verify"), "what to do: verify") //
        ("run-id", po::value(&run_id)->value_name("RUN_ID"), "the run whose journal to verify");
    po::positional_options_description pos;
    pos.add("action", 1).add("run-id", 1);
    po::variables_map vm;
    if (!parse_options("audit", args, desc, pos, vm)) {
        return util::to_int(util::ExitCode::ok);
    }
    if (action != "verify") {
        throw util::Error(action.empty() ? "audit: what? (audit verify RUN_ID)"
                                         : "audit: unknown action \"" + action +
                                               "\" (did you mean \"verify\"?)",
                          util::ExitCode::invalid, "rollback audit verify RUN_ID");
    }
    if (run_id.empty()) {
        throw util::Error("audit verify: which run? (audit verify RUN_ID)", util::ExitCode::invalid,
                          "run 'rollback history' to list the runs");
    }
    if (!journal::is_valid_run_id(run_id)) {
        throw util::Error("not a run id: " + util::quoted(run_id), util::ExitCode::invalid,
                          "run 'rollback history' to list the runs");
    }
    // The same check whichever store keeps the journal: its bytes as the JSON Lines file.
    auto store = open_store(resolve_state_dir(common, playbook), state::SchemaAccess::read);
    const std::string file = store->journal_location(run_id);
    const std::string text = store->journal_text(run_id);
    auto v = journal::verify_content(text, file);
    if (const auto named = journal::header_run_id(text); v.ok && named != run_id) {
        // An intact chain of another run under this run's name (a file copied or exported over
        // it) is not this run's evidence.
        v.ok = false;
        v.bad_line = 1;
        v.bad_seq = 0;
        v.problem = "the header names run " + util::quoted(named) + ", not " + run_id +
                    ": this is another run's journal under its name";
    }
    std::string out;
    if (common.json) {
        boost::json::object o{
            {"run_id", run_id}, {"journal", file}, {"ok", v.ok}, {"lines", v.lines}};
        if (!v.ok) {
            o["bad_line"] = v.bad_line;
            o["bad_seq"] = v.bad_seq;
            o["problem"] = v.problem;
            o["unreadable"] = v.unreadable;
        }
        out = util::json_text(o) + "\n";
    } else if (v.ok) {
        out = "journal " + run_id + ": intact (" + std::to_string(v.lines) +
              " records, hash chain verified)\n";
    } else {
        out = "journal " + run_id + (v.unreadable ? ": unreadable: line " : ": NOT intact: line ") +
              std::to_string(v.bad_line) + " (seq " + std::to_string(v.bad_seq) +
              "): " + v.problem + "\n  file: " + file + "\n";
    }
    std::fputs(util::terminal_text(out).c_str(), stdout);
    return util::to_int(v.ok ? util::ExitCode::ok : util::ExitCode::run_failed);
}

} // namespace rollback::cli
