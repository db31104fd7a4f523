// SPDX-License-Identifier: MIT
#include "cli/options.hpp"

#include "cli/command_help.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <pwd.h>
#include <unistd.h>
#include <utility>

namespace rollback::cli {

namespace {
thread_local DescriptionSink t_description_sink;
} // namespace

void set_description_sink(DescriptionSink sink) {
    t_description_sink = std::move(sink);
}

void add_common_options(po::options_description& desc, CommonOptions& common, unsigned which) {
    if ((which & use_config) != 0U) {
        desc.add_options()("config,c", po::value(&common.config)->value_name("FILE"),
                           "rollback.toml (default ./rollback.toml when present)");
    }
    if ((which & use_state_dir) != 0U) {
        desc.add_options()("state-dir", po::value(&common.state_dir)->value_name("DIR"),
                           "journals, locks, logs (else $ROLLBACK_STATE_DIR, the config's "
                           "state_dir, .rollback/ beside the playbook)");
    }
    if ((which & use_verbose) != 0U) {
        desc.add_options()("verbose,v", po::bool_switch(&common.verbose),
                           "also log to stderr and stream step output");
    }
    if ((which & use_json) != 0U) {
        desc.add_options()("json", po::bool_switch(&common.json),
                           "machine-readable output (JSON Lines); errors as one JSON object");
    }
    desc.add_options()("help,h", "show this help");
}

bool is_common_option(std::string_view long_name) {
    return long_name == "config" || long_name == "state-dir" || long_name == "verbose" ||
           long_name == "json" || long_name == "help";
}

bool parse_options(std::string_view command, const Args& args, po::options_description& desc,
                   const po::positional_options_description& positional, po::variables_map& vm) {
    if (t_description_sink) {
        t_description_sink(desc, positional);
        return false;
    }
    try {
        auto parsed = po::command_line_parser(args).options(desc).positional(positional).run();
        po::store(parsed, vm);
        if (vm.count("help") != 0U) {
            std::cout << command_help(command, desc, positional);
            return false;
        }
        po::notify(vm);
        // `-c ""` or `--state-dir ""` (a wrapper's unset variable) is not "not given": falling
        // through the rule to another state would run under another lock.
        for (const char* name : {"config", "state-dir"}) {
            if (auto it = vm.find(name); it != vm.end()) {
                const auto* text = boost::any_cast<std::string>(&it->second.value());
                if (text != nullptr && text->empty()) {
                    throw util::Error(std::string(command) + ": --" + name + ": empty path",
                                      util::ExitCode::invalid,
                                      std::string("name the ") +
                                          (std::string_view(name) == "config" ? "rollback.toml"
                                                                              : "state directory") +
                                          ", or leave the option out (docs/config.md \"The state "
                                          "directory\")");
                }
            }
        }
        // A reason is kept in journals and shown in every report: a sentence, not a file.
        if (auto it = vm.find("reason"); it != vm.end()) {
            const auto* text = boost::any_cast<std::string>(&it->second.value());
            if (text != nullptr && text->size() > k_max_reason_bytes) {
                throw util::Error(std::string(command) + ": --reason is " +
                                      std::to_string(text->size()) + " bytes, at most " +
                                      std::to_string(k_max_reason_bytes),
                                  util::ExitCode::invalid,
                                  "say why in a sentence; link to the incident for the rest");
            }
        }
    } catch (const po::unknown_option& e) {
        std::vector<std::string> names;
        for (const auto& o : desc.options()) {
            names.push_back("--" + o->long_name());
        }
        std::string guess = util::closest_match(e.get_option_name(), names);
        throw util::Error(std::string(command) + ": unknown option " + e.get_option_name() +
                              (guess.empty() ? "" : " (did you mean " + guess + "?)"),
                          util::ExitCode::invalid, "rollback help " + std::string(command));
    } catch (const po::error& e) {
        throw util::Error(std::string(command) + ": " + e.what(), util::ExitCode::invalid,
                          "rollback help " + std::string(command));
    }
    return true;
}

std::vector<std::string> split_list(const std::vector<std::string>& values) {
    std::vector<std::string> out;
    for (const auto& v : values) {
        for (const auto& part : util::split(v, ',')) {
            auto t = util::trim(part);
            if (!t.empty()) {
                out.emplace_back(t);
            }
        }
    }
    return out;
}

std::string current_user() {
    for (const char* var : {"SUDO_USER", "USER", "LOGNAME"}) {
        if (const char* v = std::getenv(var); v != nullptr && *v != '\0') {
            // Recorded in journals and shown to people: a name with a control character (a
            // newline forging a line of the run's output) is refused, not recorded.
            const std::string_view name(v);
            if (std::any_of(name.begin(), name.end(), [](char c) {
                    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
                })) {
                throw util::Error(
                    std::string("$") + var + " holds a control character: it cannot name a person",
                    util::ExitCode::invalid, std::string("set ") + var + " to your login name");
            }
            return v;
        }
    }
    if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr) {
        return pw->pw_name;
    }
    return "uid " + std::to_string(::getuid());
}

void start_logging(const std::filesystem::path& state_dir, bool verbose, std::string_view command) {
    log::init(state_dir / "rollback.log", {.verbose = verbose});
    log::info("rollback {} {} (pid {}, user {})", ROLLBACK_VERSION, command, ::getpid(),
              current_user());
}

} // namespace rollback::cli
