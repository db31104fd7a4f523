// SPDX-License-Identifier: MIT
// `rollback state init|export|import`: the shared store's schema, and moving a run's journal
// between stores as the JSON Lines file of docs/journal.md.
#include "cli/check_support.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/output_file.hpp"
#include "cli/state_dir.hpp"
#include "journal/paths.hpp"
#include "journal/reader.hpp"
#include "state/pg_store.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <boost/json.hpp>
#include <cstdio>

namespace rollback::cli {

namespace {

/// A journal file to import is read whole; a journal of a long run stays far below this.
constexpr size_t k_max_import_bytes = 256U * 1024 * 1024;

int init(const CommonOptions& common) {
    const config::Config cfg = load_rollback_config(common);
    const StateDir sd = resolve_state_dir(common, cfg);
    if (!sd.shared && cfg.shared_state) {
        // The file names one, but the rule chose a local directory: said as it is.
        throw util::Error("state init: the state is the local directory " + sd.dir.string() + " (" +
                              sd.origin + "), not the shared state " + cfg.file.string() +
                              " names: nothing to init",
                          util::ExitCode::invalid,
                          "--state-dir names a local state for every command; leave it out to "
                          "init the shared state (docs/config.md \"The state directory\")");
    }
    if (!sd.shared) {
        throw util::Error("state init: " + cfg.file.string() +
                              " names no shared state; the state directory " + sd.dir.string() +
                              " needs no init",
                          util::ExitCode::invalid,
                          "[state] dsn = \"postgresql://...\" in rollback.toml (docs/config.md)");
    }
    state::PgStoreOptions options;
    options.schema = sd.shared->schema;
    const auto m = state::init_pg_schema(db::Dsn::parse(sd.shared->dsn), options);
    if (common.json) {
        std::printf("%s\n", util::json_text(boost::json::object{{"schema", sd.shared->schema},
                                                                {"from", m.from},
                                                                {"to", m.to}})
                                .c_str());
    } else if (m.from == m.to) {
        std::printf("%s: schema version %d, nothing to do\n", state_where(sd).c_str(), m.to);
    } else if (m.from == 0) {
        std::printf("%s: schema created (version %d)\n", state_where(sd).c_str(), m.to);
    } else {
        std::printf("%s: schema migrated from version %d to %d\n", state_where(sd).c_str(), m.from,
                    m.to);
    }
    return util::to_int(util::ExitCode::ok);
}

int export_run(const StateDir& sd, const std::string& run_id, const std::string& output) {
    if (!journal::is_valid_run_id(run_id)) {
        throw util::Error("state export: not a run id: " + util::quoted(run_id),
                          util::ExitCode::invalid, "run 'rollback history' to list the runs");
    }
    const std::string text = open_store(sd, state::SchemaAccess::read)->journal_text(run_id);
    if (write_output(output, text, journal_output(sd.dir, run_id))) {
        std::fprintf(stderr, "run %s: journal written to %s\n", run_id.c_str(), output.c_str());
    }
    return util::to_int(util::ExitCode::ok);
}

int import_run(const StateDir& sd, const std::string& file, bool json) {
    const std::string text = util::read_input_file(file, k_max_import_bytes);
    const auto v = journal::verify_content(text, file);
    if (!v.ok) {
        throw util::Error(file + ":" + std::to_string(v.bad_line) + ": " + v.problem,
                          util::ExitCode::invalid,
                          "only an intact journal is imported (rollback audit verify)");
    }
    // A journal never holds a registered secret (docs/journal.md); one written before the
    // secret was registered (a local run that printed the DSN) would be kept and exported in
    // clear here, and masking it would break its chain: refused (break-it 32/03).
    size_t line_no = 0;
    for (const auto& line : util::split(text, '\n')) {
        ++line_no;
        if (util::mask_secrets(line) != line) {
            throw util::Error(file + ":" + std::to_string(line_no) +
                                  ": holds a secret of this config in clear (the shared state's "
                                  "password, or another registered secret): the journal never "
                                  "holds one, and masking it would break its hash chain",
                              util::ExitCode::invalid,
                              "keep that run where it is (its state directory), or change the "
                              "password, which it then no longer holds");
        }
    }
    const auto j = journal::parse(text, file);
    const std::string run_id = j.run_id();
    if (!journal::is_valid_run_id(run_id)) {
        throw util::Error(file + ":1: the header names no valid run id (" + util::quoted(run_id) +
                              ")",
                          util::ExitCode::invalid);
    }
    require_state_owner(sd, "state import", "the imported run's journal");
    auto store = open_store(sd, state::SchemaAccess::write);
    store->import_journal(run_id, text, state_args(sd));
    if (json) {
        std::printf(
            "%s\n",
            util::json_text(boost::json::object{{"run_id", run_id}, {"records", v.lines}}).c_str());
    } else {
        std::printf("run %s: %zu records imported into %s\n", run_id.c_str(), v.lines,
                    util::terminal_text(state_where(sd)).c_str());
    }
    return util::to_int(util::ExitCode::ok);
}

} // namespace

int cmd_state(const Args& args) {
    CommonOptions common;
    std::string action, argument, output;
    po::options_description desc("state init | export RUN_ID [-o FILE] | import FILE");
    add_common_options(desc, common, use_config | use_state_dir | use_json);
    desc.add_options()                                                                     //
        ("action", po::value(&action)->value_name("init|export|import"), "what to do")     //
        ("argument", po::value(&argument)->value_name("RUN_ID|FILE"), "the run, the file") //
        ("output,o", po::value(&output)->value_name("FILE"),
         "export: write the journal here (default: standard output)");
    po::positional_options_description pos;
    pos.add("action", 1).add("argument", 1);
    po::variables_map vm;
    if (!parse_options("state", args, desc, pos, vm)) {
        return util::to_int(util::ExitCode::ok);
    }
    if (action == "init") {
        return init(common);
    }
    if (action != "export" && action != "import") {
        throw util::Error(action.empty() ? "state: what? (state init|export RUN_ID|import FILE)"
                                         : "state: unknown action " + util::quoted(action),
                          util::ExitCode::invalid, "rollback state export RUN_ID -o run.jsonl");
    }
    if (argument.empty()) {
        throw util::Error(
            "state " + action + ": which " +
                (action == "export" ? "run? (state export RUN_ID)" : "file? (state import FILE)"),
            util::ExitCode::invalid);
    }
    const StateDir sd = resolve_state_dir(common, std::filesystem::path());
    return action == "export" ? export_run(sd, argument, output)
                              : import_run(sd, argument, common.json);
}

} // namespace rollback::cli
