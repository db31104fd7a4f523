// SPDX-License-Identifier: MIT
#include "cli/check_support.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "util/error.hpp"
#include "util/exit_code.hpp"
#include "util/files.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <cstdio>

namespace rollback::cli {

int cmd_explain(const Args& args) {
    CommonOptions common;
    std::string id;
    bool now = false, last = false;
    po::options_description desc("rollback explain DECISION_ID|--now|--last");
    add_common_options(desc, common);
    desc.add_options()                                                                          //
        ("id", po::value(&id)->value_name("DECISION_ID"), "a record in <state_dir>/decisions/") //
        ("now", po::bool_switch(&now),
         "evaluate every condition now and explain (records it too)") //
        ("last", po::bool_switch(&last), "the newest decision record");
    po::positional_options_description pos;
    pos.add("id", 1);
    po::variables_map vm;
    if (!parse_options("explain", args, desc, pos, vm)) {
        return util::to_int(util::ExitCode::ok);
    }
    if (static_cast<int>(now) + static_cast<int>(last) + static_cast<int>(!id.empty()) != 1) {
        throw util::Error("explain: give one of DECISION_ID, --now, --last",
                          util::ExitCode::invalid);
    }
    config::Config cfg = load_rollback_config(common);
    auto state_dir = decision_state_dir(common, cfg);
    decision::DecisionRecord record;
    if (now) {
        record = evaluate_now(cfg, state_dir, std::chrono::system_clock::now());
        write_decision_record(state_dir, record);
    } else {
        auto dir = state_dir / "decisions";
        std::filesystem::path file;
        if (last) {
            // Record ids start with the UTC time, so the greatest name is the newest record.
            if (std::filesystem::is_directory(dir)) {
                for (const auto& e : std::filesystem::directory_iterator(dir)) {
                    if (e.path().extension() == ".json" && e.path().filename() > file.filename()) {
                        file = e.path();
                    }
                }
            }
            if (file.empty()) {
                throw util::Error("no decision records in " + dir.string(), util::ExitCode::invalid,
                                  "run 'rollback check' or 'rollback explain --now'");
            }
        } else {
            file = dir / (id + ".json");
            if (!std::filesystem::exists(file)) {
                throw util::Error("no decision record " + util::quoted(id) + " in " + dir.string(),
                                  util::ExitCode::invalid);
            }
        }
        record = decision::from_json(util::read_file(file));
    }
    if (common.json) {
        std::printf("%s\n", util::mask_secrets(decision::to_json(record)).c_str());
    } else {
        std::fputs(util::mask_secrets(decision::explain(record)).c_str(), stdout);
    }
    return util::to_int(util::ExitCode::ok);
}

} // namespace rollback::cli
