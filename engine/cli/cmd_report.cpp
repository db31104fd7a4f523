// SPDX-License-Identifier: MIT
#include "cli/commands.hpp"
#include "cli/evidence.hpp"
#include "cli/options.hpp"
#include "cli/output_file.hpp"
#include "cli/state_dir.hpp"
#include "report/html.hpp"
#include "report/run_report.hpp"
#include "state/local_store.hpp"
#include "util/error.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"

#include <boost/json/serialize.hpp>
#include <cstdio>

namespace rollback::cli {

int cmd_report(const Args& args) {
    CommonOptions common;
    std::string playbook;
    std::string run_id;
    std::string output;
    bool html = false;
    po::options_description desc("report RUN_ID options");
    add_common_options(desc, common, use_config | use_state_dir | use_json);
    desc.add_options()("playbook,p", po::value(&playbook)->value_name("PLAYBOOK"),
                       "use the state directory beside this playbook")            //
        ("run-id", po::value(&run_id)->value_name("RUN_ID"), "the run to report") //
        ("html", po::bool_switch(&html),
         "one self-contained HTML page: the decision's evidence, the step timeline, the "
         "restore") //
        ("output,o", po::value(&output)->value_name("FILE"), "write the page to FILE");
    po::positional_options_description pos;
    pos.add("run-id", 1);
    po::variables_map vm;
    if (!parse_options("report", args, desc, pos, vm)) {
        return util::to_int(util::ExitCode::ok);
    }
    if (run_id.empty()) {
        throw util::Error("report: which run? (report RUN_ID)", util::ExitCode::invalid,
                          "run 'rollback history' to list the runs");
    }
    const StateDir sd = resolve_state_dir(common, playbook);
    const auto& state_dir = sd.dir;
    const auto store = open_store(sd, state::SchemaAccess::read);
    if (!common.json && !html && output.empty()) {
        // The text needs no record twice: folded and written as the journal is read.
        std::fputs(util::terminal_text(report::report_text(*store, run_id, state_args(sd))).c_str(),
                   stdout);
        return util::to_int(util::ExitCode::ok);
    }
    auto view = report::load_run(*store, run_id, state_args(sd));
    if (html || !output.empty()) {
        const std::string page =
            report::run_html(view.journal, view.state, view.ctx,
                             decision_view_of_run(*store, view.state.trigger.decision_id));
        if (write_output(output, page, page_output(state_dir))) {
            std::fprintf(stderr, "wrote %s (%zu bytes)\n", output.c_str(), page.size());
        }
        return util::to_int(util::ExitCode::ok);
    }
    const std::string out =
        util::json_text(report::report_json(view.journal, view.state, view.ctx)) + "\n";
    std::fputs(util::mask_secrets(out).c_str(), stdout);
    return util::to_int(util::ExitCode::ok);
}

} // namespace rollback::cli
