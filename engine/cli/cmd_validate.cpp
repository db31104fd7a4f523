// SPDX-License-Identifier: MIT
// rollback validate [-c CONFIG] [FILE...] : every error in every file, nothing runs.
#include "actions/load_parsed.hpp"
#include "cli/commands.hpp"
#include "cli/load.hpp"
#include "cli/options.hpp"
#include "cli/state_dir.hpp"
#include "config/classify.hpp"
#include "config/config.hpp"
#include "playbook/parsed_file.hpp"
#include "util/canonical_path.hpp"
#include "util/error.hpp"
#include "util/error_json.hpp"
#include "util/json_text.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <boost/json/serialize.hpp>
#include <cstdio>
#include <string>

namespace rollback::cli {

namespace {

// A rollback.toml: loaded and validated as the monitor would load it, with its [decision]
// playbook (load_decision_playbook); no source is read, nothing from the environment used.
// What validating one file found, for text or `--json`.
struct Checked {
    std::string kind;   ///< "config" | "playbook"
    std::string counts; ///< "config: 5 sources, 2 conditions" / "7 steps, 1 finally"
    boost::json::object numbers;
    std::vector<util::Diagnostic> warnings;
    std::string warnings_note; ///< appended to the count of warnings in text
};

Checked validate_config(const std::string& f) {
    auto cfg = config::load(f);
    if (cfg.no_playbook) {
        throw util::InvalidInput({*cfg.no_playbook});
    }
    if (const auto pb = load_decision_playbook(cfg)) {
        // The file's own state (validate reads nothing from the environment).
        refuse_state_in_releases({util::canonical_path(cfg.state_dir),
                                  "state_dir of " + cfg.file.string(),
                                  cfg.shared_state,
                                  {}},
                                 *pb);
    }
    Checked c{"config",
              "config: " + std::to_string(cfg.sources.size()) + " source" +
                  (cfg.sources.size() == 1 ? "" : "s") + ", " +
                  std::to_string(cfg.conditions.size()) + " condition" +
                  (cfg.conditions.size() == 1 ? "" : "s"),
              {{"sources", cfg.sources.size()}, {"conditions", cfg.conditions.size()}},
              cfg.warnings,
              {}};
    if (!cfg.alert_conditions.empty()) {
        const auto n = cfg.alert_conditions.size();
        c.counts += ", " + std::to_string(n) + " alert condition" + (n == 1 ? "" : "s");
        c.numbers["alert_conditions"] = n;
    }
    if (cfg.server) {
        c.counts += ", server on " + cfg.server->listen;
    }
    return c;
}

Checked validate_playbook(const std::string& f, const playbook::ParsedFile* parsed,
                          const std::map<std::string, std::string>& overrides) {
    // Without the deployment's environment (a CI job): an unset variable is a warning here and
    // an error at plan/run. From the parse that told it from a config, when the file was read.
    auto pb = parsed ? load_playbook(*parsed, overrides, true) : load_playbook(f, overrides, true);
    warn_secrets_on_command_line(pb);
    const size_t env_warnings = pb.warnings.size();
    pb.warnings.insert(pb.warnings.end(), pb.step_warnings.begin(), pb.step_warnings.end());
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
    return {"playbook",
            std::to_string(pb.steps.size()) + " steps, " + std::to_string(pb.finally.size()) +
                " finally",
            {{"steps", pb.steps.size()}, {"finally", pb.finally.size()}},
            pb.warnings,
            env_warnings == pb.warnings.size() ? ": environment variables to set before plan/run"
                                               : ""};
}

void print_text(const std::string& f, const Checked& c) {
    std::fputs(util::terminal_text(util::format_diagnostics(c.warnings, "warning")).c_str(),
               stderr);
    std::string line = f + ": ok (" + c.counts + ")";
    if (!c.warnings.empty()) {
        line += ", " + std::to_string(c.warnings.size()) + " warning" +
                (c.warnings.size() == 1 ? "" : "s") + c.warnings_note;
    }
    std::printf("%s\n", util::terminal_text(line).c_str());
}

// --json: one object per file on stdout: {file, kind, ok, <counts>, warnings, errors}.
void print_json(const std::string& f, const std::string& kind, const boost::json::object& numbers,
                const std::vector<util::Diagnostic>& warnings,
                const std::vector<util::Diagnostic>& errors, const std::string& message) {
    boost::json::object o{
        {"file", util::mask_secrets(f)}, {"kind", kind}, {"ok", errors.empty() && message.empty()}};
    for (const auto& [k, v] : numbers) {
        o[k] = v;
    }
    boost::json::array ws, es;
    for (const auto& w : warnings) {
        ws.push_back(util::diagnostic_json(w));
    }
    for (const auto& e : errors) {
        es.push_back(util::diagnostic_json(e));
    }
    if (errors.empty() && !message.empty()) {
        // Not read at all (missing, unreadable): the failure is an error like the others.
        util::Diagnostic d;
        d.where.file = f;
        d.problem = message;
        es.push_back(util::diagnostic_json(d));
    }
    o["warnings"] = std::move(ws);
    o["errors"] = std::move(es);
    if (!message.empty()) {
        o["message"] = util::mask_secrets(message);
    }
    std::printf("%s\n", util::json_text(o).c_str());
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
    add_common_options(desc, common, use_config | use_json);
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
    // -c names a config; a FILE is a config when its tables are rollback.toml's, else a playbook,
    // loaded from that same parse. A file that cannot be read is a playbook whose load says why.
    std::vector<std::string> inputs = files;
    if (!common.config.empty()) {
        inputs.insert(inputs.begin(), common.config);
    }
    bool all_ok = true;
    for (size_t i = 0; i < inputs.size(); ++i) {
        const std::string& f = inputs[i];
        std::shared_ptr<const playbook::ParsedFile> parsed;
        bool is_config = i == 0 && !common.config.empty();
        if (!is_config) {
            try {
                parsed = playbook::parse_file(f);
                is_config = config::looks_like_config(*parsed);
            } catch (const util::Error&) {
            }
        }
        const std::string kind = is_config ? "config" : "playbook";
        try {
            Checked c =
                is_config ? validate_config(f) : validate_playbook(f, parsed.get(), overrides);
            if (common.json) {
                print_json(f, c.kind, c.numbers, c.warnings, {}, {});
            } else {
                print_text(f, c);
            }
        } catch (const util::InvalidInput& e) {
            all_ok = false;
            if (common.json) {
                print_json(f, kind, {}, {}, e.diagnostics(), {});
                continue;
            }
            std::fputs(util::terminal_text(e.what()).c_str(), stderr);
            std::fprintf(stderr, "%s: %zu error%s\n", f.c_str(), e.diagnostics().size(),
                         e.diagnostics().size() == 1 ? "" : "s");
        } catch (const util::Error& e) {
            all_ok = false;
            if (common.json) {
                print_json(f, kind, {}, {}, {}, e.what());
                continue;
            }
            std::fprintf(stderr, "rollback: error: %s\n", util::terminal_text(e.what()).c_str());
            if (!e.hint().empty()) {
                std::fprintf(stderr, "  hint: %s\n", util::terminal_text(e.hint()).c_str());
            }
        }
    }
    return util::to_int(all_ok ? util::ExitCode::ok : util::ExitCode::invalid);
}

} // namespace rollback::cli
