// SPDX-License-Identifier: MIT
// rollback validate [-c CONFIG] [FILE...] : every error in every file, nothing runs.
#include "cli/commands.hpp"
#include "cli/load.hpp"
#include "cli/options.hpp"
#include "config/config.hpp"
#include "util/error.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <cstdio>
#include <string>

namespace rollback::cli {

namespace {

// A rollback.toml alone: loaded and validated as the monitor would load it; no source is read,
// no playbook loaded, nothing from the environment used.
void validate_config(const std::string& f) {
    auto cfg = config::load(f);
    for (const auto& w : cfg.warnings) {
        std::fputs(util::terminal_text(util::format_diagnostic(w, "warning")).c_str(), stderr);
    }
    std::printf("%s: ok (config: %zu source%s, %zu condition%s)%s\n", f.c_str(), cfg.sources.size(),
                cfg.sources.size() == 1 ? "" : "s", cfg.conditions.size(),
                cfg.conditions.size() == 1 ? "" : "s",
                cfg.warnings.empty() ? ""
                                     : (", " + std::to_string(cfg.warnings.size()) + " warning" +
                                        (cfg.warnings.size() == 1 ? "" : "s"))
                                           .c_str());
}

void validate_playbook(const std::string& f, const std::map<std::string, std::string>& overrides) {
    // Without the deployment's environment (a CI job): an unset variable is a warning here and
    // an error at plan/run.
    auto pb = load_playbook(f, overrides, true);
    const size_t env_warnings = pb.warnings.size();
    // An https check that verifies nothing: valid, and worth a second look.
    for (const auto* list : {&pb.steps, &pb.finally}) {
        for (const auto& step : *list) {
            const auto* top = step.params.if_contains("insecure");
            const auto* wait = step.params.if_contains("wait_healthy");
            const auto* nested =
                wait && wait->is_object() ? wait->as_object().if_contains("insecure") : nullptr;
            for (auto [value, key] :
                 {std::pair{top, "insecure"}, std::pair{nested, "wait_healthy"}}) {
                if (value && value->is_bool() && value->as_bool()) {
                    auto at = step.param_where.find(key);
                    pb.warnings.push_back(
                        {at != step.param_where.end() ? at->second : step.where,
                         "step " + util::quoted(step.id),
                         "insecure = true: the server's certificate and name are not verified",
                         "trust a private CA with ca_file = \"...\" instead"});
                }
            }
        }
    }
    for (const auto& w : pb.warnings) {
        std::fputs(util::terminal_text(util::format_diagnostic(w, "warning")).c_str(), stderr);
    }
    std::printf("%s: ok (%zu steps, %zu finally)%s\n", f.c_str(), pb.steps.size(),
                pb.finally.size(),
                pb.warnings.empty() ? ""
                                    : (", " + std::to_string(pb.warnings.size()) + " warning" +
                                       (pb.warnings.size() == 1 ? "" : "s") +
                                       (env_warnings == pb.warnings.size()
                                            ? ": environment variables to set before plan/run"
                                            : ""))
                                          .c_str());
}

} // namespace

int cmd_validate(const Args& args) {
    CommonOptions common;
    std::vector<std::string> files;
    std::vector<std::string> vars;
    po::options_description desc("validate options");
    desc.add_options()("file", po::value(&files)->value_name("FILE"),
                       "playbook(s) or rollback.toml config(s) to check") //
        ("var", po::value(&vars)->value_name("NAME=VALUE"), "set a variable");
    add_common_options(desc, common);
    po::positional_options_description pos;
    pos.add("file", -1);
    po::variables_map vm;
    if (!parse_options("validate", args, desc, pos, vm)) {
        return 0;
    }
    if (files.empty() && common.config.empty()) {
        throw util::Error("validate: no file given", util::ExitCode::invalid,
                          "rollback validate PLAYBOOK... or rollback validate -c rollback.toml");
    }
    auto overrides = parse_var_overrides(vars);
    // -c names a config; a FILE is a config when its tables are rollback.toml's, else a playbook.
    std::vector<std::pair<std::string, bool>> inputs;
    if (!common.config.empty()) {
        inputs.emplace_back(common.config, true);
    }
    for (const auto& f : files) {
        inputs.emplace_back(f, config::looks_like_config(f));
    }
    bool all_ok = true;
    for (const auto& [f, is_config] : inputs) {
        try {
            if (is_config) {
                validate_config(f);
            } else {
                validate_playbook(f, overrides);
            }
        } catch (const util::InvalidInput& e) {
            all_ok = false;
            std::fputs(util::terminal_text(e.what()).c_str(), stderr);
            std::fprintf(stderr, "%s: %zu error%s\n", f.c_str(), e.diagnostics().size(),
                         e.diagnostics().size() == 1 ? "" : "s");
        } catch (const util::Error& e) {
            all_ok = false;
            std::fprintf(stderr, "rollback: error: %s\n", util::terminal_text(e.what()).c_str());
        }
    }
    return util::to_int(all_ok ? util::ExitCode::ok : util::ExitCode::invalid);
}

} // namespace rollback::cli
