// SPDX-License-Identifier: MIT
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/state_dir.hpp"
#include "journal/paths.hpp"
#include "report/run_report.hpp"
#include "state/local_store.hpp"
#include "util/error.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"

#include <boost/json/serialize.hpp>
#include <cstdio>

namespace rollback::cli {

int cmd_history(const Args& args) {
    CommonOptions common;
    std::string playbook;
    po::options_description desc("history options");
    add_common_options(desc, common, use_config | use_state_dir | use_json);
    desc.add_options()("playbook,p", po::value(&playbook)->value_name("PLAYBOOK"),
                       "use the state directory beside this playbook");
    po::variables_map vm;
    if (!parse_options("history", args, desc, {}, vm)) {
        return util::to_int(util::ExitCode::ok);
    }
    const StateDir sd = resolve_state_dir(common, playbook);
    const auto store_ptr = open_store(sd, state::SchemaAccess::read);
    const state::Store& store = *store_ptr;
    auto ids = store.list_runs();
    std::string out;
    if (!common.json) {
        if (ids.empty()) {
            std::printf("no runs in %s\n", util::terminal_text(state_where(sd)).c_str());
            return util::to_int(util::ExitCode::ok);
        }
        out += report::history_header() + "\n";
    }
    for (const auto& id : ids) {
        // One bad journal must not hide the others: it gets a line saying what is wrong.
        try {
            auto view = report::load_run(store, id, state_args(sd));
            out += common.json ? util::json_text(report::history_json(view.state))
                               : report::format_history_line(view.state);
        } catch (const util::Error& e) {
            out += common.json ? util::json_text(boost::json::object{
                                     {"run_id", id}, {"state", "unreadable"}, {"error", e.what()}})
                               : report::format_history_error(id, e.what());
        }
        out += "\n";
    }
    std::fputs((common.json ? util::mask_secrets(out) : util::terminal_text(out)).c_str(), stdout);
    return util::to_int(util::ExitCode::ok);
}

} // namespace rollback::cli
